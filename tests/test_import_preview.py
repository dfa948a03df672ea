"""The import shows what it will write (issue 12, point 5): the preview's E.164 number, names and
before → after, the errors CSV uploaded again as it is, the template, the "New import" button,
the xlsx preview without its empty columns."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.phone_import.columns import header_names
from tests import audit_rows as r
from tests.phone_import_files import csv_bytes, xlsx_bytes
from tests.test_phone_import import HEADER_DE
from tests.test_phone_import_admin import (
    CONFIRM,
    EN,
    ERRORS,
    PREVIEW,
    UPLOAD,
    confirm,
    excel_file,
    statuses,
    upload,
    world,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.django_db

DE = {"HTTP_ACCEPT_LANGUAGE": "de"}
HEADER_EN = ["company", "branch", "number", "type", "primary", "active", "description"]
TEMPLATE = "admin:integrations_app_phonenumber_phone_import_template"
RECORDS = "admin:integrations_app_phoneimport_changelist"


def by_row(response) -> dict[int, dict]:
    return {row["row"]: row for row in response.context["rows"]}


@pytest.fixture
def existing(world):  # noqa: F811
    return r.number(world["praxis"], "+493023125101", world["mitte"], description="alt",
                    type="direct", is_primary=False, is_active=True)  # fmt: skip


def test_the_preview_shows_e164_names_and_what_an_update_changes(admin_client, world, existing):  # noqa: F811
    rows = [
        HEADER_EN,
        ["Bäckerei Müller & Söhne", "", "0221 4710 123", "", "", "", ""],  # new
        ["Praxis Dr. Lindenberg", "Pankow", "030 23125-101", "", "", "", "neu"],  # update
        ["Praxis Dr. Lindenberg", "Mitte", "+49 30 23125101", "", "", "", "zwei"],  # twice: error
        ["Bäckerei Meier", "", "030 23125109", "", "", "", ""],  # error, a valid number
    ]
    response = upload(admin_client, csv_bytes(rows))
    shown = by_row(response)
    assert {n: row["status"] for n, row in shown.items()} == {
        2: "new", 3: "error", 4: "error", 5: "error"
    }  # fmt: skip
    assert (shown[2]["number"], shown[2]["company"], shown[2]["branch"]) == (
        "+492214710123", "Bäckerei Müller & Söhne", "Köln Süd"
    )  # fmt: skip
    assert shown[5]["number"] == "+493023125109"  # an error row: its number still in E.164
    assert shown[5]["company"] == ""
    # an error row whose company and branch resolve names them too (walkthrough 2)
    assert (shown[4]["company"], shown[4]["branch"]) == ("Praxis Dr. Lindenberg", "Mitte")
    assert (shown[3]["company"], shown[3]["branch"]) == ("Praxis Dr. Lindenberg", "Pankow")

    # without the number twice: row 3 is an update with exactly its changes
    response = upload(admin_client, csv_bytes(rows[:3]))
    update = by_row(response)[3]
    assert update["status"] == "update"
    assert (update["number"], update["company"], update["branch"]) == (
        "+493023125101", "Praxis Dr. Lindenberg", "Pankow"
    )  # fmt: skip
    assert [(c.field, c.before, c.after) for c in update["changes"]] == [
        ("branch_id", "Mitte", "Pankow"), ("description", "alt", "neu")
    ]  # fmt: skip
    page = response.content.decode()
    assert 'data-field="branch_id">branch: <span class="import-before">Mitte</span> → ' in page
    assert '<span class="import-new">new</span>' in page

    german = admin_client.get(reverse(PREVIEW), **DE).content.decode()
    assert '<span class="import-new">neu</span>' in german
    assert 'data-field="branch_id">Filiale: <span class="import-before">Mitte</span>' in german
    assert 'data-field="type"' not in german  # unchanged fields are not listed


def test_the_previews_queries_do_not_grow_with_its_rows(admin_client, world, existing):  # noqa: F811
    def preview_queries(count: int) -> int:
        rows = [HEADER_EN, ["Praxis Dr. Lindenberg", "Pankow", "+493023125101", "", "", "", "x"]]
        for i in range(count - 1):
            company, branch = ("Praxis Dr. Lindenberg", "Mitte" if i % 2 else "Pankow")
            if i % 3 == 0:
                company, branch = "Bäckerei Müller & Söhne", ""
            rows.append([company, branch, f"+4930231252{i:02d}", "", "", "", f"Zeile {i}"])
        upload(admin_client, csv_bytes(rows))
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse(PREVIEW), **EN)
        assert len(response.context["rows"]) == count
        assert by_row(response)[2]["changes"]  # an update among them, with names
        return len(captured)

    assert preview_queries(10) == preview_queries(100)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_errors_csv_corrected_is_uploaded_again_as_it_is(admin_client, world, language):  # noqa: F811
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    upload(admin_client, excel_file(world, fixed=False))
    text = admin_client.get(reverse(ERRORS), **headers).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    report = ["row", "column", "error"] if language == "en" else ["Zeile", "Spalte", "Fehler"]
    assert lines[0][-3:] == report
    fixed = {"4": {1: "Pankow"}, "5": {2: "030/23125103"}, "6": {0: "Bäckerei Müller & Söhne"}}
    for line in lines[1:]:
        for position, cell in fixed.get(line[7], {}).items():
            line[position] = cell
    again = upload(admin_client, csv_bytes(lines, delimiter=";", bom=True), name="fehler.csv")
    assert set(statuses(again).values()) == {"new"}, again.context["errors"]
    assert len(again.context["rows"]) == 5  # every row of the file, none twice
    assert again.context["headers"] == HEADER_DE  # the added columns are not shown either
    assert confirm(admin_client, again).status_code == 302
    assert PhoneImport.objects.get().new_count == 5 and PhoneNumber.objects.count() == 5
    written = PhoneNumber.objects.get(number="+492214710123")
    assert written.description == "=HYPERLINK(1)"  # the neutralised cell read back as it was


def test_only_the_errors_csvs_own_columns_are_ignored(admin_client, world):  # noqa: F811
    rows = [
        [*HEADER_EN, "Fehler", "Zeile", "Spalte", "remark"],
        ["Bäckerei Müller & Söhne", "", "030 23125120", "", "", "", "", "x", "2", "y", "z"],
    ]
    refused = upload(admin_client, csv_bytes(rows))
    assert "Unknown column(s) “remark”" in refused.content.decode()
    accepted = upload(admin_client, csv_bytes([row[:-1] for row in rows]))
    assert statuses(accepted) == {2: "new"}


def test_the_errors_csv_lists_each_row_once_with_all_its_errors(admin_client, world):  # noqa: F811
    rows = [HEADER_EN, ["Bäckerei Meier", "", "12", "", "vielleicht", "", ""]]
    upload(admin_client, csv_bytes(rows))
    text = admin_client.get(reverse(ERRORS), **EN).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    assert len(lines) == 2
    assert lines[1][7:9] == ["2", "company, number, primary"]
    assert lines[1][9].count(" | ") == 2


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_template_has_the_importers_headers_and_imports_once_filled(
    admin_client,
    world,  # noqa: F811
    kind,
    language,
):
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    page = admin_client.get(reverse(UPLOAD), **headers).content.decode()
    url = reverse(TEMPLATE, args=[kind])
    assert f'href="{url}"' in page
    response = admin_client.get(url, **headers)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = _rows(response.content, kind)
    expected = header_names(language)
    assert rows[0] == expected
    assert expected == (HEADER_EN if language == "en" else HEADER_DE)
    assert len(rows) == 2  # the header and one example row

    # unchanged, the made-up example imports nothing
    unchanged = upload(admin_client, response.content, name=f"vorlage.{kind}")
    assert statuses(unchanged) == {2: "error"}
    # filled in: the example row's company and branch replaced by real ones
    filled = _filled(response.content, kind, ["Praxis Dr. Lindenberg", "Pankow"])
    done = upload(admin_client, filled, name=f"vorlage.{kind}")
    assert statuses(done) == {2: "new"}, done.context["errors"]
    assert by_row(done)[2]["number"] == "+493023125000"
    assert confirm(admin_client, done).status_code == 302
    assert PhoneNumber.objects.get().branch_id == world["pankow"].pk


def _rows(data: bytes, kind: str) -> list[list[str]]:
    if kind == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).active
        return [[str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if ";" in text else ","))


def _filled(data: bytes, kind: str, cells: list[str]) -> bytes:
    rows = _rows(data, kind)
    rows[1][: len(cells)] = cells
    return xlsx_bytes(rows) if kind == "xlsx" else csv_bytes(rows)


def test_a_template_needs_the_import_permission_and_a_known_format(
    admin_client, client, django_user_model
):
    assert admin_client.get(reverse(TEMPLATE, args=["pdf"]), **EN).status_code == 404
    viewer = django_user_model.objects.create_user("viewer", password="x-test-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_phonenumber"))
    client.force_login(viewer)
    assert client.get(reverse(TEMPLATE, args=["csv"]), **EN).status_code == 403


def test_the_import_records_offer_a_new_import(admin_client, client, django_user_model):
    page = admin_client.get(reverse(RECORDS), **EN).content.decode()
    assert f'href="{reverse(UPLOAD)}"' in page and "New import" in page
    assert "Neuer Import" in admin_client.get(reverse(RECORDS), **DE).content.decode()
    viewer = django_user_model.objects.create_user("viewer", password="x-test-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_phoneimport"))
    client.force_login(viewer)
    page = client.get(reverse(RECORDS), **EN).content.decode()
    assert "New import" not in page and reverse(UPLOAD) not in page


def test_an_xlsx_preview_shows_only_the_columns_the_import_reads(admin_client, world):  # noqa: F811
    rows = [
        ["company", None, "number", None, "description"],
        ["Bäckerei Müller & Söhne", None, "030 23125110", None, "x" * 255],
        ["Bäckerei Müller & Söhne", "not read", "030 23125111", None, ""],
    ]
    response = upload(admin_client, xlsx_bytes(rows), name="nummern.xlsx")
    assert response.context["headers"] == ["company", "number", "description"]
    assert [len(row["cells"]) for row in response.context["rows"]] == [3, 3]
    table = response.content.decode().split('id="import-rows"')[1].split("</table>")[0]
    assert table.count('<li class="import-cell">') == 2 * 3  # each row's cells, by header
    assert table.count('<span class="import-header">description:</span>') == 2
    assert set(statuses(response).values()) == {"new"}, response.context["errors"]
    assert "not read" not in table
    assert by_row(response)[2]["branch"] == "Köln Süd"  # the company's only branch


def test_confirm_still_writes_only_what_the_preview_showed(admin_client, world, existing):  # noqa: F811
    rows = [HEADER_EN, ["Praxis Dr. Lindenberg", "Pankow", "030 23125101", "", "", "", "neu"]]
    response = upload(admin_client, csv_bytes(rows))
    existing.description = "anders"
    existing.save()
    refused = admin_client.post(
        reverse(CONFIRM), {"token": response.context["stored"]["token"]}, **EN
    )
    assert refused.status_code == 200 and not PhoneImport.objects.exists()
    change = by_row(refused)[2]["changes"]
    assert ("description", "anders", "neu") in [(c.field, c.before, c.after) for c in change]


@pytest.mark.parametrize(
    "language, said",
    [
        ("de", ["Typ/type (Durchwahl/direct oder Hotline)",
                "Aktiv/active (1/0, ja/nein, yes/no oder true/false)",
                "CSV (getrennt durch Semikolon, Komma oder Tabulator; "
                "UTF-8, UTF-16, UTF-32 oder Windows-1252)"]),
        ("en", ["type/Typ (direct/Durchwahl or hotline)",
                "active/Aktiv (1/0, ja/nein, yes/no or true/false)",
                "CSV (separated by semicolon, comma or tab; UTF-8, UTF-16, UTF-32 or "
                "Windows-1252)"]),
    ],
)  # fmt: skip
def test_the_upload_page_says_what_the_reader_reads_and_it_does(
    admin_client,
    world,  # noqa: F811
    language,
    said,
):
    page = admin_client.get(reverse(UPLOAD), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in said:
        assert text in " ".join(page.split()), text
    # what the page names is read: tab-separated UTF-16 (Excel's "Unicode text"), the German
    # words, and the English ones
    rows = [
        HEADER_DE,
        ["Praxis Dr. Lindenberg", "Mitte", "030 23125180", "Hotline", "ja", "nein", ""],
        ["Praxis Dr. Lindenberg", "Mitte", "030 23125181", "direct", "no", "yes", ""],
    ]
    data = csv_bytes(rows, delimiter="\t", encoding="utf-16")
    response = upload(admin_client, data, name="unicode.txt")
    assert statuses(response) == {2: "new", 3: "new"}, response.context["errors"]
    assert confirm(admin_client, response).status_code == 302
    written = PhoneNumber.objects.order_by("number")
    assert [(n.type, n.is_primary, n.is_active) for n in written] == [
        ("hotline", True, False), ("direct", False, True)
    ]  # fmt: skip


def test_the_preview_counts_rows_with_errors_and_their_errors_alike(admin_client, world):  # noqa: F811
    """Walkthrough 2: the header said „Fehler: 2“ (rows), the banner „3 Fehler“ (errors)."""
    rows = [
        HEADER_EN,
        ["Gibtsnicht GmbH", "", "12", "", "", "", ""],  # two errors
        ["Praxis Dr. Lindenberg", "Pankow", "030 1234 5678", "", "", "", "x" * 300],  # one
    ]
    upload(admin_client, csv_bytes(rows))
    german = admin_client.get(reverse(PREVIEW), **DE).content.decode()
    assert '<span data-status="error">Zeilen mit Fehlern: <strong>2</strong></span>' in german
    assert "2 Zeilen mit Fehlern (3 Fehler). Es wird nichts importiert" in german
    english = admin_client.get(reverse(PREVIEW), **EN)
    assert "2 rows with errors (3 errors). Nothing will be imported" in english.content.decode()
    shown = by_row(english)
    assert (shown[3]["company"], shown[3]["branch"]) == ("Praxis Dr. Lindenberg", "Pankow")
    assert shown[3]["number"] == "+493012345678"
    assert shown[2]["company"] == ""  # no such company: nothing to name
    assert '<span class="import-company">Praxis Dr. Lindenberg</span>' in english.content.decode()
