"""The company page of a demo company in a real browser (issue 12, point 2): its integrations,
its rows, its open findings and the key panel are visible, with no CSP violation or error
(the ``browsing`` fixture's checks, conftest.py)."""

import pytest

from audit_app import snapshots
from integrations_app.models import Company
from tests.admin_rows import admin_url, changelist_url

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

    # Walkthrough 2: at 1280 px the company list scrolled sideways for its last four columns.
    page = browsing.open(changelist_url(Company), "company-list")
    widths = page.evaluate(
        "(e => [e.scrollWidth, e.clientWidth])(document.querySelector('#changelist .results'))"
    )
    headers = page.evaluate(
        "[...document.querySelectorAll('#result_list thead th')]"
        ".map(e => e.innerText.trim() + ' ' + e.offsetWidth).join(', ')"
    )
    assert widths[0] <= widths[1], f"{widths[0]} px in a {widths[1]} px box: {headers}"
    counts = page.locator("#result_list td.field-counted").first.inner_text()
    assert "Filiale" in counts and "Mitarbeiter" in counts
