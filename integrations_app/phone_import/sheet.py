"""The rows of an xlsx file's first worksheet, streamed with every bound checked as they come.

openpyxl's read-only mode cannot be bounded: it parses a sheet without a ``<dimension>`` in full
on opening (every ``<row/>`` kept in memory: 50 million empty rows took 4.4 GB), holds every
shared string as an object, and builds each cell's text before anyone can look at its length.
Here expat feeds handlers of our own, chunk by chunk: a cell longer than
``limits.max_cell_chars()`` stops the read at that cell, a row's cells past ``WIDTH`` are
counted, not kept, and only finished rows are held, a chunk's worth at a time. Cell values read
as openpyxl gave them (``data_only``): cached formula results, numbers without ".0", booleans
as 1/0, dates by their style.
"""

from collections.abc import Iterator

from openpyxl.utils.datetime import from_excel

from integrations_app.phone_import import limits
from integrations_app.phone_import.errors import cell_too_long, column_label
from integrations_app.phone_import.package import Package, unreadable
from integrations_app.phone_import.workbook import TextHandler, Workbook, open_workbook

# openpyxl padded each row to the sheet's widest column: a stray cell at column XFD made every
# row 16,384 cells. A phone-number table has seven columns; more are never read.
WIDTH = 64
_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main}",
    "http://purl.oclc.org/ooxml/spreadsheetml/main}",  # strict Open XML
)
_TAGS = {ns + tag: tag for ns in _NAMESPACES for tag in ("row", "c", "v", "is", "t", "rPh")}
_LETTERS: dict[str, int] = {}  # "AB" -> 28, filled as met (at most 18,278 entries)


def sheet_rows(data: bytes) -> "SheetRows":
    """The rows of the first worksheet of the xlsx file ``data`` (ImportFileError)."""
    package = Package(data)
    return SheetRows(package, open_workbook(package))


def cell_text(value) -> str:
    """A cell as the text a user sees: whole numbers without ".0", booleans as 1/0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SheetRows(TextHandler):
    """(row number, cells) for each ``<row>``; cells are ``WIDTH`` long, or empty for a row
    without text. ``overflow`` is the number of cells with text past ``WIDTH`` in the row
    last given (a header of made-up columns says how many there are)."""

    def __init__(self, package: Package, workbook: Workbook):
        super().__init__()
        self.package, self.workbook = package, workbook
        self.limit = limits.max_cell_chars()
        self.ready: list[tuple[int, list[str], int]] = []  # rows finished in the last chunk
        self.overflow = 0
        self.row = 0
        self._start_row(0)
        self.in_cell = self.in_value = self.inline = False
        self.kind, self.style, self.column, self.had_text = "n", None, 0, False
        self._rows = self._read()

    def __iter__(self):
        return self

    def __next__(self) -> tuple[int, list[str]]:
        return next(self._rows)

    def _read(self) -> Iterator[tuple[int, list[str]]]:
        chunks = self.package.chunks(self.workbook.sheet, limits.xlsx_max_unpacked())
        for _fed in self.feed(chunks):
            ready, self.ready = self.ready, []
            for number, cells, overflow in ready:
                self.overflow = overflow
                yield number, cells

    def _start_row(self, number: int) -> None:
        self.row = number
        self.cells: list[str] | None = None
        self.cell_count = self.row_overflow = self.column = 0

    # Expat calls these for each of the sheet's millions of elements: Handler's depth and
    # progress counting is done here, in the same call, not in a call more.
    def _start(self, name, attrs):
        self.depth += 1
        self.started += 1
        if self.depth > limits.XML_MAX_DEPTH:
            raise unreadable("xml_too_deep")
        tag = _TAGS.get(name)
        if tag == "c":
            self._start_cell(attrs)
        elif tag == "v":
            self.in_value = self.in_cell
        elif tag == "is":
            self.inline = self.in_cell
        elif tag == "row":
            number = _int(attrs.get("r"), self.row + 1)
            # Rows in order, within Excel's sheet: a row number again would be a row twice.
            if not self.row < number <= limits.XLSX_MAX_ROW:
                raise unreadable("xlsx_row_order")
            self._start_row(number)
        elif tag is not None and self.inline:
            self.start_text(tag)

    def _start_cell(self, attrs) -> None:
        ref = attrs.get("r")
        self.column = _column(ref) if ref else self.column + 1
        self.cell_count += 1
        if self.column > limits.XLSX_MAX_COLUMN or self.cell_count > limits.XLSX_MAX_COLUMN:
            raise unreadable("xlsx_too_wide")
        self.kind = attrs.get("t", "n")
        self.style = attrs.get("s")  # read only for a number: a date is a number with a style
        self.in_cell, self.had_text = True, False
        self.parts, self.length = [], 0

    def text(self, data):
        if not (self.in_value or (self.inline and self.in_text)):
            return
        self.had_text = True
        if self.column > WIDTH:
            return  # never read: only counted
        self.length += len(data)
        if self.length > self.limit:
            raise cell_too_long(self.row, column_label(self.column - 1), self.limit)
        self.parts.append(data)

    def _end(self, name):
        self.depth -= 1
        tag = _TAGS.get(name)
        if tag == "c":
            self._end_cell()
        elif tag == "v":
            self.in_value = False
        elif tag == "is":
            self.inline = False
        elif tag == "row":
            self.ready.append((self.row, self.cells or [], self.row_overflow))
        elif tag is not None and self.inline:
            self.end_text(tag)

    def _end_cell(self) -> None:
        self.in_cell = self.in_value = self.inline = False
        if self.column > WIDTH:
            self.row_overflow += self.had_text
            return
        value = self._value(self.take())
        if value:
            if self.cells is None:
                self.cells = [""] * WIDTH
            self.cells[self.column - 1] = value

    def _value(self, raw: str) -> str:
        kind = self.kind
        if kind == "inlineStr" or not raw:
            return raw
        if kind == "s":
            try:
                return self.workbook.strings[int(raw)]
            except (ValueError, IndexError):
                raise unreadable("xlsx_string_index") from None
        if kind == "b":
            return raw if not raw.strip().isdigit() else cell_text(bool(int(raw)))
        if kind == "n":
            return self._number(raw)
        return raw  # "str" (a formula's text), "e" (#N/A and the like), "d" (ISO date)

    def _number(self, raw: str) -> str:
        if self.style is None and raw.isdigit() and (raw[0] != "0" or len(raw) == 1):
            return raw  # a whole number without a style: the text is what int() would give
        try:
            value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
        except ValueError:
            return raw
        dates, style = self.workbook, _int(self.style, 0)
        if style in dates.dates or style in dates.durations:
            try:
                duration = style in dates.durations
                value = from_excel(value, dates.epoch, timedelta=duration)
            except (OverflowError, ValueError):
                return "#VALUE!"  # what openpyxl made of a date out of range
        return cell_text(value)


def _column(ref: str) -> int:
    letters = ref.rstrip("0123456789").upper()
    column = _LETTERS.get(letters)
    if column is None:
        if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()):
            raise unreadable("xlsx_cell_reference")
        column = 0
        for letter in letters:
            column = column * 26 + ord(letter) - 64
        _LETTERS[letters] = column
    return column


def _int(text, default: int) -> int:
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise unreadable("xlsx_number_attribute") from None
