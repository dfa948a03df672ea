"""Changelists at the gateway's planned size (issue 13, point 3), checked with small data.

The timings at full size are bench/admin_pages.py (bench/README.md, "Admin pages at scale");
here: the query count of every page (first page, a search, a company filter) is pinned and
stays under 15, counts are capped, searches take their index-friendly shapes, the company
filter is a search box, and what the pages show did not change.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations_app.admin import scale
from integrations_app.admin.tenancy import PhoneNumberInline
from integrations_app.models import GATEWAY_MODELS, Call, Company, Customer, PhoneNumber
from tests import admin_rows
from tests.admin_rows import add_url, admin_url, changelist_url

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15


def page_urls(company_id) -> dict[str, str]:
    urls = {}
    for model in GATEWAY_MODELS:
        base = changelist_url(model)
        name = model.__name__
        urls[f"{name} first page"] = base
        urls[f"{name} search"] = f"{base}?q=Firma"
        if model is not Company:
            urls[f"{name} company filter"] = f"{base}?company__id__exact={company_id}"
            urls[f"{name} company search box"] = f"{base}?company_q=Firma+00"
    urls["Call search number"] = f"{changelist_url(Call)}?q=0170+1234567"
    urls["Call search call id"] = f"{changelist_url(Call)}?q=call_1"
    urls["Call filter direction"] = f"{changelist_url(Call)}?direction=inbound"
    urls["Customer search e-mail"] = f"{changelist_url(Customer)}?q=kunde3@example.test"
    for model in addable_models():
        urls[f"{model.__name__} add page"] = add_url(model)
        if any(f.name == "company" for f in model._meta.fields):
            urls[f"{model.__name__} add page for a company"] = (
                f"{add_url(model)}?company={company_id}"
            )
    return urls


def addable_models():
    """The gateway models whose admin has an add page (for a superuser)."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model()(is_staff=True, is_superuser=True, is_active=True)
    return [m for m in GATEWAY_MODELS if admin.site._registry[m].has_add_permission(request)]


def measure(client, urls) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def test_every_page_runs_a_fixed_small_number_of_queries(admin_client):
    made = admin_rows.build(0, 10)
    urls = page_urls(made["companies"][0].pk)
    measure(admin_client, urls)  # warm caches
    small = measure(admin_client, urls)
    admin_rows.build(10, 300)
    large = measure(admin_client, urls)
    assert small == large
    too_many = {name: n for name, n in large.items() if n >= MAX_QUERIES}
    assert not too_many


def test_counts_are_capped_and_said_so(admin_client, monkeypatch):
    admin_rows.build(0, 30)
    monkeypatch.setattr(scale.ScaledPaginator, "cap", 25)
    # Filtered (a search): always the capped count, on MariaDB too (unfiltered may estimate).
    response = admin_client.get(changelist_url(Customer), {"q": "Kunde"})
    cl = response.context["cl"]
    assert cl.result_count == 25
    assert cl.paginator.capped and not cl.paginator.estimated
    assert "mindestens 25" in response.text
    assert cl.full_result_count is None  # no full COUNT(*)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    assert (
        "at least 25" in admin_client.get(changelist_url(Customer), {"q": "Kunde"}, **english).text
    )
    monkeypatch.setattr(scale.ScaledPaginator, "cap", 5000)
    response = admin_client.get(changelist_url(Customer), {"q": "Kunde"}, **english)
    assert response.context["cl"].result_count == 30
    assert "at least" not in response.text


def test_unfiltered_is_told_from_the_default_manager():
    assert scale.unfiltered(Customer.objects.all())
    assert scale.unfiltered(Customer.objects.order_by("name"))
    assert not scale.unfiltered(Customer.objects.filter(name="x"))
    assert not scale.unfiltered(Customer.all_objects.all())  # soft-deleted rows too: not it
    assert scale.unfiltered(PhoneNumber.objects.all())
    estimate = scale.estimated_rows(Customer.objects.all())
    if connection.vendor == "mysql":
        assert isinstance(estimate, int)  # information_schema's estimate
    else:
        assert estimate is None  # SQLite: always exact


