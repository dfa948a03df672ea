"""The readiness dashboard: staff only, German by default, the review's figures, fixed queries."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from audit_app import snapshots
from audit_app.registry import CheckUnavailable, all_checks, get_check, run_all
from integrations_app.models import Branch, Company
from tests import admin_rows

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def english(client, url):
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def check_block(page: str, check_id: str) -> str:
    """The <details> of one check on the dashboard."""
    # Up to the next check or the end of its group (a check holds a <details> of its own).
    match = re.search(
        rf'<details[^>]*id="check-{check_id}".*?(?=<details class="askpro-check|</section>)',
        page,
        re.S,
    )
    assert match, f"{check_id} not on the dashboard"
    return match.group(0)


def test_the_url_is_stable():
    assert reverse("admin:audit_app_dashboard") == DASHBOARD


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_non_staff_users_are_sent_to_the_login(client):
    user = get_user_model().objects.create_user("kunde", password="pw-kunde-123")
    client.force_login(user)
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_dashboard_opens_for_staff_in_german_by_default(admin_client):
    response = admin_client.get(DASHBOARD)
    assert response.status_code == 200
    page = response.text
    assert '<html lang="de"' in page
    # Every registered check is on the page, in one of the three severity groups.
    for check in all_checks():
        assert f'id="check-{check.id}"' in page
    for severity in ("critical", "warning", "info"):
        assert f'id="severity-{severity}"' in page
    for section in ("measures", "row-counts", "history"):
        assert f'id="{section}"' in page


def test_dashboard_loads_nothing_from_outside_and_runs_no_script(admin_client):
    page = admin_client.get(DASHBOARD).text
    # No script, style sheet, image or font from another host.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", page)
    assert "@import" not in page and "@font-face" not in page and "url(http" not in page
    # The dashboard itself needs no script (the admin's own static scripts aside).
    content = page.split('id="content-main"', 1)[1]
    assert "<script" not in content


def test_index_and_header_link_to_the_dashboard(admin_client):
    index = admin_client.get("/admin/").text
    assert index.count(f'href="{DASHBOARD}"') >= 2  # the panel on the index and the header
    company_list = admin_client.get(admin_rows.changelist_url(Company)).text
    assert f'href="{DASHBOARD}"' in company_list


def test_demo_data_shows_the_reviews_figures(admin_client, demo):
    response = english(admin_client, DASHBOARD)
    assert response.status_code == 200
    page = response.text
    tiles = {tile.key: tile for tile in response.context["tiles"]}
    assert (tiles["integration_coverage"].numerator, tiles["integration_coverage"].denominator) == (
        0,
        13,
    )
    assert (tiles["phone_coverage"].numerator, tiles["phone_coverage"].denominator) == (4, 13)
    assert 'id="measure-integration_coverage" data-numerator="0" data-denominator="13"' in page
    assert 'id="measure-phone_coverage" data-numerator="4" data-denominator="13"' in page
    assert "0 of 13 companies" in page
    assert "4 of 13 companies" in page
    # Bars are drawn by the server: an SVG rect in a 0-100 viewBox (no style attribute under
    # the CSP), its width with a dot even in German.
    assert '<rect width="0.0" height="1">' in page
    assert '<rect width="30.8" height="1">' in page
    german = admin_client.get(DASHBOARD).text
    assert '<rect width="30.8" height="1">' in german
    # The business tables' row counts, as in the review.
    counts = {table: rows for table, _label, rows, _estimated in response.context["row_counts"]}
    assert counts["companies"] == 13
    assert counts["integrations"] == 0
    assert counts["phone_numbers"] == 4


def test_checks_expand_to_their_rows_with_admin_links(admin_client, demo):
    page = english(admin_client, DASHBOARD).text
    block = check_block(page, "AUD-BRN-001")
    assert 'data-count="6"' in block
    without_branch = Company.objects.exclude(pk__in=Branch.objects.values("company_id")).order_by(
        "pk"
    )
    assert without_branch.count() == 6
    for company in without_branch:
        url = reverse("admin:integrations_app_company_change", args=[company.pk])
        assert f'href="{url}"' in block
    # A check with a fix links to its preview.
    assert f'href="{reverse("admin:audit_app_fix_preview", args=["create-main-branch"])}"' in block


def test_checks_are_grouped_by_severity_with_counts(admin_client, demo):
    response = english(admin_client, DASHBOARD)
    groups = {g.severity.value: g for g in response.context["groups"]}
    for severity, group in groups.items():
        for part in group.checks:
            # Each check once, under the worst severity of its rows (or its own).
            rated = {part.check.severity_of(r.affected) for r in part.rows}
            worst = max(rated, key=lambda s: s.rank).value if rated else part.check.severity
            assert worst == severity, part.check.id
        assert group.affected == sum(part.count for part in group.checks)
    # Every affected row is counted once, in the group of its severity.
    total = sum(outcome.count for outcome in run_all())
    assert sum(group.affected for group in groups.values()) == total
    critical = re.search(r'id="severity-critical".*?<h2>(.*?)</h2>', response.text, re.S).group(1)
    assert f"({groups['critical'].affected} rows)" in " ".join(critical.split())


def test_the_inventory_is_listed_once_under_its_worst_class(admin_client, demo):
    page = english(admin_client, DASHBOARD).text
    # integrations is business-critical (critical), customer_interactions operations-critical:
    # the check is listed once, under critical, and its block rates each table.
    critical = check_block(page, "AUD-TBL-001")
    assert critical in page.split('id="severity-critical"', 1)[1].split('id="severity-warning"')[0]
    assert 'id="check-AUD-TBL-001-' not in page
    assert re.search(r'class="askpro-inventory-critical" data-table="integrations"><td>', critical)
    assert re.search(
        r'class="askpro-inventory-warning" data-table="customer_interactions"><td>', critical
    )


def test_the_table_checks_list_their_tables_in_one_place(admin_client, demo):
    """The walkthrough found AUD-TBL-001/002 in their severity group and again in a table
    inventory below: the tables are listed once, in the check's own block."""
    page = admin_client.get(DASHBOARD).text
    assert 'id="inventory"' not in page
    assert "Tabellenübersicht" not in page
    for check_id in ("AUD-TBL-001", "AUD-TBL-002"):
        assert page.count(f"<code>{check_id}</code>") == 1, check_id
    assert page.count('data-table="integrations"') == 1
    block = check_block(page, "AUD-TBL-001")
    # The tables by their names, not the database's.
    assert "<td>Integrationen</td>" in block
    assert "<code>integrations</code>" not in page


