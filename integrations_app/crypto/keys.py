"""The gateway's APP_KEY and APP_PREVIOUS_KEYS, parsed as Laravel parses them."""

import base64
import binascii

from django.conf import settings
from django.utils.translation import gettext as _

from integrations_app.crypto.errors import GatewayKeyError

KEY_BYTES = 32  # AES-256-CBC


def parse_app_key(text: str, name: str = "GATEWAY_APP_KEY") -> bytes:
    """`base64:<44 characters>` (or a raw 32-character key) to the 32 key bytes."""
    text = (text or "").strip()
    if not text:
        raise GatewayKeyError(_("%(name)s is not set") % {"name": name})
    if text.startswith("base64:"):
        try:
            key = base64.b64decode(text[7:], validate=True)
        except (binascii.Error, ValueError):
            raise GatewayKeyError(
                _("%(name)s is not valid base64 after 'base64:'") % {"name": name}
            ) from None
    else:
        key = text.encode("utf-8")
    if len(key) != KEY_BYTES:
        raise GatewayKeyError(
            _("%(name)s must decode to 32 bytes for AES-256-CBC, not %(length)d")
            % {"name": name, "length": len(key)}
        )
    return key


def configured_keys() -> tuple[bytes, list[bytes]]:
    """The current key and the previous keys from the settings; GatewayKeyError if unusable."""
    current = parse_app_key(settings.GATEWAY_APP_KEY)
    previous = [
        parse_app_key(text, f"GATEWAY_PREVIOUS_KEYS[{index}]")
        for index, text in enumerate(settings.GATEWAY_PREVIOUS_KEYS)
    ]
    return current, previous