def test_company_filter_is_a_search_box_not_a_list_of_every_company(admin_client):
    made = admin_rows.build(0, 30)
    url = changelist_url(Call)
    page = admin_client.get(url).text
    assert 'name="company_q"' in page
    assert "Firma 0007" not in page.split('id="changelist-filter"')[-1]

    found = admin_client.get(url, {"company_q": "Firma 000", "status": "completed"})
    sidebar = found.text.split('id="changelist-filter"')[-1]
    assert "Firma 0007" in sidebar and "Firma 0017" not in sidebar
    assert 'name="status" value="completed"' in sidebar  # the other filters are kept

    company = made["companies"][7]
    chosen = admin_client.get(url, {"company__id__exact": company.pk})
    assert [c.company_id for c in chosen.context["cl"].result_list] == [company.pk]
    assert "Firma 0007" in chosen.text.split('id="changelist-filter"')[-1]
    assert admin_client.get(url, {"company__id__exact": "x"}).status_code == 302  # ?e=1


def test_call_search_uses_a_number_an_id_or_a_customer(admin_client):
    admin_rows.build(0, 12)
    url = changelist_url(Call)

    def found(term):
        return sorted(
            c.retell_call_id for c in admin_client.get(url, {"q": term}).context["cl"].result_list
        )

    # +4930 1000003 written as dialled in Germany: found by its E.164 form.
    assert found("030 1000003") == ["call_3"]
    assert found("+49 170 1234567") == sorted(f"call_{i}" for i in range(12))  # from_number
    assert found("call_1") == ["call_1", "call_10", "call_11"]  # a prefix
    assert found("Kunde 0004") == ["call_4"]
    assert found("kunde5@example.test") == ["call_5"]
    assert found("unde 0004") == []  # no LIKE '%...%'


def test_searches_do_not_scan_with_leading_wildcards(admin_client):
    admin_rows.build(0, 3)
    for model in GATEWAY_MODELS:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(changelist_url(model), {"q": "Firma 0001"}).status_code == 200
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert "LIKE '%Firma" not in sql and "LIKE '%%Firma" not in sql, model


def test_fixed_value_filters_do_not_read_the_live_rows(admin_client):
    admin_rows.build(0, 3)
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(changelist_url(Call))
    distinct = [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]]
    assert distinct and all("WHERE" not in sql for sql in distinct), distinct


def test_missing_related_rows_still_show_as_missing(admin_client):
    made = admin_rows.build(0, 2)
    Call.objects.filter(retell_call_id="call_1").update(branch_id=made["branches"][0].pk)
    call = Call.objects.get(retell_call_id="call_0")
    Call.objects.filter(pk=call.pk).update(branch_id="00000000-0000-0000-0000-00000000beef")
    page = admin_client.get(changelist_url(Call)).text
    assert '<strong class="askpro-missing">' in page
    assert "00000000-0000-0000-0000-00000000beef)</strong>" in page


def test_company_page_shows_the_first_rows_of_long_inlines(admin_client):
    company = admin_rows.build(0, 1)["companies"][0]
    branch = company.branches.first()
    PhoneNumber.objects.bulk_create(
        PhoneNumber(company=company, branch=branch, number=f"+4989{3000000 + i}") for i in range(30)
    )
    response = admin_client.get(admin_url(company))
    assert response.status_code == 200
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    numbers = next(f for p, f in formsets.items() if "phone" in p)
    assert len(numbers.forms) == PhoneNumberInline.max_rows == 10
    assert f"?company__id__exact={company.pk}" in response.text


def test_add_pages_search_the_company_instead_of_listing_every_one(admin_client):
    """At 10,000 companies a select of every company made each add page 2 s: the company (and
    a branch) is the admin's autocomplete on add pages too; a company given in the link is
    shown chosen, and only it."""
    made = admin_rows.build(0, 30)
    chosen = made["companies"][3]
    for model in addable_models():
        if not any(f.name == "company" for f in model._meta.fields):
            continue
        page = admin_client.get(f"{add_url(model)}?company={chosen.pk}").content.decode()
        select = page.split('name="company"', 1)[1].split("</select>", 1)[0]
        assert "admin-autocomplete" in page.split('name="company"', 1)[0][-600:] + select, model
        assert select.count("<option") <= 2, (model, select.count("<option"))  # "---" and it
        assert f'value="{chosen.pk}" selected' in select, model
