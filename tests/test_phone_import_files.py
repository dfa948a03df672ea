"""Reading phone-number files as people have them (issue 6, point 6): one clear message when not."""

import io

import pytest
from django.utils import translation

from integrations_app.phone_import import ImportFileError, preview_phone_numbers
from integrations_app.phone_import.reader import read_table
from tests.phone_import_files import csv_bytes, xlsx_bytes


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def values(table, key):
    return [table.cell(cells, key) for _n, cells in table.rows()]


def test_semicolon_windows_1252_with_german_headers_and_umlauts():
    data = csv_bytes(
        [["Firma", "Filiale", "Nummer", "Typ", "Primär", "Aktiv", "Beschreibung"],
         ["Bäckerei Müller", "Köln Süd", "0221 4710 123", "Durchwahl", "ja", "1", "Grüße"]],
        delimiter=";", encoding="cp1252",
    )  # fmt: skip
    table = read_table(data)
    assert table.delimiter == ";"
    assert values(table, "company") == ["Bäckerei Müller"]
    assert values(table, "branch") == ["Köln Süd"]
    assert values(table, "primary") == ["ja"]
    assert values(table, "description") == ["Grüße"]


def test_utf8_with_bom_comma_quoted_fields_and_trailing_empty_lines():
    data = csv_bytes(
        [["company", "number", "description"],
         ["Kanzlei Brandt & Oswald", "+49 (30) 123-4567", 'Empfang, "vorne"'],
         ["Zahnarzt Dr. Kühn", "030 1234568", "Zeile\nzwei"]],
        bom=True,
    ) + b"\r\n\r\n\n"  # fmt: skip
    table = read_table(data)
    assert table.headers == ["company", "number", "description"]  # the BOM is not in the header
    assert values(table, "company") == ["Kanzlei Brandt & Oswald", "Zahnarzt Dr. Kühn"]
    assert values(table, "description") == ['Empfang, "vorne"', "Zeile\nzwei"]
    assert [n for n, _c in table.rows()] == [2, 3]


def test_utf8_without_bom_and_headers_in_any_case_with_spaces():
    table = read_table(" COMPANY ;  nummer\nÖl AG;030 1234567\n".encode())
    assert table.positions == {"company": 0, "number": 1}
    assert values(table, "company") == ["Öl AG"]


def test_row_numbers_are_the_spreadsheets_with_empty_rows_counted():
    table = read_table(b"company,number\n\nA,1\n,\nB,2\n")
    assert [n for n, _c in table.rows()] == [3, 5]


def test_xlsx_written_with_openpyxl():
    data = xlsx_bytes(
        [["Firma", "Nummer", "Primär", "Aktiv"],
         ["Müller GmbH", "+49 30 1234567", True, 1],
         [None, None, None, None],
         ["Müller GmbH", 301234568, False, 0.0]]
    )  # fmt: skip
    table = read_table(data)
    assert [n for n, _c in table.rows()] == [2, 4]
    assert values(table, "number") == ["+49 30 1234567", "301234568"]
    assert values(table, "primary") == ["1", "0"]
    assert values(table, "active") == ["1", "0"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n  \n", "The file is empty."),
        (b"company,number\n\n", "no rows to import"),
        (b"company,branch\nA,B\n", "no column “number”"),
        (b"firma;nummer;Bemerkung\nA;1\n", "Unknown column(s) “Bemerkung”"),
        (b"company,numbr\nA,1\n", "Unknown column(s) “numbr”"),
        (b"company,number,Nummer\nA,1,2\n", "appears twice"),
        (b"\x00\x01\x02binary\xff\xfe" * 20, "not a CSV or Excel"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old Excel file (.xls)"),
        (b"PK\x03\x04 not really a zip", "cannot be read"),
    ],
)
def test_unreadable_files_give_one_clear_message(data, message):
    with pytest.raises(ImportFileError) as error:
        read_table(data)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.django_db
