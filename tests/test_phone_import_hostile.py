"""Hostile files for the phone-number import (security review): each is refused with one short,
clear message, within a small, fixed amount of memory, and nothing is written.

Every file is generated here, small and fast (tests/hostile_files.py writes the zip part by part
in chunks), yet past the bound it tests; bench/hostile_files.py runs the full-size files of the
review. Memory is Python's own peak (tracemalloc, expat's and zlib's buffers included) while the
file is read in this process: a behaviour pin, not a timing.
"""

import tracemalloc
from io import BytesIO, StringIO

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations_app.models import PhoneImport, PhoneImportUpload, PhoneNumber
from integrations_app.phone_import import ImportFileError, preview_phone_numbers
from integrations_app.phone_import.reader import read_table
from integrations_app.phone_import.resource import PhoneNumberResource
from tests import hostile_files as h
from tests.phone_import_files import csv_bytes, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MB = 1024 * 1024
BEFORE_PARSING = 2 * MB  # refused on the zip's own directory: next to nothing allocated
STREAMED = 100 * MB  # refused while streaming: the bound of the review
UPLOAD = "admin:integrations_app_phonenumber_phone_import"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
UNREADABLE = "looks like an Excel file but cannot be read"


def refused(data: bytes) -> tuple[ImportFileError, int]:
    """The preview's refusal of ``data`` and Python's peak memory while it read the file."""
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as caught:
            preview_phone_numbers(data=data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400
    return caught.value, peak


def nothing_written() -> bool:
    return not (
        PhoneNumber.objects.exists()
        or PhoneImport.objects.exists()
        or PhoneImportUpload.objects.exists()
    )


def upload(client, data: bytes, name: str = "nummern.xlsx"):
    return client.post(
        reverse(UPLOAD), {"file": SimpleUploadedFile(name, data), "region": "DE"}, **EN
    )


def refused_page(response) -> str:
    """The upload page again with the one message, and no preview."""
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="errornote"') == 1 and "rows" not in response.context
    return page


def numbered_rows(count: int, first: int = 3):
    """Empty rows with their numbers: they pack about 20 to 1, like a real sheet."""
    return h.numbered(b'<row r="%d"/>', first, count)


# --- zip bombs: refused on the zip's directory, before a byte is unpacked -------------------
def test_an_empty_row_bomb_is_refused_before_parsing(admin_client):
    # The review's file: 50,000,000 <row/> without <dimension> (72 s, 4.4 GB); 400,000 here.
    error, peak = refused(h.empty_rows(400_000))
    assert "its part “xl/worksheets/sheet1.xml” unpacks to" in str(error)
    assert "times its packed size" in str(error) and error.code == "xlsx_ratio"
    assert peak < BEFORE_PARSING
    page = refused_page(upload(admin_client, h.empty_rows(400_000)))
    assert "times its packed size" in page
    assert nothing_written()


def test_a_shared_strings_bomb_is_refused_before_parsing():
    # The review's file: 1.5 MB that made 4.6 GB of string objects; 400,000 strings here.
    error, peak = refused(h.strings_bomb(400_000))
    assert "its part “xl/sharedStrings.xml” unpacks to" in str(error)
    assert peak < BEFORE_PARSING and nothing_written()


def test_a_huge_inline_cell_is_refused_before_parsing():
    error, peak = refused(h.inline_cell(20_000_000))
    assert error.code == "xlsx_ratio" and peak < BEFORE_PARSING


def test_the_unpacked_size_is_bounded_as_the_zip_declares_it(settings):
    settings.PHONE_IMPORT_XLSX_MAX_UNPACKED = MB
    data = h.xlsx([h.HEADER_ROW, h.data_row(), *numbered_rows(100_000)])  # 1.7 MB unpacked
    error, peak = refused(data)
    assert str(error).startswith(
        "The Excel file unpacks to more than 1 MiB (part “xl/worksheets/sheet1.xml”)"
    )
    assert peak < BEFORE_PARSING and nothing_written()


def test_a_declared_size_that_lies_is_read_with_a_bound():
    # The directory says 1,000 bytes; the sheet unpacks to 5 MB: reading stops at the claim.
    rows = [h.HEADER_ROW, h.data_row(), *numbered_rows(300_000)]
    error, peak = refused(h.xlsx(rows, declared={h.SHEET: 1000}))
    assert UNREADABLE in str(error) and peak < BEFORE_PARSING
    strings = h.numbered(b"<si><t>Firma %d</t></si>", 0, 100_000)
    error, peak = refused(h.xlsx(rows[:2], strings=strings, declared={h.STRINGS: 1000}))
    assert UNREADABLE in str(error) and peak < BEFORE_PARSING


def test_shared_strings_have_their_own_bound(settings):
    settings.PHONE_IMPORT_XLSX_MAX_STRINGS = 256 * 1024
    strings = h.numbered(b"<si><t>Firma %d</t></si>", 0, 50_000)  # 1.2 MB, packs ~8 to 1
    error, peak = refused(h.xlsx([h.HEADER_ROW, h.data_row()], strings=strings))
    assert "more than 256 KiB (part “xl/sharedStrings.xml”)" in str(error)
    assert peak < BEFORE_PARSING


def test_many_shared_strings_are_held_compactly():
    # 200,000 distinct strings: openpyxl held one object each (~60 bytes and the list).
    strings = h.numbered(b"<si><t>%d</t></si>", 0, 200_000)
    rows = [h.HEADER_ROW, b'<row r="2"><c r="A2" t="s"><v>7</v></c><c r="B2"><v>1</v></c></row>']
    tracemalloc.start()
    try:
        table = read_table(h.xlsx(rows, strings=strings))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [cells[:2] for _n, cells in table.rows()] == [["7", "1"]]
    assert peak < 8 * MB


def test_a_zip_of_many_parts_is_refused_before_its_directory_is_read():
    members = {f"xl/media/image{n}.png": b"" for n in range(1500)}
    error, peak = refused(h.zip_of({"[Content_Types].xml": h.CONTENT_TYPES, **members}))
    assert str(error).startswith("The file has more than 1000 parts")
    assert peak < BEFORE_PARSING


# --- bounds while streaming: a file that packs like a real one ------------------------------
def test_endless_empty_rows_count_against_the_row_limit(settings, admin_client):
    settings.PHONE_IMPORT_MAX_ROWS = 1000  # 2 x 1000 + 10,000 rows are read at most
    data = h.xlsx([h.HEADER_ROW, h.data_row(), *numbered_rows(20_000)])
    error, peak = refused(data)
    assert str(error) == "The file has more than 1000 rows: split it into smaller files."
    assert peak < STREAMED
    page = refused_page(upload(admin_client, data))
    assert "more than 1000 rows" in page and nothing_written()


def test_empty_rows_before_any_header_are_bounded():
    data = h.xlsx([*numbered_rows(20_000, first=1), h.inline_row(20_001, "company", "number")])
    error, peak = refused(data)
    assert str(error) == "The file is empty." and peak < STREAMED


def test_more_rows_than_the_limit_are_refused_before_a_row_is_checked(settings, tmp_path):
    # The review's 5,000,000 rows of one cell, at a limit of 1,000 rows.
    settings.PHONE_IMPORT_MAX_ROWS = 1000
    data = h.cell_rows(5000)
    table = read_table(data)  # read through once: the count is known now
    with pytest.raises(ImportFileError, match="more than 1000 rows"):
        next(table.rows())  # not one row is given to the checks
    error, peak = refused(data)
    assert "more than 1000 rows" in str(error) and peak < STREAMED
    path = tmp_path / "nummern.xlsx"
    path.write_bytes(data)
    with pytest.raises(CommandError, match="nummern.xlsx: The file has more than 1000") as ended:
        call_command("import_phone_numbers", str(path), stdout=StringIO())
    assert ended.value.returncode == 2 and nothing_written()


def test_one_huge_cell_stops_the_read_at_the_cell_limit(settings):
    # Packed like text, not like a bomb: only the cell bound stands in the way.
    settings.PHONE_IMPORT_XLSX_MAX_RATIO = 10**6
    error, peak = refused(h.inline_cell(20_000_000))
    assert str(error).startswith("Row 2, column B has more than 10000 characters")
    assert error.code == "cell_too_long" and peak < BEFORE_PARSING
    error, _peak = refused(h.inline_cell(200_000))  # under a MiB: no packing check at all
    assert error.code == "cell_too_long"


def test_endless_markup_without_elements_is_refused(settings):
    settings.PHONE_IMPORT_XLSX_MAX_RATIO = 10**6
    attribute = [b'<row r="2"><c r="A2" x="', *h.repeat(b"x" * 100, 30_000), b'"/></row>']
    comment = [b"<!--", *h.repeat(b"x" * 100, 30_000), b"-->"]
    for body in (attribute, comment):
        error, peak = refused(h.xlsx([h.HEADER_ROW, *body]))
        assert UNREADABLE in str(error) and error.code == "xml_idle"
        assert peak < 10 * MB  # expat holds one unfinished token, up to a MiB


def test_deep_nesting_is_refused():
    nested = [*h.repeat(b"<x>", 100_000), *h.repeat(b"</x>", 100_000)]  # well-formed
    error, peak = refused(h.xlsx([h.HEADER_ROW, h.data_row(), *nested]))
    assert UNREADABLE in str(error) and error.code == "xml_too_deep"
    assert peak < BEFORE_PARSING


def test_entities_and_document_types_are_refused():
    # A billion laughs: each entity ten of the one before, &a9; a billion "a".
    entities = b"".join(b'<!ENTITY a%d "%s">' % (n, b"&a%d;" % (n - 1) * 10) for n in range(1, 10))
    laughs = b'<!DOCTYPE w [<!ENTITY a0 "a">' + entities + b"]>"
    cell = b'<row r="2"><c r="A2" t="inlineStr"><is><t>&a9;</t></is></c></row>'
    error, peak = refused(h.xlsx([h.HEADER_ROW, cell], prolog=laughs))
    assert UNREADABLE in str(error) and error.code == "xml_doctype" and peak < BEFORE_PARSING
    external = b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    workbook = external + h.WORKBOOK.replace(b'name="Nummern"', b'name="&x;"')
    error, _peak = refused(h.xlsx([h.HEADER_ROW, h.data_row()], workbook=workbook))
    assert error.code == "xml_doctype"


def test_rows_out_of_order_or_too_wide_are_refused():
    twice = [h.HEADER_ROW, h.data_row(2), h.inline_row(2, "Andere", "030 7654321")]
    error, _peak = refused(h.xlsx(twice))  # openpyxl dropped the second row 2
    assert UNREADABLE in str(error) and error.code == "xlsx_row_order"
    wide = [h.HEADER_ROW, b'<row r="2">', *h.repeat(b"<c/>", 16_385), b"</row>"]
    error, _peak = refused(h.xlsx(wide))
    assert error.code == "xlsx_too_wide"


# --- packages that are not a workbook ---------------------------------------------------------
def test_a_zip_holding_an_xlsx_asks_to_unpack_it():
    error, _peak = refused(h.zip_of({"nummern.xlsx": xlsx_bytes([["company", "number"]])}))
    assert str(error) == (
        "This is a ZIP archive, not an Excel (.xlsx) file: unpack it and upload the CSV or "
        ".xlsx file inside."
    )


def test_an_opendocument_spreadsheet_is_named():
    ods = h.zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    error, _peak = refused(ods)
    assert str(error).startswith("This is an OpenDocument spreadsheet (.ods)")


@pytest.mark.parametrize(
    "data",
    [
        h.xlsx([h.HEADER_ROW, h.data_row()], encrypted=True),
        # Excel's password protection: an OLE2 file holding the "EncryptedPackage" stream
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 500
        + "EncryptedPackage".encode("utf-16-le"),
    ],
    ids=["encrypted-zip-part", "excel-password"],
)
def test_password_protected_files_are_named(data):
    error, _peak = refused(data)
    assert str(error).startswith("The file is password-protected: remove the password")


def test_an_xlsx_named_csv_and_a_csv_named_xlsx_are_read_by_their_content(admin_client):
    rows = [["company", "number"], ["Praxis", "030 1234567"]]
    for data, name in ((xlsx_bytes(rows), "nummern.csv"), (csv_bytes(rows), "nummern.xlsx")):
        response = upload(admin_client, data, name)
        assert [row["row"] for row in response.context["rows"]] == [2], name


# --- control characters ---------------------------------------------------------------------
def test_a_nul_in_a_csv_cell_is_refused_with_its_row_and_column(admin_client, tmp_path):
    data = b"company,number\r\nPraxis,030 1234567\r\nPraxis,030\x00 1234568\r\n"
    message = (
        "Row 3, column B (“number”) contains the control character U+0000, which a "
        "phone-number table cannot hold: remove it and upload the file again."
    )
    error, _peak = refused(data)
    assert str(error) == message and error.code == "control_character"
    page = refused_page(upload(admin_client, data, "nummern.csv"))
    assert "Row 3, column B (“number”) contains the control character U+0000" in page
    assert "\x00" not in page
    path = tmp_path / "nummern.csv"
    path.write_bytes(data)
    with pytest.raises(CommandError, match="Row 3, column B") as ended:
        call_command("import_phone_numbers", str(path), stdout=StringIO())
    assert ended.value.returncode == 2 and nothing_written()


def test_control_characters_in_xlsx_cells_and_headers_are_refused():
    rows = [["company", "number", "description"], ["Praxis", "030 1234567", "Empfang\x7f"],
            ["Praxis\x85", "030 1234568", ""], ["Praxis", "030 1234569", "a\x9fb"]]  # fmt: skip
    error, _peak = refused(xlsx_bytes(rows))
    assert str(error).startswith("Row 2, column C (“description”) contains the control "
                                 "character U+007F")  # fmt: skip
    assert str(error).endswith(" 2 more cells contain control characters.")
    error, _peak = refused(csv_bytes([["company\x01", "number"], ["Praxis", "030 1234567"]]))
    assert str(error).startswith("Row 1, column A contains the control character U+0001")


def test_a_dataset_with_a_nul_is_refused_by_the_resource():
    data = tablib.Dataset(["Praxis\x00", "030 1234567"], headers=["company", "number"])
    result = PhoneNumberResource().import_data(data, dry_run=False)
    assert result.has_errors()
    assert str(result.base_errors[0].error).startswith("Row 2, column A (“company”) contains")
    assert nothing_written()


def test_tabs_and_line_breaks_in_a_cell_are_text_not_control_characters():
    data = csv_bytes([["company", "number", "description"], ["Praxis", "030 1", "Zeile\neins\t"]])
    assert [cells[2] for _n, cells in read_table(data).rows()] == ["Zeile\neins\t"]


# --- UTF-16 and other encodings -------------------------------------------------------------
UNICODE_TEXT = "company\tnumber\tdescription\r\nPraxis Dr. Kühn\t030 1234567\tEmpfang 📞\r\n"


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le"),  # Excel's "Unicode text"
        b"\xfe\xff" + UNICODE_TEXT.encode("utf-16-be"),
        UNICODE_TEXT.encode("utf-16-le"),  # no BOM
        UNICODE_TEXT.encode("utf-16-be"),
        UNICODE_TEXT.encode("utf-32"),  # with its BOM
    ],
    ids=["utf16le-bom", "utf16be-bom", "utf16le", "utf16be", "utf32"],
)
def test_utf16_and_utf32_text_is_read(data):
    table = read_table(data)
    assert table.delimiter == "\t" and table.headers == ["company", "number", "description"]
    assert [cells for _n, cells in table.rows()] == [
        ["Praxis Dr. Kühn", "030 1234567", "Empfang 📞"]
    ]