def test_a_check_that_cannot_judge_is_shown_as_not_available(admin_client, monkeypatch):
    check = get_check("AUD-PHN-001")

    def unavailable():
        raise CheckUnavailable("GATEWAY_APP_KEY is not set")

    monkeypatch.setattr(check, "each", unavailable)  # find() reads each()
    page = english(admin_client, DASHBOARD).text
    block = check_block(page, "AUD-PHN-001")
    assert "askpro-state-unavailable" in block
    assert "not available" in block
    assert "GATEWAY_APP_KEY is not set" in block
    assert "askpro-ok" not in block


def test_the_table_inventory_names_the_class(admin_client, demo):
    response = english(admin_client, DASHBOARD)
    parts = {part.check.id: part for g in response.context["groups"] for part in g.checks}
    tables = {row.affected.table: row for row, _label, _severity in parts["AUD-TBL-001"].tables}
    assert "integrations" in tables
    assert tables["integrations"].affected.detail
    assert tables["integrations"].affected.detail in check_block(response.text, "AUD-TBL-001")


def test_one_sparse_table_row_is_singular(settings):
    from audit_app.checks.inventory import SparseTables

    settings.AUDIT_SPARSE_ROWS = 10
    with translation.override("de"):
        assert SparseTables().describe(1, "geschäftskritisch") == (
            "geschäftskritisch: 1 Zeile (weniger als 10)"
        )
        assert SparseTables().describe(2, "geschäftskritisch") == (
            "geschäftskritisch: 2 Zeilen (weniger als 10)"
        )
    with translation.override("en"):
        assert SparseTables().describe(1, "business-critical") == (
            "business-critical: 1 row (fewer than 10)"
        )


def test_the_business_tables_are_named_by_their_labels(admin_client, demo):
    page = admin_client.get(DASHBOARD).text
    counts = page.split('id="row-counts"', 1)[1].split('id="checks"', 1)[0]
    for label in ("Firmen", "Filialen", "Telefonnummern", "Integrationen"):
        assert f"<td>{label}</td>" in counts
    assert "<code>phone_numbers</code>" not in counts
    assert "companies</" not in counts


def test_trends_say_percentage_points(admin_client, demo):
    snapshots.record(taken_at=timezone.now() - timedelta(days=1))
    german = admin_client.get(DASHBOARD).text
    assert "Prozentpunkte seit dem vorigen Snapshot" in german
    assert " Pp " not in german
    assert "percentage points since the previous snapshot" in english(admin_client, DASHBOARD).text


def test_the_compare_page_names_the_source_as_the_dashboard_does(admin_client):
    snapshots.record(source="demo", taken_at=timezone.now() - timedelta(days=1))
    snapshots.record(source="demo")
    dashboard = admin_client.get(DASHBOARD).text
    compare = admin_client.get(reverse("admin:audit_app_compare")).text
    assert "(Demodaten)." in dashboard
    assert "(Demodaten)</option>" in compare
    assert "(demo)" not in compare


def test_the_links_at_the_top_are_items_of_their_own(admin_client):
    page = admin_client.get(DASHBOARD).text
    links = page.split('id="dashboard-links"', 1)[1].split("</ul>", 1)[0]
    assert links.count("<li") == 3
    assert 'href="#history"' in links and 'id="export-all"' in links
    assert 'id="reconcile-link"' in links
    summary = page.split('class="askpro-summary-line"', 1)[1].split("</p>", 1)[0]
    assert "<a " not in summary


def measure_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    return len(queries)


def test_the_dashboard_runs_a_fixed_number_of_queries(admin_client):
    made = admin_rows.build(0, 10)
    admin_rows.staff_without_branch(made["companies"][0])
    measure_queries(admin_client)  # warm caches (content types, session)
    small = measure_queries(admin_client)

    made = admin_rows.build(10, 300)
    admin_rows.staff_without_branch(made["companies"][-1], name="Zora Ohnefiliale")
    # companies without branch, number or staff: rows for many checks at once
    Company.objects.bulk_create(
        Company(name=f"Leer {i}", slug=f"leer-{i}", email=f"l{i}@example.test") for i in range(250)
    )
    large = measure_queries(admin_client)
    print(f"\ndashboard queries: {small} (10 companies) / {large} (560 companies)")
    assert small == large


def test_the_history_shows_applied_fixes(admin_client, demo):
    from audit_app.fixes.service import apply_fix, preview

    plan = preview("create-main-branch")
    record = apply_fix(fix_id="create-main-branch", digest=plan.digest, user=None)
    page = english(admin_client, DASHBOARD).text
    history = page.split('id="history"', 1)[1]
    assert f'id="fixrecord-{record.pk}"' in history
    assert "AUD-BRN-001" in history
    assert f'href="{reverse("admin:audit_app_fixrecord_change", args=[record.pk])}"' in history