def test_size_and_row_limits(settings):
    data = b"company,number\n" + b"A,030 1234567\n" * 10
    settings.PHONE_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match="larger than 100 B"):
        read_table(data)
    settings.PHONE_IMPORT_MAX_BYTES = 5 * 1024 * 1024
    settings.PHONE_IMPORT_MAX_ROWS = 9
    table = read_table(data)  # the rows are counted as they are read
    with pytest.raises(ImportFileError, match="more than 9 rows"):
        list(table.rows())
    with pytest.raises(ImportFileError, match="more than 9 rows"):
        preview_phone_numbers(data=data)
    settings.PHONE_IMPORT_MAX_ROWS = 10
    assert len(list(read_table(data).rows())) == 10


def test_limits_default_and_come_from_the_environment(settings):
    from django.conf import settings as live

    assert live.PHONE_IMPORT_MAX_BYTES == 5 * 1024 * 1024
    assert live.PHONE_IMPORT_MAX_ROWS == 100_000


@pytest.mark.django_db
def test_short_and_long_rows_and_absent_columns_read_as_empty():
    from tests import audit_rows as r

    company = r.company("Praxis Dr. Lindenberg")
    r.branch(company, "Mitte")
    data = (
        b"company,number,description\r\n"
        b"Praxis Dr. Lindenberg,030 23125100\r\n"  # short: no description cell
        b"Praxis Dr. Lindenberg,030 23125101,Empfang,stray,cells\r\n"  # long: cells past the header
    )
    plan = preview_phone_numbers(data=data)
    assert not plan.has_errors, plan.errors
    first, second = plan.rows
    # absent columns (branch, type, primary, active) take their defaults, never a stray cell
    assert first.values()["description"] is None and second.values()["description"] == "Empfang"
    assert [row.values()["type"] for row in plan.rows] == ["direct", "direct"]
    assert all(row.values()["is_active"] and not row.values()["is_primary"] for row in plan.rows)


def xlsx_with_damaged(part: str) -> bytes:
    """A real .xlsx whose ``part`` (a file in the zip) is cut short."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["company", "number"], ["A", "030 1"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in source.infolist():
            content = source.read(item)
            damaged.writestr(
                item, content[: len(content) // 2] if item.filename == part else content
            )
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "part",
    ["xl/workbook.xml", "[Content_Types].xml", "xl/styles.xml", "xl/worksheets/sheet1.xml"],
)
def test_a_damaged_xlsx_gets_one_message(part):
    with pytest.raises(ImportFileError, match="cannot be read: save it again as .xlsx"):
        preview_phone_numbers(data=xlsx_with_damaged(part))


def test_a_stray_cell_far_right_does_not_widen_every_row():
    from openpyxl import Workbook

    from integrations_app.phone_import.reader import XLSX_MAX_COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.append(["company", "number"])
    sheet.append(["A", "030 1234567"])
    sheet.cell(row=3, column=16384, value="x")  # column XFD
    out = io.BytesIO()
    book.save(out)
    rows = list(read_table(out.getvalue()).rows())
    assert [len(cells) for _number, cells in rows] == [XLSX_MAX_COLUMNS]
    assert rows[0][1][:2] == ["A", "030 1234567"]


def test_endless_empty_rows_count_against_the_row_limit(settings):
    from integrations_app.phone_import.reader import EMPTY_ROWS_ALLOWED

    settings.PHONE_IMPORT_MAX_ROWS = 5
    data = b"company,number\r\nA,030 1234567\r\n" + b",\r\n" * (10 + EMPTY_ROWS_ALLOWED)
    with pytest.raises(ImportFileError, match="more than 5 rows"):
        list(read_table(data).rows())
    # a few trailing empty rows (as Excel leaves them) are fine
    data = b"company,number\r\nA,030 1234567\r\n" + b",\r\n" * 20
    assert len(list(read_table(data).rows())) == 1
    # no header within the first rows: empty
    with pytest.raises(ImportFileError, match="empty"):
        read_table(b",\r\n" * (EMPTY_ROWS_ALLOWED + 5) + b"company,number\r\nA,1\r\n")


def test_a_header_in_decomposed_unicode_is_known():
    decomposed = "company,number,Prima\u0308r\r\nA,030 1234567,ja\r\n".encode()
    assert read_table(decomposed).positions["primary"] == 2
