"""The one error type for every value that cannot be decrypted, and the one for bad keys."""

from django.utils.translation import gettext_lazy as _

REASONS = {
    "not_base64": _("the value is not base64"),
    "not_json": _("the value is not a Laravel payload (no JSON inside)"),
    "missing_field": _("the payload lacks iv, value or mac"),
    "bad_iv": _("the payload's IV is not 16 bytes"),
    "bad_tag": _("the payload carries an AEAD tag, which AES-256-CBC does not use"),
    "mac_mismatch": _("cannot be decrypted with the current keys (MAC mismatch)"),
    "bad_padding": _("the decrypted data has invalid padding"),
    "not_text": _("the decrypted data is not UTF-8 text"),
    "wrong_flavour": _("the value is stored in the other encryption flavour"),
    "not_a_string": _("the serialized value is not a PHP string"),
}


class DecryptionError(ValueError):
    """A stored value that cannot be decrypted; `reason` is one of REASONS' keys.

    Raised for every malformed payload, wrong key and wrong flavour, so callers catch exactly one
    type and show `message` to the user. It never carries the plaintext or the key.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)

    @property
    def message(self) -> str:
        return str(REASONS[self.reason])


class GatewayKeyError(ValueError):
    """GATEWAY_APP_KEY or GATEWAY_PREVIOUS_KEYS is missing or not a Laravel AES-256 key."""
