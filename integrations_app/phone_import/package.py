"""An Excel (.xlsx) file as a zip package, opened only when nothing in it is out of bounds.

Before a byte is unpacked: the end record (how many parts, how large the directory), then each
part's declared size, its packing ratio and its encryption flag. Parts are then read in chunks
with a byte bound, because the declared size is the file's own claim. XML is parsed by expat
with handlers of our own: a document type declaration (the way to entity expansion and external
entities: openpyxl would only refuse them with defusedxml installed) is refused, so are
elements nested deeper than a sheet's and long stretches of bytes that start no element.
"""

import io
import struct
import zipfile
from collections.abc import Callable, Iterator
from xml.parsers import expat

from django.utils.translation import gettext as _

from integrations_app.phone_import import limits
from integrations_app.phone_import.errors import ImportFileError, shown

_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"
_CHUNK = 64 * 1024
_ENCRYPTED = 0x1  # general purpose flag bit 0
_ODS = b"application/vnd.oasis.opendocument.spreadsheet"
# zipfile raises these for a damaged archive or part; expat its own error.
DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError,
           ValueError, KeyError, IndexError, struct.error, expat.ExpatError)  # fmt: skip


def unreadable(code: str = "xlsx_unreadable") -> ImportFileError:
    return ImportFileError(
        _("The file looks like an Excel file but cannot be read: save it again as .xlsx."), code
    )


def too_large(part: str | None, limit: int) -> ImportFileError:
    """``part``: the part over ``limit``, None for all parts together."""
    if part is None:
        message = _("The Excel file unpacks to more than %(limit)s: split it into smaller files.")
    else:
        message = _("The Excel file unpacks to more than %(limit)s (part “%(part)s”): split it "
                    "into smaller files.")  # fmt: skip
    return ImportFileError(
        message % {"limit": limits.shown_size(limit), "part": shown(part or "")}, "xlsx_too_large"
    )


class Package:
    """The parts of an xlsx file, each read with a byte bound."""

    def __init__(self, data: bytes):
        _check_end_record(data)
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            self.parts = {info.filename: info for info in self.archive.infolist()}
        except DAMAGED:
            raise unreadable() from None
        _check_parts(self.parts.values())
        if "[Content_Types].xml" not in self.parts:
            raise self._not_a_workbook()

    def _not_a_workbook(self) -> ImportFileError:
        if self.has("mimetype") and self.head("mimetype", len(_ODS)) == _ODS:
            return ImportFileError(
                _("This is an OpenDocument spreadsheet (.ods): save it as .xlsx or as CSV and "
                  "upload it again."),
                "ods",
            )  # fmt: skip
        return ImportFileError(
            _("This is a ZIP archive, not an Excel (.xlsx) file: unpack it and upload the CSV "
              "or .xlsx file inside."),
            "zip_not_xlsx",
        )  # fmt: skip

    def has(self, name: str) -> bool:
        return name in self.parts

    def check_size(self, name: str, limit: int) -> None:
        """Part ``name`` as declared within ``limit`` (reading it checks again, byte by byte)."""
        if self.parts[name].file_size > limit:
            raise too_large(name, limit)

    def head(self, name: str, size: int) -> bytes:
        """The first ``size`` unpacked bytes of part ``name``."""
        try:
            with self.archive.open(self.parts[name]) as part:
                return part.read(size)
        except DAMAGED:
            raise unreadable() from None

    def chunks(self, name: str, limit: int) -> Iterator[bytes]:
        """The unpacked bytes of part ``name``, at most ``limit`` of them (else too_large)."""
        read = 0
        try:
            with self.archive.open(self.parts[name]) as part:
                while chunk := part.read(_CHUNK):
                    read += len(chunk)
                    if read > limit:
                        raise too_large(name, limit)
                    yield chunk
        except DAMAGED:
            raise unreadable() from None

    def read(self, name: str, limit: int = limits.SMALL_PART_BYTES) -> bytes:
        return b"".join(self.chunks(name, limit))

    def parse(self, name: str, handler: "Handler", limit: int = limits.SMALL_PART_BYTES):
        """Parse part ``name`` with ``handler``, all of it (a small part)."""
        for _done in handler.feed(self.chunks(name, limit)):
            pass


