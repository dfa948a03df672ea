"""Trends on the dashboard, new / resolved per check, "record now", the compare page and the
demo's snapshots (issue 15, points 1 and 2)."""

import io
import re
import sqlite3
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit_app import snapshots
from audit_app.measures import compute
from audit_app.models import AuditSnapshot
from integrations_app import roles
from tests import audit_rows as r
from tests import support

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"
RECORD = "/admin/audit_app/fixrecord/record/"
COMPARE = "/admin/audit_app/fixrecord/compare/"
MEASURES = (
    "integration_coverage",
    "phone_coverage",
    "routable_phone_coverage",
    "branch_coverage",
    "staff_per_branch",
)


def synthetic(days: int, *, now=None, findings=None) -> list[AuditSnapshot]:
    """One snapshot a day up to yesterday; phone coverage climbs 10.0, 11.5, 13.0 ..."""
    now = now or timezone.now()
    made = []
    for i in range(days):
        percent = round(10 + 1.5 * i, 1)
        made.append(
            AuditSnapshot(
                taken_at=now - timedelta(days=days - i),
                source="command",
                measures={
                    key: {"numerator": i, "denominator": 100, "percent": percent}
                    for key in MEASURES
                },
                counts={"AUD-BRN-001": {"severity": "critical", "count": 1, "available": True}},
                findings=findings or {"AUD-BRN-001": ["companies:999999"]},
            )
        )
    return AuditSnapshot.objects.bulk_create(made)


def tile(page: str, key: str) -> str:
    match = re.search(rf'<div class="askpro-tile[^"]*" id="measure-{key}".*?</ul>', page, re.S)
    assert match, f"no trend on the tile {key}"
    return match.group(0)


def check_block(page: str, check_id: str) -> str:
    # Up to the next check or the end of its group (a check holds a <details> of its own).
    match = re.search(
        rf'<details[^>]*id="check-{check_id}".*?(?=<details class="askpro-check|</section>)',
        page,
        re.S,
    )
    assert match, f"{check_id} not on the dashboard"
    return match.group(0)


