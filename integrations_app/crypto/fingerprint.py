"""A short keyed fingerprint of a secret: tells two keys apart without revealing either."""

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "askpro-console.secret-fingerprint"


def fingerprint(secret: str) -> str:
    """HMAC-SHA256 of the secret under the console's own SECRET_KEY, first 12 hex digits."""
    digest = salted_hmac(_SALT, secret, algorithm="sha256").hexdigest()
    return f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}"


def fingerprint_digest(secret: str) -> int:
    """The first 8 bytes of fingerprint()'s HMAC as a signed 64-bit int: what the audit keeps
    of a key to tell it from the others (the same key, the same int; another key, another int
    but with a chance of 2**-64), and fingerprint_of() turns back into the key's fingerprint."""
    return fingerprint_digester()(secret)


def fingerprint_digester() -> Callable[[str], int]:
    """fingerprint_digest() for many secrets: salted_hmac's key derived once (it hashes salt
    and SECRET_KEY on every call; the audit digests every stored key)."""
    keyed = _keyed(settings.SECRET_KEY)
    from_bytes = int.from_bytes

    def digest(secret: str) -> int:
        mac = keyed.copy()
        mac.update(secret.encode("utf-8"))
        return from_bytes(mac.digest()[:8], "big", signed=True)

    return digest


def fingerprint_of(digest: int) -> str:
    """fingerprint() of the secret that fingerprint_digest() turned into ``digest``."""
    text = digest.to_bytes(8, "big", signed=True).hex()
    return f"{text[:4]}-{text[4:8]}-{text[8:12]}"


@lru_cache(maxsize=4)
def _keyed(secret_key: str):
    # As django.utils.crypto.salted_hmac builds it: HMAC-SHA256 under sha256(salt + secret).
    key = hashlib.sha256(_SALT.encode("utf-8") + secret_key.encode("utf-8")).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def stored_fingerprint(stored: str | None, flavour: str, encrypter=None) -> str | None:
    """How a stored secret appears in the history: its fingerprint, never the value.

    ``flavour`` is the column's (``GatewayModel.SECRET_COLUMNS``); a Laravel payload is opened
    with ``encrypter`` (from the settings when not given). None for an empty column; "set"
    when no gateway key is configured; "unreadable (reason)" when no key opens it.
    """
    from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
    from integrations_app.crypto.errors import DecryptionError, GatewayKeyError

    if stored is None or stored == "":
        return None
    if not isinstance(stored, str):  # a JSON column: fingerprint its text
        import json

        stored = json.dumps(stored, sort_keys=True)
    if flavour not in (RAW, SERIALIZED):
        return fingerprint(stored)
    if encrypter is None:
        try:
            encrypter = Encrypter.from_settings()
        except GatewayKeyError:
            return "set"
    try:
        value = encrypter.decrypt_string(stored) if flavour == RAW else encrypter.decrypt(stored)
        key_index = encrypter.inspect(stored).key_index
    except DecryptionError as error:
        return f"unreadable ({error.reason})"
    if key_index:  # opened by a previous key: rotation changes this part only
        return f"{fingerprint(value)} (GATEWAY_PREVIOUS_KEYS[{key_index - 1}])"
    return fingerprint(value)
