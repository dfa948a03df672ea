"""Findings as a file: one check's rows or the whole audit's, as CSV (Excel-friendly) or .xlsx."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit_app import exports
from audit_app.registry import CheckUnavailable, get_check, run_all
from audit_app.report import row_severity
from tests import audit_rows as r

pytestmark = pytest.mark.django_db

BRN_TITLE_EN = "Companies that cannot take bookings by phone (no branch)"
BRN_TITLE_DE = "Firmen, die telefonisch keine Buchung annehmen können (keine Filiale)"

CHECK = "AUD-BRN-001"  # companies without a branch
CHECK_CSV = f"/admin/audit_app/fixrecord/check/{CHECK}/export.csv"
CHECK_XLSX = f"/admin/audit_app/fixrecord/check/{CHECK}/export.xlsx"
ALL_CSV = "/admin/audit_app/fixrecord/export.csv"
ALL_XLSX = "/admin/audit_app/fixrecord/export.xlsx"
DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"
DE = {"HTTP_ACCEPT_LANGUAGE": "de"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# "Check ID", "Row key" and "Label" are German once the locale has them (new msgids).
GERMAN_HEADERS = {1: "Schweregrad", 2: "Prüfung", 3: "Tabelle", 6: "Detail"}
HEADERS_EN = ["Check ID", "Severity", "Check", "Table", "Row key", "Label", "Detail"]


@pytest.fixture
def companies():
    """Two companies without a branch: an umlaut and a formula in their names."""
    return [r.company("Bäckerei Müller & Söhne"), r.company('=HYPERLINK("http://x.test","klick")')]


def read_csv(response, delimiter: str) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def assert_german_headers(line: list[str]) -> None:
    assert len(line) == 7
    assert {i: line[i] for i in GERMAN_HEADERS} == GERMAN_HEADERS


def test_urls_are_stable():
    assert reverse("admin:audit_app_export_check", args=[CHECK, "csv"]) == CHECK_CSV
    assert reverse("admin:audit_app_export", args=["xlsx"]) == ALL_XLSX


def test_a_checks_rows_as_csv_in_german(admin_client, companies):
    response = admin_client.get(CHECK_CSV, **DE)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="audit-{CHECK}-{day}.csv"'
    assert b"\r\n" in response.content
    lines = read_csv(response, ";")
    assert_german_headers(lines[0])
    by_key = {line[4]: line for line in lines[1:]}
    assert len(by_key) == len(lines) - 1 == 2
    bakery, formula = (by_key[str(c.pk)] for c in companies)
    assert bakery == [CHECK, "Kritisch", BRN_TITLE_DE, "companies", str(companies[0].pk),
                      "Bäckerei Müller & Söhne", "keine aktive Filiale"]  # fmt: skip
    # The formula is a text in a spreadsheet: a leading quote, the rest as it was.
    assert formula[5] == "'" + companies[1].name
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_a_checks_rows_as_csv_in_english_are_comma_separated(admin_client, companies):
    lines = read_csv(admin_client.get(CHECK_CSV, **EN), ",")
    assert lines[0] == HEADERS_EN
    bakery = next(line for line in lines if line[5] == "Bäckerei Müller & Söhne")
    assert bakery[:4] == [CHECK, "Critical", BRN_TITLE_EN, "companies"]
    assert bakery[6] == "no live branch"


def test_the_xlsx_has_the_same_rows_as_the_csv(admin_client, companies):
    response = admin_client.get(CHECK_XLSX, **DE)
    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="audit-{CHECK}-{day}.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == CHECK
    cells = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells == read_csv(admin_client.get(CHECK_CSV, **DE), ";")
    # No cell is a formula: the neutralised name is stored as text.
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_whole_audit_has_every_checks_rows(admin_client, companies):
    expected = []
    for outcome in run_all():
        check = outcome.check
        if not outcome.available:  # the key checks without GATEWAY_APP_KEY: one row saying so
            expected.append((check.id, "", str(check.severity.label)))
        for row in outcome.rows:
            key = "" if row.pk is None else str(row.pk)  # the inventory: tables, no row
            expected.append((check.id, key, str(row_severity(check, row).label)))
    assert any(key == "" for _, key, _ in expected)
    lines = read_csv(admin_client.get(ALL_CSV, **DE), ";")
    assert_german_headers(lines[0])
    assert [(line[0], line[4], line[1]) for line in lines[1:]] == expected
    assert CHECK in {line[0] for line in lines[1:]}
    response = admin_client.get(ALL_XLSX, **EN)
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="audit-{day}.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Findings"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS_EN
    assert len(rows) == len(lines)


def test_a_check_that_cannot_judge_says_so_in_the_file(admin_client, monkeypatch, english):
    check = get_check(CHECK)

    def unavailable():
        raise CheckUnavailable("no GATEWAY_APP_KEY")

    monkeypatch.setattr(check, "each", unavailable)  # find() reads each()
    lines = read_csv(admin_client.get(CHECK_CSV, **EN), ",")
    assert lines[1:] == [[CHECK, "Critical", BRN_TITLE_EN, "", "", "not available",
                          "no GATEWAY_APP_KEY"]]  # fmt: skip


def test_an_unknown_check_is_a_404_with_a_message(admin_client):
    response = admin_client.get("/admin/audit_app/fixrecord/check/AUD-XXX-999/export.csv", **EN)
    assert response.status_code == 404
    assert "There is no check AUD-XXX-999." in response.text
    response = admin_client.get(f"/admin/audit_app/fixrecord/check/{CHECK}/export.pdf", **EN)
    assert response.status_code == 404
    assert "CSV or xlsx only" in response.text


def test_without_the_dashboard_permission_403(client, companies):
    user = get_user_model().objects.create_user("support", password="pw-support-123", is_staff=True)
    client.force_login(user)
    for url in (CHECK_CSV, CHECK_XLSX, ALL_CSV, ALL_XLSX):
        assert client.get(url).status_code == 403, url
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    for url in (CHECK_CSV, CHECK_XLSX, ALL_CSV, ALL_XLSX):
        assert client.get(url).status_code == 200, url


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get(CHECK_CSV)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_only_get(admin_client, companies):
    for url in (CHECK_CSV, ALL_XLSX):
        response = admin_client.post(url)
        assert response.status_code == 405
        assert response["Allow"] == "GET"


def test_the_dashboard_links_the_exports(admin_client, companies):
    response = admin_client.get(DASHBOARD)
    page = response.text
    assert f'href="{ALL_CSV}"' in page and f'href="{ALL_XLSX}"' in page
    assert f'href="{CHECK_CSV}"' in page and f'href="{CHECK_XLSX}"' in page
    # Only checks with findings offer their rows as a file.
    parts = [part for group in response.context["groups"] for part in group.checks]
    with_findings = [part for part in parts if part.state == "findings"]
    assert len(with_findings) < len(parts)
    assert page.count('/export.csv"') == len(with_findings) + 1


def export_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [CHECK_CSV, CHECK_XLSX, ALL_CSV, ALL_XLSX])
def test_queries_do_not_grow_with_the_affected_rows(admin_client, url):
    for _ in range(2):
        r.company()
    export_queries(admin_client, url)  # warm caches (content types, session)
    few = export_queries(admin_client, url)
    for _ in range(28):
        r.company()
    many = export_queries(admin_client, url)
    print(f"\n{url}: {few} queries (2 companies) / {many} (30 companies)")
    assert few == many
    # Beyond the session and the user, only the checks' own queries.
    with CaptureQueriesContext(connection) as checks:
        run_all() if url in (ALL_CSV, ALL_XLSX) else get_check(CHECK).run()
    assert many == 2 + len(checks)


def test_delimiter_by_language():
    assert exports.delimiter("de") == ";" and exports.delimiter("de-at") == ";"
    assert exports.delimiter("en") == "," and exports.delimiter("en-us") == ","
