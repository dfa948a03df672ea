"""The phone-number export streams in bounded memory (issue 13, point 5): keyset chunks, one
query per chunk whatever the number of rows, the library's cells (its English CSV byte for byte
after a BOM; in German the same cells with semicolons, tests/test_phone_export_excel.py)."""

import codecs
import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from integrations_app.admin.tenancy import PhoneNumberAdmin
from integrations_app.models import PhoneNumber
from integrations_app.phone_import.resource import PhoneNumberResource
from tests import audit_rows as r

pytestmark = pytest.mark.django_db

EXPORT = "admin:integrations_app_phonenumber_export"
CSV, XLSX = "0", "1"


def numbers(count: int, start: int = 0) -> None:
    company = r.company(f"Firma {start}")
    branch = r.branch(company, "Zentrale")
    for i in range(start, start + count):
        r.number(company, f"+4930231{i:05d}", branch, description=f"=Zeile {i}")


def export(client, fmt: str = CSV, language: str = "de"):
    client.get(reverse(EXPORT))  # the session, outside the counted request
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse(EXPORT), {"format": fmt, "resource": "0"}, HTTP_ACCEPT_LANGUAGE=language
        )
        data = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response.streaming
    return data, len(queries)


def test_the_export_reads_one_query_per_chunk_whatever_the_rows(admin_client, monkeypatch):
    monkeypatch.setattr(PhoneNumberAdmin, "export_chunk_size", 3)
    numbers(5)
    small, small_queries = export(admin_client)
    numbers(10, start=100)
    large, large_queries = export(admin_client)
    assert small.count(b"\r\n") == 1 + 5 and large.count(b"\r\n") == 1 + 15
    # 5 rows: chunks of 3 and 2; 15 rows: 5 full chunks and the empty one that ends them
    assert large_queries - small_queries == 6 - 2


def test_the_csv_has_the_library_s_cells_in_number_order(admin_client, monkeypatch):
    monkeypatch.setattr(PhoneNumberAdmin, "export_chunk_size", 2)
    numbers(7)
    queryset = PhoneNumber.objects.select_related("company", "branch").order_by("number")
    # English: after the BOM, the library's file byte for byte
    data, _ = export(admin_client, language="en")
    with translation.override("en"):
        expected = PhoneNumberResource().export(queryset=queryset).csv
    assert data == codecs.BOM_UTF8 + expected.encode("utf-8")
    assert "'=Zeile 0" in expected  # neutralised cells, as before
    # German: the same cells, separated by semicolons, under the German header
    data, _ = export(admin_client, language="de")
    with translation.override("de"):
        dataset = PhoneNumberResource().export(queryset=queryset)
    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert cells == [list(dataset.headers)] + [list(row) for row in dataset]
    assert cells[0][0] == "Firma"


def test_the_xlsx_has_the_library_s_cells(admin_client, monkeypatch):
    monkeypatch.setattr(PhoneNumberAdmin, "export_chunk_size", 2)
    numbers(5)
    data, _ = export(admin_client, XLSX)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    queryset = PhoneNumber.objects.select_related("company", "branch").order_by("number")
    with translation.override("de"):  # the export's language
        dataset = PhoneNumberResource().export(queryset=queryset, force_native_type=True)
    expected = [list(dataset.headers)] + [list(row) for row in dataset]
    assert rows == [[c if c != "" else None for c in row] for row in expected]
    assert sheet.freeze_panes == "A2"
