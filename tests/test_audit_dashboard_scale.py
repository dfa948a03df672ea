"""The dashboard at the gateway's size (issue 13, point 2): the latest snapshot's counts with
their age instead of the audit per page view, a check's rows read live on its own page, paged."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit_app import snapshots
from audit_app.registry import CheckUnavailable, get_check
from tests import audit_rows as r

pytestmark = pytest.mark.django_db

BRN_TITLE_DE = "Firmen, die telefonisch keine Buchung annehmen können (keine Filiale)"

DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"


def check_url(check_id: str) -> str:
    return f"/admin/audit_app/fixrecord/check/{check_id}/"


def block(page: str, check_id: str) -> str:
    # Up to the next check or the end of its group (a check holds a <details> of its own).
    match = re.search(
        rf'<details[^>]*id="check-{check_id}".*?(?=<details class="askpro-check|</section>)',
        page,
        re.S,
    )
    assert match, check_id
    return match.group(0)


def test_the_check_page_lists_the_rows_now_page_by_page(admin_client, monkeypatch):
    from audit_app import dashboard

    monkeypatch.setattr(dashboard, "PAGE_ROWS", 2)
    for n in range(5):
        r.company(f"Ohne Filiale {n}")
    page = admin_client.get(check_url("AUD-BRN-001"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.text
    assert 'data-count="5"' in text
    assert "Rows 1–2 of 5, read now." in text and "Page 1 of 3" in text
    assert "Ohne Filiale 0" in text and "Ohne Filiale 2" not in text
    assert 'href="?page=2" rel="next"' in text and 'rel="prev"' not in text
    last = admin_client.get(check_url("AUD-BRN-001") + "?page=3", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Rows 5–5 of 5" in last and "Ohne Filiale 4" in last and 'rel="next"' not in last
    # German by default (the check's texts; the page's own are in the report's msgid list).
    assert BRN_TITLE_DE in admin_client.get(check_url("AUD-BRN-001")).text


def test_a_paged_check_reads_only_its_page(admin_client, gateway_key, monkeypatch):
    from audit_app import dashboard

    monkeypatch.setattr(dashboard, "PAGE_ROWS", 1)
    c = r.company("Praxis Anrufe")
    first, second = r.customer(c), r.customer(c)
    r.call(c, first), r.call(c, second)
    text = admin_client.get(check_url("AUD-CUS-001") + "?page=2", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Rows 2–2 of 2" in text and second.name in text and f"{first.name} (" not in text


def test_the_check_page_unknown_unavailable_and_refused(admin_client, client, monkeypatch):
    assert admin_client.get(check_url("AUD-NOPE-999")).status_code == 404
    check = get_check("AUD-PHN-001")

    def unavailable():
        raise CheckUnavailable("GATEWAY_APP_KEY is not set")

    monkeypatch.setattr(check, "each", unavailable)  # find() reads each()
    text = admin_client.get(check_url("AUD-PHN-001"), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="check-unavailable"' in text and "GATEWAY_APP_KEY is not set" in text
    assert client.get(check_url("AUD-PHN-001")).status_code == 302  # to the login


def test_at_scale_the_dashboard_shows_the_snapshot_with_its_age(admin_client, settings):
    settings.AUDIT_DASHBOARD_LIVE_ROWS = 0  # as above the limit: the snapshot when there is one
    r.company("Erste Lücke GmbH")
    taken = snapshots.record()
    r.company("Zweite Lücke GmbH")  # after the snapshot: its count is still 1
    response = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")
    text = response.text
    assert response.context["from_snapshot"].pk == taken.pk
    assert 'id="from-snapshot"' in text and "The counts and measures are those of" in text
    found = block(text, "AUD-BRN-001")
    assert 'data-count="1"' in found
    assert "Erste Lücke GmbH" not in found  # no rows on the dashboard: read on the check page
    assert f'href="{check_url("AUD-BRN-001")}"' in found and "Show the 1 row (read now)" in found
    # The check's page reads now: both companies.
    rows = admin_client.get(check_url("AUD-BRN-001")).text
    assert "Erste Lücke GmbH" in rows and "Zweite Lücke GmbH" in rows
    # Without a snapshot, or below the size, the audit runs live.
    settings.AUDIT_DASHBOARD_LIVE_ROWS = None
    live = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")
    assert live.context["from_snapshot"] is None
    assert 'data-count="2"' in block(live.text, "AUD-BRN-001")


def test_the_snapshot_dashboard_reads_few_queries_whatever_the_rows(admin_client, settings):
    settings.AUDIT_DASHBOARD_LIVE_ROWS = 0
    r.company("Lücke GmbH")
    snapshots.record()
    admin_client.get(DASHBOARD)  # warm: session, content types

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(DASHBOARD).status_code == 200
        return len(captured)

    few = queries()
    for n in range(30):
        r.branch(r.company(f"Firma {n}"))
    snapshots.record()
    many = queries()
    print(f"\nsnapshot dashboard queries: {few} / {many}")
    assert few == many < 20
