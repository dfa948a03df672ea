"""The company page of a demo company in a real browser (issue 12, point 2): its integrations,
its rows, its open findings and the key panel are visible, with no CSP violation or error
(the ``browsing`` fixture's checks, conftest.py)."""

import pytest

from audit_app import snapshots
from integrations_app.models import Company
from tests.admin_rows import admin_url

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("browsing", ["de-DE"], indirect=True)
def test_a_demo_company_page_shows_its_parts(browsing, demo):
    snapshots.record(source="command")
    company = Company.objects.order_by("pk").first()
    browsing.login("support")
    page = browsing.open(admin_url(company), "company-page")

    integrations = page.locator("#company-integrations")
    assert integrations.is_visible()
    assert integrations.locator("a.askpro-set-up, a.askpro-change").count() >= 1
    rows = page.locator("#company-rows li")
    assert rows.count() == 3 and rows.first.is_visible()
    findings = page.locator("#company-findings")
    assert findings.is_visible() and "Audit-Befunde" in findings.inner_text()
    assert findings.locator("li.askpro-finding").count() >= 1
    panel = page.locator("table.askpro-key-panel")
    assert panel.is_visible() and "Während eines Anrufs" in panel.inner_text()
