"""PHP's serialize() for strings, as Laravel's encrypt() wraps a value: `s:<bytes>:"<value>";`.

Only strings are accepted when unserializing; any other serialized type (arrays, objects,
integers) is refused, never evaluated.
"""

import re

from integrations_app.crypto.errors import DecryptionError

_STRING = re.compile(rb'\As:(\d+):"(.*)";\Z', re.DOTALL)


def serialize(value: str) -> bytes:
    data = value.encode("utf-8")
    return b's:%d:"%s";' % (len(data), data)


def is_serialized_string(data: bytes) -> bool:
    match = _STRING.match(data)
    return bool(match) and int(match.group(1)) == len(match.group(2))


def unserialize(data: bytes) -> str:
    match = _STRING.match(data)
    if not match or int(match.group(1)) != len(match.group(2)):
        raise DecryptionError("not_a_string" if data[:2] in _OTHER_TYPES else "wrong_flavour")
    try:
        return match.group(2).decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("not_text") from None


# Prefixes of PHP's other serialized types: i:, d:, b:, a:, O:, C:, N;, E:, r:, R:
_OTHER_TYPES = {b"i:", b"d:", b"b:", b"a:", b"O:", b"C:", b"N;", b"E:", b"r:", b"R:"}