def test_excel_unicode_text_is_previewed_from_the_admin(admin_client):
    data = b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le")
    response = upload(admin_client, data, "nummern.txt")
    assert [row["cells"][:2] for row in response.context["rows"]] == [
        ["Praxis Dr. Kühn", "030 1234567"]
    ]
    assert not PhoneNumber.objects.exists()


def test_broken_utf16_is_refused_clearly():
    data = b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate
    error, _peak = refused(data)
    assert str(error) == "The file is not valid UTF-16 text: save it again as CSV (UTF-8)."


# --- headers and cells of absurd size -------------------------------------------------------
def test_a_header_of_100000_unknown_columns_gives_a_short_message(admin_client):
    header = "company,number," + ",".join(f"x{n}" for n in range(100_000))
    data = f"{header}\r\nPraxis,030 1234567\r\n".encode()
    error, _peak = refused(data)
    assert str(error).startswith(
        "Unknown column(s) “x0”, “x1”, “x2” and 99997 more in the header row. Accepted columns:"
    )
    page = refused_page(upload(admin_client, data, "nummern.csv"))
    plain = refused_page(upload(admin_client, b"company,number,x0\r\nA,1\r\n", "nummern.csv"))
    assert len(page) < len(plain) + 100  # was a page of 1.4 MB


