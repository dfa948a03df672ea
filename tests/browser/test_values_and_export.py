"""What a German reader sees of the gateway's values (issue 12, point 3) and the CSV export that
German Excel opens (point 6), in Chromium with a de-DE browser."""

import csv
import datetime
import io
from pathlib import Path

import pytest

from integrations_app.models import Call, Customer
from tests import audit_rows
from tests import fake_providers as fp

pytestmark = pytest.mark.browser

# 03:25 UTC is 04:25 in Berlin (winter time): the page shows the latter only.
MOMENT = datetime.datetime(2026, 1, 15, 3, 25, tzinfo=datetime.UTC)


@pytest.mark.parametrize("browsing", ["de-DE"], indirect=True)
def test_labels_local_times_and_an_export_for_german_excel(browsing):
    company = fp.make_company("Praxis Mühlbach")
    mitte = audit_rows.branch(company, "Mitte")
    audit_rows.number(company, "+493023125101", mitte, description="Empfang Süd")
    customer = Customer.objects.create(company=company, name="Ada Muster")
    Call.objects.create(
        company=company,
        customer=customer,
        retell_call_id="call_browser_1",
        direction="inbound",
        status="completed",
        start_timestamp=MOMENT,
    )
    b, page = browsing, browsing.page
    b.login("support")

    b.open("/admin/integrations_app/call/", "calls")
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert "Eingehend" in row and "Abgeschlossen" in row, row
    assert "inbound" not in row and "completed" not in row, row
    assert "04:25" in row and "03:25" not in row, row
    filters = page.locator("#changelist-filter").inner_text()
    assert "Eingehend" in filters and "inbound" not in filters

    b.open("/admin/integrations_app/phonenumber/export/", "export")
    listed = page.locator("#content").inner_text()
    assert "Firma, Filiale, Nummer" in listed and "company" not in listed, listed
    page.select_option("select[name=format]", value="0")  # CSV, the first format (chosen)
    with page.expect_download() as download:
        page.locator("form:has(select[name=format]) [type=submit]").first.click()
    name = download.value.suggested_filename
    data = Path(download.value.path()).read_bytes()
    assert name.startswith("telefonnummern-") and name.endswith(".csv"), name
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]  # UTF-8 with a BOM: Excel reads it so
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Firma", "Filiale", "Nummer"], rows[0]
    assert rows[1][:2] == ["Praxis Mühlbach", "Mitte"] and "Empfang Süd" in rows[1], rows[1]
    b.step("exported")
