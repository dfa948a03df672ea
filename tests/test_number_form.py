"""The branch field of the phone-number form offers the chosen company's branches only
(issue 12, point 4; admin/forms.py and admin/phone_branches.py)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations_app.admin.forms import PhoneNumberForm
from integrations_app.models import PhoneNumber
from tests import audit_rows
from tests.admin_rows import add_url, admin_url

pytestmark = pytest.mark.django_db

BRANCHES = reverse("admin:integrations_app_phonenumber_branches")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def world():
    sonne = audit_rows.company("Praxis Sonne")
    mond = audit_rows.company("Praxis Mond")
    return {
        "sonne": sonne,
        "mond": mond,
        "sonne_branches": [audit_rows.branch(sonne, "Mitte"), audit_rows.branch(sonne, "Nord")],
        "mond_branch": audit_rows.branch(mond, "Spandau"),
    }


def choices(form) -> list[str]:
    return [label for key, label in form.fields["branch"].choices if key]


def post(company, branch, number="030 5550100"):
    return {
        "company": company.pk if company else "",
        "branch": branch.pk,
        "number": number,
        "type": "direct",
        "country_code": "+49",
        "is_active": "on",
    }


def test_the_form_lists_the_chosen_companys_branches(world):
    assert choices(PhoneNumberForm()) == []  # no company yet
    assert choices(PhoneNumberForm(initial={"company": world["sonne"].pk})) == ["Mitte", "Nord"]
    number = PhoneNumber(company=world["mond"], branch=world["mond_branch"], number="+4930555")
    assert choices(PhoneNumberForm(instance=number)) == ["Spandau"]
    bound = PhoneNumberForm(data=post(world["sonne"], world["sonne_branches"][1]))
    assert choices(bound) == ["Mitte", "Nord"]


def test_the_only_branch_is_chosen(world):
    form = PhoneNumberForm(initial={"company": world["mond"].pk})
    assert form["branch"].value() == world["mond_branch"].pk
    assert PhoneNumberForm(initial={"company": world["sonne"].pk})["branch"].value() is None


def test_a_row_whose_branch_is_another_companys_says_so(world, english):
    number = PhoneNumber(company=world["mond"], branch=world["sonne_branches"][0], number="+4930")
    form = PhoneNumberForm(instance=number)
    assert choices(form) == ["Spandau"]
    assert form["branch"].value() == world["mond_branch"].pk  # the company's only branch
    assert "(Mitte) is not one of its company's" in form.fields["branch"].help_text
    assert (
        PhoneNumberForm(instance=number, initial={"company": world["sonne"].pk})["branch"].value()
        == world["sonne_branches"][0].pk
    )  # the same branch under its own company


def test_another_companys_branch_is_refused_by_name(world, english):
    form = PhoneNumberForm(data=post(world["sonne"], world["mond_branch"]))
    assert not form.is_valid()
    assert form.errors["branch"] == ["This branch belongs to another company."]
    form = PhoneNumberForm(data=post(None, world["mond_branch"]))
    assert form.errors["branch"] == ["Choose the company first."]
    assert PhoneNumberForm(data=post(world["mond"], world["mond_branch"])).is_valid()


def test_the_admin_pages_offer_the_companys_branches(admin_client, world):
    page = admin_client.get(add_url(PhoneNumber), {"company": world["mond"].pk}).text
    assert f'data-askpro-branches="{BRANCHES}"' in page
    assert f'<option value="{world["mond_branch"].pk}" selected>Spandau</option>' in page
    assert "Mitte" not in page

    response = admin_client.post(add_url(PhoneNumber), post(world["sonne"], world["mond_branch"]))
    assert response.status_code == 200  # the form again
    assert "Diese Filiale gehört zu einer anderen Firma." in response.text
    assert not PhoneNumber.objects.exists()

    number = PhoneNumber.objects.create(
        company=world["sonne"], branch=world["sonne_branches"][0], number="+49305550100"
    )
    page = admin_client.get(admin_url(number)).text
    branch_select = page.split('name="branch"')[1].split("</select>")[0]
    assert "Mitte" in branch_select and "Nord" in branch_select
    assert "Spandau" not in branch_select and "admin-autocomplete" not in branch_select


def test_the_endpoint_lists_one_companys_branches_keys_and_names(admin_client, world):
    response = admin_client.get(BRANCHES, {"company": world["sonne"].pk})
    assert response.status_code == 200
    assert response.json() == {
        "branches": [{"id": b.pk, "name": b.name} for b in world["sonne_branches"]]
    }
    assert admin_client.get(BRANCHES, {"company": 999999}).json() == {"branches": []}
    for bad in ("", "x", "1; drop", "9" * 30):
        assert admin_client.get(BRANCHES, {"company": bad}).status_code == 400


def test_the_endpoint_needs_permission_to_add_or_change_numbers(client, django_user_model, world):
    assert client.get(BRANCHES, {"company": world["sonne"].pk}).status_code == 302  # log in
    user = django_user_model.objects.create_user("support", password="x-test-pass-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_phonenumber"))
    client.force_login(user)
    assert client.get(BRANCHES, {"company": world["sonne"].pk}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="add_phonenumber"))
    client.force_login(django_user_model.objects.get(pk=user.pk))
    assert client.get(BRANCHES, {"company": world["sonne"].pk}).status_code == 200