def test_an_xlsx_header_counts_the_columns_past_those_read():
    header = ["company", "number", *(f"Spalte {n}" for n in range(300))]
    error, _peak = refused(xlsx_bytes([header, ["Praxis", "030 1234567"]]))
    assert "“Spalte 0”, “Spalte 1”, “Spalte 2” and 297 more in the header row" in str(error)


def test_a_long_csv_cell_is_refused_with_its_row_and_column():
    long = "x" * 20_000
    error, _peak = refused(csv_bytes([["company", "number", "description"], ["A", "1", long]]))
    assert str(error).startswith("Row 2, column C (“description”) has more than 10000 characters")
    error, _peak = refused(csv_bytes([["company", "number"], ["A", "x" * 200_000]]))
    assert str(error).startswith("Row 2 has a cell of more than 10000 characters")


def test_a_long_cell_is_quoted_short_in_the_rows_errors():
    data = csv_bytes([["company", "number"], ["Praxis " + "ü" * 5000, "12"]])
    plan = preview_phone_numbers(data=data)
    assert plan.has_errors and max(len(e.message) for e in plan.errors) < 200
    assert any(e.message.startswith("There is no company “Praxis üüü") for e in plan.errors)


# --- what the bounds must not change ---------------------------------------------------------
def test_the_streamed_sheet_reads_cells_as_openpyxl_did():
    """The reader that replaced openpyxl's (which cannot be bounded) gives the same text."""
    from datetime import date, datetime

    from openpyxl import load_workbook

    from integrations_app.phone_import.sheet import cell_text, sheet_rows

    values = ["Text", 42, 1.5, 3.0, True, False, datetime(2024, 5, 17, 8, 30), date(2024, 1, 2),
              12345678901234567890, "=SUM(1,2)", "  spaced ", 1e20, -7, "0049"]  # fmt: skip
    rows = [["company", "number", *[f"c{n}" for n in range(len(values))]], ["A", "1", *values]]
    data = xlsx_bytes(rows)
    rich = (b'<row r="3"><c r="A3" t="inlineStr"><is><r><t>Praxis </t></r><r><t>Dr.</t></r>'
            b'<rPh sb="0" eb="1"><t>pu</t></rPh></is></c>'
            b'<c r="B3" t="b"><v>1</v></c></row>')  # fmt: skip
    for workbook in (data, h.xlsx([h.HEADER_ROW, rich])):
        sheet = load_workbook(BytesIO(workbook), read_only=True, data_only=True).worksheets[0]
        expected = {
            number: [cell_text(v) for v in row]
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1)
            if any(v is not None for v in row)
        }
        got = {number: cells[: len(expected[number])] for number, cells in sheet_rows(workbook)}
        assert got == expected


def test_a_kept_upload_unpacks_to_at_most_one_byte_over_the_limit(settings, admin_user):
    from integrations_app.phone_import import uploads

    key = uploads.keep(b"x" * 10_000, admin_user)
    settings.PHONE_IMPORT_MAX_BYTES = 100  # lowered since: the kept file is now too large
    assert len(uploads.load(key, admin_user)) == 101
