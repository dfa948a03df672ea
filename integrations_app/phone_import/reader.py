"""Reading a phone-number file as people have it: CSV from Excel or elsewhere, or XLSX.

CSV: comma, semicolon (German Excel) or tab, detected from the header line; UTF-8 with or
without BOM, UTF-16 (Excel's "Unicode text") or UTF-32 by their BOM, UTF-16 without one by its
zero bytes, else Windows-1252; quoted fields; empty lines skipped (their row numbers still
count). XLSX: the first worksheet, streamed (sheet.py) after the package is checked
(package.py). The header is the first non-empty row. Row numbers are the spreadsheet's own, so a
user finds a row at once.

``read_table`` reads the file once through, with every bound (limits.py): rows, empty rows,
cell length, control characters. So a hostile file is refused before any row is checked
against the database. The rows are streamed, not held: ``Table.rows()`` reads them afresh each
time (a CSV from its bytes, an xlsx sheet from the rows kept on that first read, spool.py).
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations_app.phone_import import limits
from integrations_app.phone_import.columns import map_headers
from integrations_app.phone_import.errors import (
    CONTROL,
    ImportFileError,
    cell_too_long,
    column_label,
    control_character,
)
from integrations_app.phone_import.sheet import WIDTH, cell_text, sheet_rows
from integrations_app.phone_import.spool import RowSpool
from integrations_app.phone_import.text import csv_encoding

_ZIP = b"PK\x03\x04"
# The separators a CSV's header line is searched for, as the upload page names them.
DELIMITER_NAMES = {
    ";": gettext_lazy("semicolon"),
    ",": gettext_lazy("comma"),
    "\t": gettext_lazy("tab"),
}
_DELIMITERS = tuple(DELIMITER_NAMES)
EMPTY_ROWS_ALLOWED = 10_000  # beyond twice the row limit
XLSX_MAX_COLUMNS = WIDTH
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
    too_long_found: bool = False  # the first read found more than max_rows rows

    def rows(self) -> Records:
        """The data rows below the header with their spreadsheet row numbers (ImportFileError
        when there are more than ``max_rows``: known before the first row is given)."""
        if self.too_long_found:
            raise self.too_long()
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
            % {"limit": self.max_rows},
            "too_many_rows",
        )

    @property
    def read_positions(self) -> list[int]:
        """The positions of the columns the import reads, in the file's order: not the empty
        ones an xlsx sheet pads a row with, nor the added columns of an errors CSV."""
        return sorted(self.positions.values())

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
    max_bytes = max_bytes or limits.max_bytes()
    max_rows = max_rows or limits.max_rows()
    if len(data) > max_bytes:
        raise ImportFileError(
            _("The file is larger than %(limit)s: split it into smaller files.")
            % {"limit": limits.shown_size(max_bytes)},
            "too_large",
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."), "empty")
    if data.startswith(_ZIP):
        return _table(lambda: sheet_rows(data), ",", max_rows, spool=True)
    encoding = csv_encoding(data)
    delimiter = _delimiter(data[:_HEAD].decode(encoding, errors="ignore"))
    return _table(lambda: _csv_records(data, encoding, delimiter), delimiter, max_rows)


def _csv_records(data: bytes, encoding: str, delimiter: str) -> Records:
    # Decoded as it is read: the text of the whole file is never held at once.
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, 1):  # noqa: B007 (number: where an error is)
            yield number, cells
    except csv.Error as error:
        if "field larger than field limit" in str(error):  # csv's own bound, 128 Ki chars
            raise ImportFileError(
                _("Row %(row)d has a cell of more than %(limit)d characters, more than any "
                  "phone-number table needs: shorten the cell and upload the file again.")
                % {"row": number + 1, "limit": limits.max_cell_chars()},
                "cell_too_long",
            ) from None  # fmt: skip
        raise ImportFileError(
            _("The file cannot be read as CSV: %(error)s") % {"error": error}, "csv"
        ) from None


def table_from_rows(headers, rows, *, max_rows: int | None = None) -> Table:
    """A table of rows already in memory (a tablib Dataset): the header is row 1."""
    header = [cell_text(cell) for cell in headers or ()]
    data = [[cell_text(cell) for cell in row] for row in rows]
    if not any(cell.strip() for cell in header):
        raise ImportFileError(_("The file is empty."), "empty")
    records = lambda: enumerate([header, *data], 1)  # noqa: E731
    return _table(records, ",", max_rows or limits.max_rows())


def _delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of ; , and tab (a tie: comma)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _table(records: Callable[[], Records], delimiter: str, max_rows: int, *, spool=False):
    """The header (the first non-empty row), then every row read once with every bound; with
    ``spool`` the rows are kept for the table's later reads (an xlsx sheet is slow to read)."""
    rows = records()
    cells_check = _CellCheck()
    table, counted = None, 0
    kept = RowSpool() if spool else None
    for number, cells in rows:
        if table is None:
            if number > EMPTY_ROWS_ALLOWED:
                break  # no header in the first rows: nothing a person would call a table
            if _blank(cells):
                continue
            cells_check.check(number, cells[: limits.HEADER_MAX_CELLS], [])
            cells_check.raise_found()  # before the header is read as names
            table = _header(cells, number, records, max_rows, delimiter, rows)
            continue
        cells_check.check(number, cells[: len(table.headers)], table.headers)
        # Empty rows count by their number: endless empty rows make a file too long too.
        if number - table.header_row > 2 * max_rows + EMPTY_ROWS_ALLOWED:
            table.too_long_found = True
            break
        if _blank(cells):
            continue
        counted += 1
        if counted > max_rows:
            table.too_long_found = True
            break
        if kept is not None:
            kept.add(number, cells)
    if table is None:
        raise ImportFileError(_("The file is empty."), "empty")
    cells_check.raise_found()
    if not counted:
        raise ImportFileError(_("The file has a header row but no rows to import."), "no_rows")
    if kept is not None:
        table.records = kept.records
    return table


def _blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()  # one call, not one per cell: rows come by the 100,000


def _header(cells, number, records, max_rows, delimiter, rows) -> Table:
    headers = [cell.strip() for cell in cells[: limits.HEADER_MAX_CELLS]]
    # Header cells past those read: cells past the first thousand of a CSV, cells past
    # sheet.WIDTH of an xlsx row (the sheet counts them).
    unread = sum(1 for cell in cells[limits.HEADER_MAX_CELLS :] if cell.strip())
    unread += getattr(rows, "overflow", 0)
    return Table(
        headers=headers,
        positions=map_headers(headers, unread=unread),
        records=records,
        header_row=number,
        max_rows=max_rows,
        delimiter=delimiter,
    )


class _CellCheck:
    """Every imported cell (those under a header) within the length bound and free of control
    characters; the first cell with a control character is named, the others counted."""

    def __init__(self):
        self.limit = limits.max_cell_chars()
        self.found: tuple[int, str, str] | None = None
        self.others = 0

    def check(self, number: int, cells: list[str], headers: list[str]) -> None:
        joined = "".join(cells)
        if len(joined) <= self.limit and not CONTROL.search(joined):
            return  # the common case: one test for the whole row
        for position, cell in enumerate(cells):
            header = headers[position] if position < len(headers) else ""
            if len(cell) > self.limit:
                raise cell_too_long(number, column_label(position, header), self.limit)
            control = CONTROL.search(cell)
            if control and self.found is None:
                self.found = (number, column_label(position, header), control.group())
            elif control:
                self.others += 1

    def raise_found(self) -> None:
        if self.found is not None:
            raise control_character(*self.found, self.others)
