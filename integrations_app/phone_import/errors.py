"""What can be wrong with an import: the file as a whole, or one cell of one row."""

from dataclasses import dataclass

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(Exception):
    """The file cannot be read as a phone-number table: one clear message, nothing is checked."""


class ImportConflict(ImportFileError):
    """The numbers changed while the import wrote them: nothing was written, check again."""


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
