"""A fix whose preview lists several companies lets the user leave some out: what is written is
exactly the preview's rows of the companies kept; a changed company list writes nothing."""

import re

import pytest
from django.urls import reverse

from audit_app.fixes import service
from audit_app.fixes.base import get_fix
from audit_app.models import FixRecord
from changelog.models import Change
from integrations_app.models import Branch, Company, PhoneNumber

pytestmark = pytest.mark.django_db

FIX = "create-main-branch"
PREVIEW = reverse("admin:audit_app_fix_preview", args=[FIX])
APPLY = reverse("admin:audit_app_fix_apply", args=[FIX])


@pytest.fixture
def companies():
    return [Company.objects.create(name=f"Praxis {n}", slug=f"praxis-{n}") for n in "ABC"]


def branched() -> set[int]:
    return set(Branch.objects.values_list("company_id", flat=True))


def test_leaving_a_company_out_writes_the_rest_exactly_as_previewed(companies):
    a, b, c = companies
    plan = service.preview(FIX)
    assert plan.companies == [(a.pk, a.name), (b.pk, b.name), (c.pk, c.name)]
    record = service.apply_fix(fix_id=FIX, digest=plan.digest, companies=[str(a.pk), str(c.pk)])
    assert branched() == {a.pk, c.pk}
    assert record.created_count == 2
    # Row for row what the preview showed of the two kept companies.
    kept = plan.only([a.pk, c.pk])
    assert kept.digest != plan.digest and len(kept.writes) == 2
    written = Change.objects.filter(operation=record.operation)
    assert sorted(ch.after["company_id"] for ch in written) == sorted([a.pk, c.pk])
    for write in kept.writes:
        branch = Branch.objects.get(company_id=write.after["company_id"])
        assert branch.name == write.after["name"]
    # The company left out is still to do: its preview is the one row left.
    again = service.preview(FIX)
    assert [w.company_id for w in again.writes] == [b.pk]


@pytest.mark.parametrize(
    "chosen",
    [
        [],  # none at all
        ["999999"],  # a company the preview did not list
        ["abc"],  # not an id
        ["{a}", "{other}"],  # one listed, one not
    ],
)
def test_a_changed_company_list_is_refused_and_nothing_is_written(companies, chosen):
    a = companies[0]
    other = Company.objects.create(name="Praxis mit Filiale", slug="praxis-mit-filiale")
    Branch.objects.create(company=other, name="Mitte", slug="mitte")
    chosen = [c.format(a=a.pk, other=other.pk) for c in chosen]
    plan = service.preview(FIX)
    with pytest.raises(service.CompaniesRefused):
        service.apply_fix(fix_id=FIX, digest=plan.digest, companies=chosen)
    assert branched() == {other.pk}
    assert not FixRecord.objects.exists()


def test_a_fix_that_does_not_work_by_company_refuses_a_company_list(companies):
    a = companies[0]
    PhoneNumber.objects.create(company=a, number="+49 30 23125 501", number_normalized=None)
    fix = get_fix("normalize-numbers")
    assert not fix.per_company
    plan = fix.plan()
    assert not plan.empty and plan.companies == []
    with pytest.raises(service.CompaniesRefused):
        service.apply_fix(fix_id=fix.id, digest=plan.digest, companies=[str(a.pk)])
    assert PhoneNumber.objects.get().number_normalized is None


def test_a_stale_preview_stays_stale_with_companies_left_out(companies):
    a = companies[0]
    plan = service.preview(FIX)
    Company.objects.create(name="Praxis Neu", slug="praxis-neu")
    with pytest.raises(service.StalePlan):
        service.apply_fix(fix_id=FIX, digest=plan.digest, companies=[str(a.pk)])
    assert not Branch.objects.exists()


def test_the_preview_ticks_every_company_and_the_form_applies_the_ticked(admin_client, companies):
    a, b, c = companies
    page = admin_client.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en").text
    boxes = re.findall(r'<input type="checkbox" name="company" value="(\d+)" checked>', page)
    assert boxes == [str(a.pk), str(b.pk), str(c.pk)]
    assert 'name="companies_listed"' in page
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', page).group(1)
    form = {"digest": digest, "companies_listed": "1", "company": [str(b.pk)]}
    response = admin_client.post(APPLY, form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert branched() == {b.pk}
    assert FixRecord.objects.get().created_count == 1


def test_a_tampered_form_writes_nothing_and_says_so(admin_client, companies):
    digest = service.preview(FIX).digest
    form = {"digest": digest, "companies_listed": "1", "company": ["1'; DROP TABLE x", "-1"]}
    response = admin_client.post(APPLY, form, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 200
    assert "do not match the preview" in response.text
    assert not Branch.objects.exists() and not FixRecord.objects.exists()
    # Nothing ticked: refused as well.
    form = {"digest": digest, "companies_listed": "1"}
    response = admin_client.post(APPLY, form, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "do not match the preview" in response.text
    assert not Branch.objects.exists()


def test_a_single_company_gets_no_checkbox(admin_client):
    Company.objects.create(name="Praxis Allein", slug="praxis-allein")
    page = admin_client.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en").text
    assert 'name="company"' not in page and "Confirm: write 1 row" in page
