"""Which text encoding a CSV file is in, or that it is not text at all.

Excel saves CSV as UTF-8 (with a BOM) or in the Windows code page, and "Unicode text" as UTF-16
with a BOM and tabs; other programs write UTF-16 without a BOM. A binary file (a picture, a
PDF, the old .xls) gets its own message instead of a column named "‰PNG".
"""

import codecs

from django.utils.translation import gettext as _

from integrations_app.phone_import.errors import CONTROL, ImportFileError
from integrations_app.phone_import.package import password_protected

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary Excel format (.xls), and ...
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # ... a password-protected .xlsx
_BINARY = (b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!",
           b"\x7fELF", b"BZh", b"\xfd7zXZ")  # fmt: skip
# UTF-32 before UTF-16: the BOM of UTF-32 LE begins with that of UTF-16 LE.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# Without a BOM: UTF-8 if it decodes, else this code page (what Excel saves "CSV" in).
_CODE_PAGE = ("cp1252", "Windows-1252")
_HEAD = 4096  # bytes looked at to tell text from binary
_CHUNK = 64 * 1024


def csv_encoding(data: bytes) -> str:
    """The codec to read ``data`` with (ImportFileError when it is not text)."""
    if data.startswith(_OLE2):
        if _ENCRYPTED_PACKAGE in data:
            raise password_protected()
        raise ImportFileError(
            _("This is an old Excel file (.xls): save it as .xlsx or as CSV and upload it again."),
            "xls",
        )
    if data.startswith(_BINARY):
        raise not_a_table()
    encoding, name = _unicode(data)
    if encoding:
        if not _decodes(data, encoding):
            raise ImportFileError(
                _("The file is not valid %(encoding)s text: save it again as CSV (UTF-8).")
                % {"encoding": name},
                "bad_encoding",
            )
    elif _decodes(data, "utf-8"):
        encoding = "utf-8"
    elif _decodes(data, _CODE_PAGE[0]):
        encoding = _CODE_PAGE[0]
    else:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1252 text: save it as CSV (UTF-8)."),
            "bad_encoding",
        )
    head = data[:_HEAD].decode(encoding, errors="ignore")
    # A few control characters are a damaged cell (named with its row by the reader); many
    # are a binary file.
    if len(CONTROL.findall(head)) > max(1, len(head) // 20):
        raise not_a_table()
    return encoding


def encodings_read() -> list[str]:
    """The names of the encodings a CSV is read in: "UTF-8", "UTF-16", "UTF-32", "Windows-1252"
    (the upload page says so, from here)."""
    unicode = sorted({"UTF-8", *(name for _bom, _codec, name in _BOMS)}, key=lambda n: int(n[4:]))
    return [*unicode, _CODE_PAGE[1]]


def not_a_table() -> ImportFileError:
    return ImportFileError(_("This is not a CSV or Excel (.xlsx) file."), "not_a_table")


def _unicode(data: bytes) -> tuple[str | None, str]:
    """A Unicode encoding by its BOM, or UTF-16 without one by where its zero bytes are."""
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            return encoding, name
    head = data[: _HEAD - _HEAD % 2]
    pairs = len(head) // 2
    if pairs < 2:
        return None, ""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    # Latin text in UTF-16: every other byte is zero (the high byte, first or second).
    if odd >= 0.4 * pairs and even <= 0.05 * pairs:
        return "utf-16-le", "UTF-16"
    if even >= 0.4 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be", "UTF-16"
    return None, ""


def _decodes(data: bytes, encoding: str) -> bool:
    """Checked piece by piece: the text of the whole file is never held."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(data[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
