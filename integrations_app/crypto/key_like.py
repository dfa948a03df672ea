"""Telling a key-like value in plain JSON: used by the integration form and the audit."""

import re

# Values that look like provider keys whatever their name, and names under which a long opaque
# string is a secret.
KEY_PREFIX = re.compile(r"\A(cal_|key_|sk_|rk_|pk_live_|whsec_)\S{8,}\Z")
BEARER = re.compile(r"\ABearer\s+\S{8,}\Z", re.IGNORECASE)
OPAQUE = re.compile(r"\A(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/_\-]{24,}={0,2})\Z")
KEYISH_NAME = re.compile(r"key|secret|token|password|passwd|auth|credential|bearer", re.I)


def key_like(name: str, value: str) -> bool:
    value = value.strip()
    if KEY_PREFIX.match(value) or BEARER.match(value):
        return True
    return bool(KEYISH_NAME.search(name)) and bool(OPAQUE.match(value))


def key_like_paths(data, path: str = "") -> list[tuple[str, str]]:
    """(JSON path, value) of every key-like string in a decoded JSON document."""
    found = []
    if isinstance(data, str):
        if key_like(path.rsplit(".", 1)[-1], data):
            found.append((path, data))
    elif isinstance(data, dict):
        for name, value in data.items():
            child = f"{path}.{name}" if path else str(name)
            if isinstance(value, str):
                if key_like(str(name), value):
                    found.append((child, value))
            else:
                found.extend(key_like_paths(value, child))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            child = f"{path}[{index}]"
            if isinstance(value, str):
                if key_like(path.rsplit(".", 1)[-1], value):
                    found.append((child, value))
            else:
                found.extend(key_like_paths(value, child))
    return found
