"""A row id as a person types it (a URL, a list filter, a command option).

ASCII digits only ("²".isdigit() is true, int("²") fails) and within a bigint: a larger number
overflows SQLite's integer (an error page, not "no such row").
"""

MAX_ID = 2**63 - 1
MAX_DIGITS = len(str(MAX_ID))


def parse_id(text) -> int | None:
    """The id ``text`` names, or None when it is no id."""
    text = str(text)
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
