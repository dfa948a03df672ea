"""Where an xlsx file keeps its first sheet, its shared strings and which styles are dates.

Found the way Excel and openpyxl find them: the package's relationships name the workbook, the
workbook names its sheets in order and its relationships their parts. Each of these parts is
small and read whole, within ``limits.SMALL_PART_BYTES``; the shared strings are held compactly
(``Strings``), within ``limits.xlsx_max_strings()``.
"""

import posixpath
from array import array
from dataclasses import dataclass

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

from integrations_app.phone_import import limits
from integrations_app.phone_import.package import Handler, Package, local, unreadable

_OFFICE_DOCUMENT = "/officeDocument"  # ends of relationship types
_WORKSHEET = "/worksheet"
_SHARED_STRINGS = "/sharedStrings"
_STYLES = "/styles"


@dataclass
class Workbook:
    sheet: str  # the part of the first worksheet
    strings: "Strings"
    dates: frozenset = frozenset()  # style ids of date cells
    durations: frozenset = frozenset()  # style ids of time-span cells
    epoch: object = WINDOWS_EPOCH


def open_workbook(package: Package) -> Workbook:
    """The first worksheet of ``package`` with what its cells refer to (ImportFileError)."""
    package.parse("[Content_Types].xml", Handler())  # damaged or not XML: not a workbook
    main = _relationships(package, "").get_type(_OFFICE_DOCUMENT) or "xl/workbook.xml"
    if not package.has(main):
        raise unreadable("xlsx_no_workbook")
    sheets = _Sheets()
    package.parse(main, sheets)
    related = _relationships(package, main)
    # The first worksheet, as openpyxl's ``worksheets[0]``: chart sheets are not tables.
    targets = (related.targets.get(rid, ("", "")) for rid in sheets.ids)
    worksheets = (part for part, kind in targets if kind.endswith(_WORKSHEET))
    first = next((part for part in worksheets if package.has(part)), None)
    if first is None:
        raise unreadable("xlsx_no_sheet")
    workbook = Workbook(sheet=first, strings=Strings(), epoch=sheets.epoch)
    strings = related.get_type(_SHARED_STRINGS)
    if strings and package.has(strings):
        package.check_size(strings, limits.xlsx_max_strings())
        handler = _SharedStrings(workbook.strings)
        package.parse(strings, handler, limits.xlsx_max_strings())
        workbook.strings.close()
    styles = related.get_type(_STYLES)
    if styles and package.has(styles):
        found = _Styles()
        package.parse(styles, found)
        workbook.dates, workbook.durations = found.date_styles()
    return workbook


class Strings:
    """The shared strings as few large strings and an array of offsets, not a million objects."""

    BLOCK = 1024

    def __init__(self):
        self.blocks: list[str] = []
        self.ends = array("I")  # each string's end within its block
        self.pending: list[str] = []

    def add(self, text: str) -> None:
        self.pending.append(text)
        if len(self.pending) == self.BLOCK:
            self.close()

    def close(self) -> None:
        if self.pending:
            end = 0
            for text in self.pending:
                end += len(text)
                self.ends.append(end)
            self.blocks.append("".join(self.pending))
            self.pending = []

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self.ends):
            raise IndexError(index)
        start = 0 if index % self.BLOCK == 0 else self.ends[index - 1]
        return self.blocks[index // self.BLOCK][start : self.ends[index]]


class _Relationships(Handler):
    def __init__(self, base: str):
        super().__init__()
        self.base = base
        self.targets: dict[str, tuple[str, str]] = {}  # id -> (part, type)

    def start(self, name, attrs):
        if local(name) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target[1:] if target.startswith("/") else posixpath.join(self.base, target)
            self.targets[attrs.get("Id")] = (posixpath.normpath(path), attrs.get("Type", ""))

    def get_type(self, ending: str) -> str | None:
        return next((t for t, kind in self.targets.values() if kind.endswith(ending)), None)


def _relationships(package: Package, part: str) -> _Relationships:
    folder, name = posixpath.split(part)
    found = _Relationships(folder)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if package.has(rels):
        package.parse(rels, found)
    return found


class _Sheets(Handler):
    """The relationship ids of the workbook's sheets in order, and its date system."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.epoch = WINDOWS_EPOCH

    def start(self, name, attrs):
        tag = local(name)
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if local(k) == "id"), None)
            if rid and len(self.ids) < limits.XLSX_MAX_PARTS:
                self.ids.append(rid)
        elif tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            self.epoch = MAC_EPOCH


class TextHandler(Handler):
    """Text of ``t`` elements not inside phonetic runs (``rPh``), as Excel shows a string;
    at most ``max_cell_chars() + 1`` characters are kept, so an over-long text is still found
    too long when a cell refers to it."""

    def __init__(self):
        super().__init__()
        self.keep = limits.max_cell_chars() + 1
        self.parts: list[str] = []
        self.length = 0
        self.in_text = False
        self.phonetic = 0

    def start_text(self, tag: str) -> None:
        if tag == "t":
            self.in_text = not self.phonetic
        elif tag == "rPh":
            self.phonetic += 1

    def end_text(self, tag: str) -> None:
        if tag == "t":
            self.in_text = False
        elif tag == "rPh":
            self.phonetic -= 1

    def text(self, data):
        if self.in_text and self.length < self.keep:
            self.parts.append(data)
            self.length += len(data)

    def take(self) -> str:
        text = "".join(self.parts)[: self.keep]
        self.parts, self.length = [], 0
        return text


class _SharedStrings(TextHandler):
    def __init__(self, strings: Strings):
        super().__init__()
        self.strings = strings

    def start(self, name, attrs):
        tag = local(name)
        if tag == "si":
            self.take()
        else:
            self.start_text(tag)

    def end(self, name):
        tag = local(name)
        if tag == "si":
            self.strings.add(self.take())
        else:
            self.end_text(tag)


class _Styles(Handler):
    """The number format of each cell style (``cellXfs``), to tell dates from numbers."""

    def __init__(self):
        super().__init__()
        self.custom: dict[int, str] = {}
        self.formats: list[int] = []
        self.in_cell_styles = False

    def start(self, name, attrs):
        tag = local(name)
        if tag == "numFmt":
            self.custom[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            self.in_cell_styles = True
        elif tag == "xf" and self.in_cell_styles:
            self.formats.append(_int(attrs.get("numFmtId")))

    def end(self, name):
        if local(name) == "cellXfs":
            self.in_cell_styles = False

    def date_styles(self) -> tuple[frozenset, frozenset]:
        dates, durations = set(), set()
        for style, number_format in enumerate(self.formats):
            code = self.custom.get(number_format) or BUILTIN_FORMATS.get(number_format, "")
            if is_date_format(code):
                dates.add(style)
            if is_timedelta_format(code):
                durations.add(style)
        return frozenset(dates), frozenset(durations)


def _int(text) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1
