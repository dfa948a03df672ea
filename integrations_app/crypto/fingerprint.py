"""A short keyed fingerprint of a secret: tells two keys apart without revealing either."""

from django.utils.crypto import salted_hmac

_SALT = "askpro-console.secret-fingerprint"


def fingerprint(secret: str) -> str:
    """HMAC-SHA256 of the secret under the console's own SECRET_KEY, first 12 hex digits."""
    digest = salted_hmac(_SALT, secret, algorithm="sha256").hexdigest()
    return f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}"


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
