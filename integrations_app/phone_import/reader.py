"""Reading a phone-number file as people have it: CSV from Excel or elsewhere, or XLSX.

CSV: comma or semicolon (German Excel), detected from the header line; UTF-8 with or without
BOM, else Windows-1252; quoted fields; empty lines skipped (their row numbers still count).
XLSX: the first worksheet, read with openpyxl. The header is the first non-empty row. Row
numbers are the spreadsheet's own, so a user finds a row at once.

The rows are streamed, not held: ``Table.rows()`` reads them afresh from the file each time it
is called, so the memory an import needs does not grow with the cells of the file.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError  # noqa: S405 (only its exception)

from django.conf import settings
from django.utils.translation import gettext as _

from integrations_app.phone_import.columns import map_headers
from integrations_app.phone_import.errors import ImportFileError

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary Excel format (.xls)
_DELIMITERS = (";", ",", "\t")
EMPTY_ROWS_ALLOWED = 10_000  # beyond twice the row limit
_HEAD = 64 * 1024  # bytes decoded at a time; the header line is within the first of them


Records = Iterator[tuple[int, list[str]]]  # (row number, cells), empty rows included


@dataclass
class Table:
    """The header as written, where each known column is, and a way to read the data rows."""

    headers: list[str]
    positions: dict[str, int]  # column key -> position in a row
    records: Callable[[], Records]  # a fresh reader over every record of the file
    header_row: int = 1
    max_rows: int = 0
    delimiter: str = ","

    def rows(self) -> Records:
        """The data rows below the header with their spreadsheet row numbers (ImportFileError
        when there are more than ``max_rows``)."""
        count = 0
        for number, cells in self.records():
            # Empty rows are skipped but still read: a file of endless empty rows is too long.
            if number - self.header_row > 2 * self.max_rows + EMPTY_ROWS_ALLOWED:
                raise self.too_long()
            if number <= self.header_row or not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > self.max_rows:
                raise self.too_long()
            yield number, cells

    def too_long(self) -> ImportFileError:
        return ImportFileError(
            _("The file has more than %(limit)d rows: split it into smaller files.")
            % {"limit": self.max_rows}
        )

    def header_of(self, key: str) -> str | None:
        position = self.positions.get(key)
        return None if position is None else self.headers[position].strip()

    def cell(self, cells: list[str], key: str) -> str:
        position = self.positions.get(key)
        if position is None or position >= len(cells):
            return ""
        return cells[position].strip()


def read_table(data: bytes, *, max_bytes: int | None = None, max_rows: int | None = None) -> Table:
    """The table in ``data`` (the bytes of a CSV or XLSX file), or ImportFileError."""
    max_bytes = max_bytes or settings.PHONE_IMPORT_MAX_BYTES
    max_rows = max_rows or settings.PHONE_IMPORT_MAX_ROWS
    if len(data) > max_bytes:
        raise ImportFileError(
            _("The file is larger than %(limit)s: split it into smaller files.")
            % {"limit": _size(max_bytes)}
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(_ZIP):
        records = lambda: _xlsx_records(data)  # noqa: E731
        delimiter = ","
    elif data.startswith(_OLE2):
        raise ImportFileError(
            _("This is an old Excel file (.xls): save it as .xlsx or as CSV and upload it again.")
        )
    else:
        encoding = _encoding(data)
        delimiter = _delimiter(data[:_HEAD].decode(encoding, errors="ignore"))
        records = lambda: _csv_records(data, encoding, delimiter)  # noqa: E731
    return _table(records, delimiter, max_rows)


def _csv_records(data: bytes, encoding: str, delimiter: str) -> Records:
    # Decoded as it is read: the text of the whole file is never held at once.
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        yield from enumerate(reader, 1)
    except csv.Error as error:
        raise ImportFileError(
            _("The file cannot be read as CSV: %(error)s") % {"error": error}
        ) from None


def table_from_rows(headers, rows, *, max_rows: int | None = None) -> Table:
    """A table of rows already in memory (a tablib Dataset): the header is row 1."""
    header = [_cell_text(cell) for cell in headers or ()]
    data = [[_cell_text(cell) for cell in row] for row in rows]
    if not any(cell.strip() for cell in header):
        raise ImportFileError(_("The file is empty."))
    records = lambda: enumerate([header, *data], 1)  # noqa: E731
    return _table(records, ",", max_rows or settings.PHONE_IMPORT_MAX_ROWS)


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MiB"
    return f"{limit / 1024:g} KiB" if limit >= 1024 else f"{limit} B"


def _encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; checked piece by piece, not held."""
    if b"\x00" in data[:4096]:
        raise ImportFileError(_("This is not a CSV or Excel (.xlsx) file."))
    if _decodes(data, "utf-8-sig"):
        return "utf-8-sig"
    if not _decodes(data, "cp1252"):
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1252 text: save it as CSV (UTF-8).")
        )
    if any(ch < " " and ch not in "\t\r\n" for ch in data[:4096].decode("cp1252")):
        raise ImportFileError(_("This is not a CSV or Excel (.xlsx) file."))
    return "cp1252"


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), _HEAD):
            decoder.decode(data[start : start + _HEAD])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of ; , and tab (a tie: comma)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


# What a damaged workbook raises, in openpyxl or below it (zip, XML).
_BROKEN_XLSX = (
    zipfile.BadZipFile,
    ParseError,
    KeyError,
    IndexError,
    OSError,
    ValueError,
    TypeError,
)
# openpyxl pads each row to the sheet's widest column: a stray cell at column XFD would make
# every row 16,384 cells. A phone-number table has seven columns; more are never read.
XLSX_MAX_COLUMNS = 64


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0] if workbook.worksheets else None
    except _BROKEN_XLSX:
        raise _unreadable_xlsx() from None
    if sheet is None:
        raise ImportFileError(_("The file is empty."))

    def records():
        try:
            rows = sheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS)
            for number, values in enumerate(rows, 1):
                yield number, [_cell_text(v) for v in values]
        except _BROKEN_XLSX:
            raise _unreadable_xlsx() from None
        finally:
            workbook.close()

    return records()


def _unreadable_xlsx() -> ImportFileError:
    return ImportFileError(
        _("The file looks like an Excel file but cannot be read: save it again as .xlsx.")
    )


def _cell_text(value) -> str:
    """An Excel cell as the text a user sees: whole numbers without ".0", booleans as 1/0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(records: Callable[[], Records], delimiter: str, max_rows: int) -> Table:
    """The header (the first non-empty row) and a check that at least one row follows it."""
    table = None
    for number, cells in records():
        if table is None and number > EMPTY_ROWS_ALLOWED:
            break  # no header in the first rows: nothing a person would call a table
        if not any(cell.strip() for cell in cells):
            continue
        if table is None:
            headers = [cell.strip() for cell in cells]
            table = Table(
                headers=headers,
                positions=map_headers(headers),
                records=records,
                header_row=number,
                max_rows=max_rows,
                delimiter=delimiter,
            )
            continue
        return table
    if table is None:
        raise ImportFileError(_("The file is empty."))
    raise ImportFileError(_("The file has a header row but no rows to import."))
