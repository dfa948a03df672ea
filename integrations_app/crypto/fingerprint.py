"""A short keyed fingerprint of a secret: tells two keys apart without revealing either."""

from django.utils.crypto import salted_hmac

_SALT = "askpro-console.secret-fingerprint"


def fingerprint(secret: str) -> str:
    """HMAC-SHA256 of the secret under the console's own SECRET_KEY, first 12 hex digits."""
    digest = salted_hmac(_SALT, secret, algorithm="sha256").hexdigest()
    return f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}"
