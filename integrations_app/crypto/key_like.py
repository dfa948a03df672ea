"""Telling a secret in plain JSON, by its value or by its name: used by the integration form,
the write services, the audit and the error reports."""

import json
import re

# Values that look like provider keys whatever their name, and names under which a long opaque
# string is a secret.
KEY_PREFIX = re.compile(r"\A(cal_|key_|sk_|rk_|pk_live_|whsec_)\S{8,}\Z")
BEARER = re.compile(r"\ABearer\s+\S{8,}\Z", re.IGNORECASE)
OPAQUE = re.compile(r"\A(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/_\-]{24,}={0,2})\Z")
KEYISH_NAME = re.compile(r"key|secret|token|password|passwd|auth|credential|bearer", re.I)

# Names of secrets, by word ("client_secret", "X-Api-Key", "apiKey", "password2"). A name whose
# last word only describes a secret ("token_url", "token_type", "password_policy") is not one:
# OAuth configurations need those in plain text.
SECRET_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "credential",
        "passphrase",
        "passwd",
        "password",
        "privatekey",
        "pwd",
        "secret",
        "token",
    }
)
# "key" names a secret only as the last word: "api_key", "private_key", "key"; not "key_id".
KEY_WORDS = frozenset({"key"})
DESCRIBING_WORDS = frozenset(
    {
        "at",
        "endpoint",
        "expiration",
        "expires",
        "expiry",
        "field",
        "length",
        "lifetime",
        "name",
        "param",
        "path",
        "policy",
        "ttl",
        "type",
        "uri",
        "url",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_LETTERS = re.compile(r"[^a-z]+")


def _words(name: str) -> list[str]:
    words = [w for w in _NOT_LETTERS.split(_CAMEL.sub(" ", str(name)).lower()) if w]
    # Plurals name the same thing: "credentials", "api_keys", "secrets".
    return [w[:-1] if w[:-1] in SECRET_WORDS | KEY_WORDS and w.endswith("s") else w for w in words]


def secret_name(name) -> bool:
    """The name (a JSON key, a form field) is one under which a secret is kept."""
    words = _words(name)
    if not words or words[-1] in DESCRIBING_WORDS:
        return False
    return words[-1] in KEY_WORDS or any(w in SECRET_WORDS for w in words)


def key_like(name: str, value: str) -> bool:
    value = value.strip()
    if KEY_PREFIX.match(value) or BEARER.match(value):
        return True
    return bool(KEYISH_NAME.search(name)) and bool(OPAQUE.match(value))


def secret_paths(data, path: str = "") -> list[tuple[str, object]]:
    """(JSON path, value) of everything in a decoded JSON document that plain JSON must not
    hold: each key named like a secret, at any depth and whatever its value (its contents are
    not searched further), and each key-like string under another name."""
    found = []
    if isinstance(data, dict):
        for name, value in data.items():
            child = f"{path}.{name}" if path else str(name)
            if secret_name(name):
                found.append((child, value))
            elif isinstance(value, (dict, list)):
                found.extend(secret_paths(value, child))
            elif isinstance(value, str) and key_like(str(name), value):
                found.append((child, value))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(secret_paths(value, f"{path}[{index}]"))
    elif isinstance(data, str) and key_like(path.rsplit(".", 1)[-1], data):
        found.append((path, data))
    return found


def as_text(value) -> str:
    """A found value as one string (for its fingerprint): JSON for anything but a string."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