def role_client(client, role: str | None, name: str):
    call_command("setup_roles", stdout=io.StringIO())
    user = User.objects.create_user(name, password="x", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


# --- the chart ---------------------------------------------------------------------------------


def test_the_dashboard_charts_a_month_of_snapshots_and_the_live_value(admin_client, settings):
    settings.AUDIT_TREND_POINTS = 60
    lonely = r.company("Ohne Nummer GmbH")
    r.branch(lonely)
    made = synthetic(30)
    live = compute()["phone_coverage"].percent  # 0.0: the one company has no number
    page = admin_client.get(DASHBOARD).text  # German by default

    block = tile(page, "phone_coverage")
    svg = re.search(r'<svg class="askpro-spark"[^>]*>.*?</svg>', block, re.S).group(0)
    expected = [round(10 + 1.5 * i, 1) for i in range(30)] + [live]
    points = [float(v) for v in re.search(r'data-points="([^"]+)"', svg).group(1).split()]
    assert points == expected
    # Each point a circle with its value and a title; the live one last.
    circles = re.findall(r'<circle[^>]*data-percent="([^"]+)"[^>]*data-snapshot="([^"]+)"', svg)
    assert [float(p) for p, _s in circles] == expected
    assert [s for _p, s in circles] == [str(s.pk) for s in made] + ["live"]
    assert svg.count("<title>") == 31 and "53,5 %" in svg  # German decimal comma
    # The polyline has as many points as the chart, on the fixed 0-100 % scale.
    polyline = re.search(r'<polyline[^>]*points="([^"]+)"', svg).group(1).split()
    assert len(polyline) == 31
    # A strict CSP: no style attribute, no script, nothing from outside.
    assert "style=" not in svg and "<script" not in svg and "href" not in svg

    # The changes: since the latest snapshot (53.5), 7 days (49.0 ... at or before) and 30 days.
    changes = dict(re.findall(r'data-kind="([^"]+)" data-change="([^"]+)"', block))
    assert changes["previous"] == f"{live - 53.5:.1f}"
    seven = next(s for s in reversed(made) if s.taken_at <= timezone.now() - timedelta(days=7))
    assert changes["7d"] == f"{live - seven.measures['phone_coverage']['percent']:.1f}"
    assert changes["30d"] == f"{live - 10.0:.1f}"
    assert "\u221253,5 Prozentpunkte" in block


def test_the_chart_keeps_the_newest_points_only(admin_client, settings):
    settings.AUDIT_TREND_POINTS = 5
    synthetic(30)
    page = admin_client.get(DASHBOARD).text
    spark = r'<svg class="askpro-spark"[^>]*>.*?</svg>'
    svg = re.search(spark, tile(page, "branch_coverage"), re.S).group(0)
    points = re.search(r'data-points="([^"]+)"', svg).group(1).split()
    assert points[:-1] == ["47.5", "49.0", "50.5", "52.0", "53.5"]


def test_without_snapshots_the_dashboard_says_so_and_draws_nothing(admin_client, english):
    page = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert "No snapshot recorded yet" in page
    measures = page.split('id="measures"', 1)[1].split('id="row-counts"', 1)[0]
    assert "askpro-spark" not in measures and "<circle" not in measures  # the bars aside


def measure_queries(client, url=DASHBOARD) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_dashboard_queries_do_not_grow_with_the_snapshots(admin_client):
    gap = r.company("Lücke GmbH")
    findings = {"AUD-BRN-001": [f"companies:{gap.pk}", "companies:999999"]}
    synthetic(3, findings=findings)
    measure_queries(admin_client)  # warm caches (content types, session)
    few = measure_queries(admin_client)
    latest = AuditSnapshot.objects.order_by("-taken_at").first()
    few_filtered = measure_queries(admin_client, f"{DASHBOARD}?new_since={latest.pk}")
    AuditSnapshot.objects.all().delete()
    synthetic(60, findings=findings)
    many = measure_queries(admin_client)
    latest = AuditSnapshot.objects.order_by("-taken_at").first()
    many_filtered = measure_queries(admin_client, f"{DASHBOARD}?new_since={latest.pk}")
    print(f"\ndashboard queries: {few} (3 snapshots) / {many} (60 snapshots)")
    assert few == many
    assert few_filtered == many_filtered


# --- new / resolved and the "new since" filter ---------------------------------------------------


def test_each_check_says_what_is_new_and_resolved_and_filters_to_the_new_rows(
    admin_client, english
):
    old_gap = r.company("Alte Lücke GmbH")
    fixed = r.company("Bald Behoben GmbH")
    first = snapshots.record()
    r.branch(fixed)  # resolved
    new_gap = r.company("Neue Lücke GmbH")  # new
    page = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    block = check_block(page, "AUD-BRN-001")
    assert 'data-new="1" data-resolved="1"' in block
    assert "1 new · 1 resolved since" in block
    link = f"?new_since={first.pk}#check-AUD-BRN-001"
    assert f'href="{link}"' in block
    assert "Alte Lücke GmbH" in block and "Neue Lücke GmbH" in block

    filtered = admin_client.get(DASHBOARD + link.split("#")[0], HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="new-since-note"' in filtered
    block = check_block(filtered, "AUD-BRN-001")
    assert "Neue Lücke GmbH" in block and "Alte Lücke GmbH" not in block
    assert "1 row is new since" in block
    assert 'data-count="2"' in block  # the count stays that of all rows
    assert old_gap.pk != new_gap.pk


def test_a_first_snapshot_has_no_since_and_a_bad_filter_lists_all(admin_client):
    r.company("Lücke GmbH")
    page = admin_client.get(DASHBOARD).text
    assert "askpro-delta" not in check_block(page, "AUD-BRN-001")
    page = admin_client.get(DASHBOARD + "?new_since=abc").text
    assert "Lücke GmbH" in check_block(page, "AUD-BRN-001")
    assert 'id="new-since-note"' not in page


def test_a_table_that_was_empty_and_is_nearly_empty_now_is_no_new_finding(
    admin_client, english, settings
):
    """The walkthrough added one integration: the integrations table left AUD-TBL-001 (empty)
    for AUD-TBL-002 (nearly empty), which read "1 new" there, as if something had broken."""
    settings.AUDIT_SPARSE_ROWS = 10
    company = r.company("Salon GmbH")
    first = snapshots.record()
    assert "integrations:None" in first.findings["AUD-TBL-001"]
    r.integration(company)
    second = snapshots.record()
    assert "integrations:None" in second.findings["AUD-TBL-002"]
    page = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert 'data-new="0"' in check_block(page, "AUD-TBL-002")
    filtered = admin_client.get(f"{DASHBOARD}?new_since={first.pk}").text
    assert 'data-table="integrations"' not in check_block(filtered, "AUD-TBL-002")
    changes = snapshots.delta(first, second)
    assert changes["AUD-TBL-002"].new == set()
    assert changes["AUD-TBL-001"].resolved == {"integrations:None"}  # it got better


# --- "record now" ------------------------------------------------------------------------------


def test_a_manager_records_a_snapshot_with_the_button(client, english):
    r.company("Lücke GmbH")
    manager = role_client(client, roles.MANAGER, "leitung")
    page = client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert f'action="{RECORD}"' in page and "csrfmiddlewaretoken" in page
    response = client.post(RECORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    snapshot = AuditSnapshot.objects.get()
    assert snapshot.source == "dashboard" and snapshot.taken_by == manager
    assert snapshot.counts["AUD-BRN-001"]["count"] == 1
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("recorded" in m for m in shown)
    assert reverse("admin:audit_app_record_snapshot") == RECORD


def test_the_button_needs_the_permission_and_a_post(client, english):
    role_client(client, roles.SUPPORT, "support")
    page = client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="record-snapshot"' not in page
    response = client.post(RECORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Nothing was recorded" in response.text
    assert not AuditSnapshot.objects.exists()

    role_client(client, roles.MANAGER, "leitung")
    response = client.get(RECORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert not AuditSnapshot.objects.exists()


def test_the_button_checks_the_csrf_token(english):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    role_client(client, roles.MANAGER, "leitung")
    assert client.post(RECORD).status_code == 403
    assert not AuditSnapshot.objects.exists()


def test_managers_have_the_permission_in_their_role():
    assert roles.RECORD_SNAPSHOT in roles.MANAGER_PERMISSIONS
    assert roles.RECORD_SNAPSHOT not in roles.SUPPORT_PERMISSIONS
    assert roles.RECORD_SNAPSHOT not in roles.READ_ONLY_PERMISSIONS


# --- the compare page --------------------------------------------------------------------------


def test_the_compare_page_puts_previous_and_latest_side_by_side(admin_client, english):
    gap = r.company("Erste Lücke GmbH")
    older = snapshots.record(taken_at=timezone.now() - timedelta(days=1))
    r.branch(gap)
    second = r.company("Zweite Lücke GmbH")
    newer = snapshots.record()
    response = admin_client.get(COMPARE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.text
    assert response.context["chosen_a"] == older.pk and response.context["chosen_b"] == newer.pk
    assert f'<option value="{older.pk}" selected>' in page
    row = re.search(r'<tr id="compare-check-AUD-BRN-001"[^>]*>.*?</tr>', page, re.S).group(0)
    assert 'data-before="1" data-after="1" data-new="1" data-resolved="1"' in row
    assert f"companies:{second.pk}" in row and f"companies:{gap.pk}" in row
    assert f'href="{reverse("admin:integrations_app_company_change", args=[second.pk])}"' in row
    # Every measure before → after.
    for key in MEASURES:
        assert f'id="compare-measure-{key}"' in page
    measure = re.search(r'id="compare-measure-branch_coverage".*?</tr>', page, re.S).group(0)
    assert "0.0&nbsp;%" in measure and "50.0&nbsp;%" in measure and "+50.0" in measure
    # Any two, the other way round, by the select boxes.
    flipped = admin_client.get(f"{COMPARE}?a={newer.pk}&b={older.pk}", HTTP_ACCEPT_LANGUAGE="en")
    row = re.search(r'<tr id="compare-check-AUD-BRN-001"[^>]*>.*?</tr>', flipped.text, re.S)
    assert 'data-new="1" data-resolved="1"' in row.group(0)


def test_the_compare_page_lists_fifty_keys_and_says_how_many_more(admin_client, english):
    now = timezone.now()
    counts = {"AUD-BRN-001": {"severity": "critical", "count": 0, "available": True}}
    older = AuditSnapshot.objects.create(taken_at=now - timedelta(days=2), counts=counts)
    keys = [f"companies:{n}" for n in range(1000, 1060)]
    newer = AuditSnapshot.objects.create(
        taken_at=now - timedelta(days=1),
        counts={"AUD-BRN-001": {"severity": "critical", "count": 60, "available": True}},
        findings={"AUD-BRN-001": keys},
    )
    page = admin_client.get(f"{COMPARE}?a={older.pk}&b={newer.pk}", HTTP_ACCEPT_LANGUAGE="en")
    row = re.search(r'<tr id="compare-check-AUD-BRN-001"[^>]*>.*?</tr>', page.text, re.S).group(0)
    assert row.count("<code>companies:") == 50
    assert "… and 10 more" in row and "60 new:" in row


def test_the_compare_page_without_two_snapshots_and_without_the_permission(
    admin_client, client, english
):
    response = admin_client.get(COMPARE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and 'id="compare-empty"' in response.text
    role_client(client, None, "niemand")
    assert client.get(COMPARE).status_code == 403


def test_the_compare_page_runs_a_fixed_number_of_queries(admin_client):
    synthetic(3)
    measure_queries(admin_client, COMPARE)
    few = measure_queries(admin_client, COMPARE)
    synthetic(60)
    assert measure_queries(admin_client, COMPARE) == few


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_snapshots_show_a_rising_trend(admin_client):
    from integrations_app.demo_data.snapshots import (
        DAYS,
        build_demo_snapshots,
        write_demo_snapshots,
    )

    call_command("seed_demo", stdout=io.StringIO())
    assert write_demo_snapshots() == DAYS
    made = list(AuditSnapshot.objects.order_by("taken_at"))
    assert {s.source for s in made} == {"demo"}
    assert made[-1].taken_at < timezone.now()
    live = compute()
    for key in ("phone_coverage", "branch_coverage"):
        series = [s.measures[key]["percent"] for s in made]
        assert series == sorted(series) and series[0] < series[-1] == live[key].percent
    # More findings the weeks before, some of them resolved since.
    counts = [s.counts["AUD-BRN-001"]["count"] for s in made]
    assert counts[0] > counts[-1]
    page = admin_client.get(DASHBOARD).text
    points = re.search(r'data-measure="branch_coverage" data-points="([^"]+)"', page).group(1)
    assert len(points.split()) == DAYS + 1
    # Deterministic: the same database gives the same snapshots.
    again = [s.measures for s in build_demo_snapshots()]
    assert again == [s.measures for s in made]


def test_setup_demo_writes_a_few_weeks_of_snapshots_once(tmp_path):
    path = tmp_path / "console.sqlite3"
    first = support.run_manage("setup_demo", database_url=f"sqlite:///{path}")
    assert first.returncode == 0, first.stderr
    assert "28 demo audit snapshots written" in first.stdout
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT source, COUNT(*) FROM audit_app_auditsnapshot GROUP BY source")
        assert dict(rows.fetchall()) == {"demo": 28}
    second = support.run_manage("setup_demo", database_url=f"sqlite:///{path}")
    assert second.returncode == 0, second.stderr
    assert "Audit snapshots are already there" in second.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM audit_app_auditsnapshot").fetchone()[0] == 28
