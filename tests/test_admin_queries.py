"""Every changelist runs as many queries for 10 rows as for 500 (DESIGN.md decision 7)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changelog.models import Change, Operation
from integrations_app.models import GATEWAY_MODELS, Branch, PhoneNumber, Staff
from tests import admin_rows
from tests.admin_rows import admin_url, changelist_url

pytestmark = pytest.mark.django_db

URLS = {model.__name__: changelist_url(model) for model in GATEWAY_MODELS}
URLS["Operation"] = "/admin/changelog/operation/"
URLS["Change"] = "/admin/changelog/change/"


def history_rows(companies, actor) -> None:
    """One operation per company, each with the company's created row, in the change store."""
    operations = Operation.objects.bulk_create(
        Operation(cid=f"test-{c.pk}", source="admin", name="test", user=actor) for c in companies
    )
    Change.objects.bulk_create(
        Change(
            operation=op,
            table="companies",
            object_pk=str(c.pk),
            action="create",
            company_id=c.pk,
            object_repr=c.name,
            after={"name": c.name},
        )
        for op, c in zip(operations, companies, strict=True)
    )


def measure(client) -> dict[str, int]:
    counts = {}
    for name, url in URLS.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def test_changelists_run_a_fixed_number_of_queries(admin_client, admin_user):
    made = admin_rows.build(0, 10)
    admin_rows.staff_without_branch(made["companies"][0])
    history_rows(made["companies"], admin_user)
    measure(admin_client)  # warm caches (content types, session)
    small = measure(admin_client)

    made = admin_rows.build(10, 500)
    admin_rows.staff_without_branch(made["companies"][-1], name="Zora Ohnefiliale")
    history_rows(made["companies"], admin_user)
    large = measure(admin_client)

    print("\nqueries per changelist (10 rows / 500 rows):")
    for name in URLS:
        print(f"  {name:22} {small[name]:3} / {large[name]:3}")
    assert small == large

    # The pages really were full: 100 rows each, the staff without a branch among them.
    response = admin_client.get(changelist_url(Staff))
    assert len(response.context["cl"].result_list) == 100
    assert response.context["cl"].result_count == 502
    names = [s.name for s in response.context["cl"].result_list]
    assert "Aaron Ohnefiliale" in names
    last_page = admin_client.get(changelist_url(Staff) + "?p=6")
    assert "Zora Ohnefiliale" in [s.name for s in last_page.context["cl"].result_list]


def test_company_page_with_its_inlines_runs_a_fixed_number_of_queries(admin_client):
    company = admin_rows.build(0, 1)["companies"][0]
    branch = Branch.objects.get(company=company)

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(admin_url(company)).status_code == 200
        return len(queries)

    def add(start, stop):
        Branch.objects.bulk_create(
            Branch(company=company, name=f"Zweig {i}", slug=f"zweig-{i}")
            for i in range(start, stop)
        )
        PhoneNumber.objects.bulk_create(
            PhoneNumber(company=company, branch=branch, number=f"+4989{2000000 + i}")
            for i in range(start, stop)
        )

    add(0, 2)
    page_queries()
    small = page_queries()
    add(2, 30)
    assert page_queries() == small


def test_history_and_operation_pages_run_a_fixed_number_of_queries(admin_client):
    """An object's history, an operation's page and the global lists: the same queries for a
    few changes and for many (names of related rows: one query per related table)."""
    from changelog.recording import operation
    from integrations_app import services

    admin_rows.build(0, 40)
    number = PhoneNumber.objects.order_by("pk").first()
    branches = list(Branch.objects.order_by("pk"))

    def pages(op_cid):
        op = Operation.objects.get(cid=op_cid)
        urls = [
            admin_url(number, "history"),
            reverse("admin:changelog_operation_change", args=[op.pk]),
            reverse("admin:changelog_change_changelist"),
            reverse("admin:changelog_operation_changelist"),
        ]
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert admin_client.get(url).status_code == 200, url
            counts.append(len(queries))
        return counts

    def move(count):
        with operation(source="import", name=f"{count}.csv") as context:
            for branch in branches[:count]:
                services.update_rows(
                    model=PhoneNumber, values={number.pk: {"branch_id": branch.pk}}
                )
            services.update_rows(
                model=Branch, values={b.pk: {"city": f"Stadt {count}"} for b in branches[:count]}
            )
        return context.cid

    pages(move(2))  # warm caches
    few = pages(move(3))
    many = pages(move(30))
    assert few == many, (few, many)


# The company page: the session and the user, the company row (with its counts), four for the
# inlines (their first rows, the branch choices), its integrations, the latest snapshot, one
# for its rows among the findings (a UNION ALL over the tables with findings: audit_app/
# company_findings.py) and the event-type comparison. None of them per row or per table.
COMPANY_PAGE_QUERIES = 12


def test_the_company_page_costs_the_same_for_3_and_300_branches(admin_client, gateway_key):
    from audit_app import snapshots
    from tests import audit_rows as r
    from tests import fake_providers as fp

    company = r.company("Praxis Gross")
    fp.make_integration(company, "calcom")
    fp.make_integration(company, "retell", health_status="unhealthy")
    other = r.company("Andere Firma")  # its findings are read, never shown
    r.number(other, r.line(900))

    def add(start, stop):
        branches = Branch.objects.bulk_create(
            Branch(company=company, name=f"Zweig {i:03d}", slug=f"zweig-{i}")
            for i in range(start, stop)
        )
        Staff.objects.bulk_create(
            Staff(company=company, branch_id=b.pk, name=f"Person {i:03d}", email=f"p{i}@x.test")
            for i, b in zip(range(start, stop), branches, strict=True)
        )
        PhoneNumber.objects.bulk_create(  # a number on every other branch, the rest without
            PhoneNumber(
                company=company,
                branch=b if i % 2 else None,
                number=r.line(i),
                number_normalized=r.line(i),
                phone_number=r.line(i),
            )
            for i, b in zip(range(start, stop), branches, strict=True)
        )
        snapshots.record(source="command")

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(admin_url(company))
        assert response.status_code == 200
        return len(queries), response

    add(0, 3)
    page_queries()  # warm caches (content types, session)
    small, _page = page_queries()
    add(3, 300)  # and a new snapshot: read and indexed on this page once, then kept
    page_queries()
    large, page = page_queries()
    print(f"\ncompany page queries: 3 branches {small}, 300 branches {large}")
    assert small == large == COMPANY_PAGE_QUERIES
    counts = [c.count for c in page.context["company_counts"]]
    assert counts == [300, 300, 300]
    assert "Verbindung testen" in page.text and "AUD-PHN-005" in page.text
