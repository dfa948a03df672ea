"""How much of a file an import reads at most, from the settings (a default when one is unset).

Every bound is checked before the work it bounds: the declared sizes of an Excel file's parts
before a byte is unpacked, each part read with a byte bound (a declared size can lie), each cell
cut at the cell bound while it is read, the rows counted as they stream. So a hostile file
costs at most these bounds, whatever it claims to hold.
"""

from django.conf import settings

KIB = 1024
MIB = 1024 * KIB

# An Excel part other than the sheet and its strings (workbook, relationships, styles): a few
# KiB in the files people have; a workbook with thousands of styles stays under a MiB.
SMALL_PART_BYTES = 8 * MIB
# A workbook holds about ten parts, one more per sheet, picture or comment.
XLSX_MAX_PARTS = 1000
# Excel's own limits: a sheet has at most 16,384 columns and 1,048,576 rows.
XLSX_MAX_COLUMN = 16_384
XLSX_MAX_ROW = 1_048_576
# The packing ratio is checked for parts that unpack to more than this.
RATIO_FROM_BYTES = MIB
# Unpacked bytes without any new XML element: one endless attribute, comment or text.
XML_MAX_IDLE_BYTES = MIB
# Elements inside each other: a sheet nests six deep; expat keeps a frame for each open one.
XML_MAX_DEPTH = 64
# The header row is read up to this many cells; the rest are only counted.
HEADER_MAX_CELLS = 1000


def max_bytes() -> int:
    return getattr(settings, "PHONE_IMPORT_MAX_BYTES", 5 * MIB)


def max_rows() -> int:
    return getattr(settings, "PHONE_IMPORT_MAX_ROWS", 100_000)


def max_cell_chars() -> int:
    """The longest cell: a description has 255 characters, nothing else needs more."""
    return getattr(settings, "PHONE_IMPORT_MAX_CELL_CHARS", 10_000)


def xlsx_max_unpacked() -> int:
    """All parts of an Excel file unpacked together (100,000 rows of seven columns are ~45 MiB
    of sheet XML as openpyxl writes it)."""
    return getattr(settings, "PHONE_IMPORT_XLSX_MAX_UNPACKED", 100 * MIB)


def xlsx_max_strings() -> int:
    """The shared-strings part unpacked: every distinct text of the workbook, held while the
    sheet is read (100,000 distinct numbers and descriptions are ~10 MiB)."""
    return getattr(settings, "PHONE_IMPORT_XLSX_MAX_STRINGS", 16 * MIB)


def xlsx_max_ratio() -> int:
    """The sheet XML of a real table packs 5 to 20 to 1 (14 for 100,000 rows written by
    openpyxl); a part that unpacks to more than this many times its packed size is a bomb."""
    return getattr(settings, "PHONE_IMPORT_XLSX_MAX_RATIO", 200)


def shown_size(limit: int) -> str:
    if limit >= MIB:
        return f"{limit / MIB:g} MiB"
    return f"{limit / KIB:g} KiB" if limit >= KIB else f"{limit} B"
