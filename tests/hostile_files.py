"""Hostile phone-number files, built small and fast: the zip is written part by part, each part
in streamed chunks, so a sheet that unpacks to hundreds of megabytes never exists in memory.

Used by tests/test_phone_import_hostile.py (small counts, still past every bound) and by
bench/hostile_files.py (the full-size files of the security review).
"""

import io
import zipfile
from collections.abc import Iterable, Iterator

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OOXML = "application/vnd.openxmlformats"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_OOXML}-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" '
    f'ContentType="{_OOXML}-officedocument.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_OOXML}-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
).encode()
# openpyxl finds the shared strings by this entry (Excel by the workbook's relationships)
STRINGS_TYPE = (
    f'<Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{_OOXML}-officedocument.spreadsheetml.sharedStrings+xml"/>'
).encode()
ROOT_RELS = (
    f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
    f'Type="{_TYPES}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
).encode()
WORKBOOK = (
    f'<workbook xmlns="{MAIN}" xmlns:r="{_TYPES}"><sheets>'
    '<sheet name="Nummern" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()
WORKBOOK_RELS = (
    f'<Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_TYPES}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_TYPES}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
).encode()
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>company</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>number</t></is></c></row>'
)
CHUNK_ROWS = 10_000


def xlsx(
    rows: Iterable[bytes],
    *,
    strings: Iterable[bytes] | None = None,
    declared: dict[str, int] | None = None,
    encrypted: bool = False,
    level: int = 6,
    workbook: bytes = WORKBOOK,
    prolog: bytes = b"",
) -> bytes:
    """A workbook whose first sheet's ``<sheetData>`` holds ``rows`` (chunks of XML) and, with
    ``strings``, a shared-strings part holding those ``<si>`` chunks. ``declared`` makes the
    zip's directory claim other unpacked sizes than the real ones; ``encrypted`` sets the flag
    of an encrypted part on the sheet; ``prolog`` comes before the sheet's root element."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        types = CONTENT_TYPES.replace(b"</Types>", STRINGS_TYPE + b"</Types>")
        archive.writestr("[Content_Types].xml", types if strings is not None else CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        _stream(archive, SHEET, [prolog, f'<worksheet xmlns="{MAIN}"><sheetData>'.encode()], rows,
                [b"</sheetData></worksheet>"], level)  # fmt: skip
        if strings is not None:
            _stream(archive, STRINGS, [f'<sst xmlns="{MAIN}">'.encode()], strings, [b"</sst>"],
                    level)  # fmt: skip
        for name, size in (declared or {}).items():
            archive.getinfo(name).file_size = size  # the central directory is written at close
        if encrypted:
            archive.getinfo(SHEET).flag_bits |= 0x1
    return out.getvalue()


def _stream(archive, name, head, body, tail, level) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    # A ZipInfo of our own has no level: set it as writestr would (named so from 3.13 on).
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", level)
    with archive.open(info, "w") as part:
        for chunk in (*head, *body, *tail):
            part.write(chunk)


def repeat(piece: bytes, count: int) -> Iterator[bytes]:
    """``piece`` ``count`` times, in chunks of at most CHUNK_ROWS pieces."""
    block = piece * CHUNK_ROWS
    for _ in range(count // CHUNK_ROWS):
        yield block
    yield piece * (count % CHUNK_ROWS)


def numbered(template: bytes, first: int, count: int) -> Iterator[bytes]:
    """``template % n`` for n from ``first``, ``count`` times, in chunks."""
    for start in range(first, first + count, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, first + count)
        yield b"".join(template % n for n in range(start, stop))


def inline_row(number: int, *cells: str) -> bytes:
    """A row of inline-text cells in columns A, B, …"""
    parts = [
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(cells)
    ]
    return f'<row r="{number}">{"".join(parts)}</row>'.encode()


def data_row(number: int = 2) -> bytes:
    return inline_row(number, "Praxis", "030 1234567")


# --- the files of the security review, by size ----------------------------------------------
def empty_rows(count: int) -> bytes:
    """A header, one row, then ``count`` empty ``<row/>`` and no ``<dimension>``."""
    return xlsx([HEADER_ROW, data_row(), *repeat(b"<row/>", count)], level=9)


def strings_bomb(count: int) -> bytes:
    """A shared-strings part of ``count`` one-letter strings (every one an object in openpyxl)."""
    return xlsx([HEADER_ROW, data_row()], strings=repeat(b"<si><t>x</t></si>", count), level=9)


def inline_cell(chars: int) -> bytes:
    """A data row whose description is one inline cell of ``chars`` characters."""
    text = [b'<row r="2"><c r="A2" t="inlineStr"><is><t>Praxis</t></is></c>'
            b'<c r="B2" t="inlineStr"><is><t>']  # fmt: skip
    body = repeat(b"x" * 100, chars // 100)
    tail = [b"</t></is></c></row>"]
    return xlsx([HEADER_ROW, *text, *body, *tail], level=9)


def cell_rows(count: int) -> bytes:
    """A header, then ``count`` rows of one number cell each."""
    return xlsx([HEADER_ROW, *repeat(b'<row><c t="n"><v>1</v></c></row>', count)], level=9)


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()