def _check_end_record(data: bytes) -> None:
    """The number of parts and the size of the directory as the end record states them,
    before zipfile reads the directory (it makes an object for every entry)."""
    at = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or len(data) < at + 22:
        raise unreadable()
    entries, directory = struct.unpack_from("<HI", data, at + 10)
    locator = at - 20
    if locator >= 0 and data[locator : locator + 4] == _END64_LOCATOR:
        # zip64: zipfile takes the counts from the zip64 end record, so check those
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 > len(data) or data[offset : offset + 4] != _END64:
            raise unreadable()
        entries, directory = struct.unpack_from("<QQ", data, offset + 32)
    # An entry of the directory takes 46 bytes and its name; a workbook's names are short.
    if entries > limits.XLSX_MAX_PARTS or directory > limits.XLSX_MAX_PARTS * 512:
        raise _too_many_parts()


def _too_many_parts() -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)d parts, more than any Excel table has: save the "
          "table again as .xlsx or as CSV.") % {"limit": limits.XLSX_MAX_PARTS},
        "xlsx_too_many_parts",
    )  # fmt: skip


def _check_parts(parts) -> None:
    total, most, ratio = 0, limits.xlsx_max_unpacked(), limits.xlsx_max_ratio()
    for info in parts:
        if info.flag_bits & _ENCRYPTED:
            raise password_protected()
        if info.file_size > most:
            raise too_large(info.filename, most)
        packed = max(info.compress_size, 1)
        if info.file_size > limits.RATIO_FROM_BYTES and info.file_size > packed * ratio:
            raise ImportFileError(
                _("The Excel file is not a plain table: its part “%(part)s” unpacks to "
                  "%(ratio)d times its packed size.")
                % {"part": shown(info.filename), "ratio": info.file_size // packed},
                "xlsx_ratio",
            )  # fmt: skip
        total += info.file_size
        if total > most:
            raise too_large(None, most)
    if len(parts) > limits.XLSX_MAX_PARTS:  # the end record said fewer
        raise _too_many_parts()


def password_protected() -> ImportFileError:
    return ImportFileError(
        _("The file is password-protected: remove the password in Excel, save it and upload "
          "it again."),
        "password_protected",
    )  # fmt: skip


class Handler:
    """Expat with handlers of our own, fed chunk by chunk; subclasses react to elements.

    Names arrive as ``namespace}local`` (see ``local``); attributes without a prefix as plain
    names. ``start``/``end``/``text`` are the subclass's; depth and progress are counted here.
    """

    def __init__(self):
        self.depth = 0
        self.started = 0  # elements begun so far: the parser's progress

    def start(self, name: str, attrs: dict) -> None: ...

    def end(self, name: str) -> None: ...

    def text(self, data: str) -> None: ...

    def _start(self, name, attrs):
        self.depth += 1
        self.started += 1
        if self.depth > limits.XML_MAX_DEPTH:
            raise unreadable("xml_too_deep")
        self.start(name, attrs)

    def _end(self, name):
        self.depth -= 1
        self.end(name)

    def feed(self, chunks: Iterator[bytes]) -> Iterator[None]:
        """Parse the chunks; yields after each, so a caller can take what it found so far."""
        parser = _parser(self._start, self._end, self.text)
        idle, seen = 0, 0
        try:
            for chunk in chunks:
                parser.Parse(chunk, False)
                # Expat holds an unfinished token (an attribute, a comment) until it ends.
                idle = idle + len(chunk) if self.started == seen else 0
                seen = self.started
                if idle > limits.XML_MAX_IDLE_BYTES:
                    raise unreadable("xml_idle")
                yield
            parser.Parse(b"", True)
        except expat.ExpatError:
            raise unreadable() from None
        yield


def local(name: str) -> str:
    return name[name.rfind("}") + 1 :]


def _parser(start: Callable, end: Callable, text: Callable):
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True  # text in pieces of at most buffer_size, never a whole node
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _no_doctype(*_args):
    # Excel never writes a DTD; without one there are no entities to expand or fetch.
    raise unreadable("xml_doctype")
