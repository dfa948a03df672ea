"""What can be wrong with an import: the file as a whole, or one cell of one row."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations_app.labels import quoted

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters no table cell holds: C0 but tab, line feed and carriage return (a
# description may span lines), DEL and C1. NUL ends strings in C code that reads the database.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SHOWN_CHARS = 60  # of a cell or header quoted in a message


class ImportFileError(Exception):
    """The file cannot be read as a phone-number table: one clear message, nothing is checked.

    ``code`` is a stable reason (for tests and logs); the message is in the user's language.
    """

    default_code = "unreadable"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code or self.default_code


class ImportConflict(ImportFileError):
    """The numbers changed while the import wrote them: nothing was written, check again."""

    default_code = "conflict"


@dataclass(frozen=True)
class RowError:
    """One reason a row cannot be imported, where a user finds it in the spreadsheet.

    ``row`` is the spreadsheet's own row number (the header is row 1); ``column`` is the header
    as written in the file (or the column's name when the file has no such column).
    """

    row: int
    column: str
    message: str


class ReasonRequired(ValueError):
    """A reason is required for every change (``settings.CHANGE_REASON_REQUIRED``) and the
    import has none: nothing is written."""


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """Cell text as a message quotes it: control characters as U+XXXX, cut after ``limit``
    characters (a message stays one short line, whatever the cell holds)."""
    cut = text[:limit] + "…" if len(text) > limit else text
    return CONTROL.sub(lambda m: f"U+{ord(m.group()):04X}", cut)


def column_letter(position: int) -> str:
    """The spreadsheet's name of the column at ``position`` (0 is A), as Excel shows a CSV too."""
    letters = ""
    number = position + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_too_long(row: int, column: str, limit: int) -> ImportFileError:
    """``column``: as ``column_label`` names it."""
    return ImportFileError(
        _("Row %(row)d, column %(column)s has more than %(limit)d characters, more than any "
          "phone-number table needs: shorten the cell and upload the file again.")
        % {"row": row, "column": column, "limit": limit},
        "cell_too_long",
    )  # fmt: skip


def control_character(row: int, column: str, char: str, others: int) -> ImportFileError:
    message = _(
        "Row %(row)d, column %(column)s contains the control character %(char)s, which a "
        "phone-number table cannot hold: remove it and upload the file again."
    ) % {"row": row, "column": column, "char": f"U+{ord(char):04X}"}
    if others:
        message += " " + ngettext(
            "%(count)d more cell contains control characters.",
            "%(count)d more cells contain control characters.",
            others,
        ) % {"count": others}
    return ImportFileError(message, "control_character")


def column_label(position: int, header: str = "") -> str:
    """A column as a message names it: the letter Excel shows, and its header when known."""
    letter = column_letter(position)
    return f"{letter} ({quoted(shown(header))})" if header.strip() else letter
