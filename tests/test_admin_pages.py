"""Every admin page of the gateway tables opens; read-only tables refuse every write."""

import pytest
from django.contrib import admin
from django.urls import reverse

from changelog.models import Change
from integrations_app.admin.base import SECRET_NAMES
from integrations_app.models import (
    GATEWAY_MODELS,
    Appointment,
    Call,
    Company,
    Customer,
    CustomerInteraction,
    Staff,
)
from tests import admin_rows
from tests.admin_rows import add_url, admin_url, changelist_url

pytestmark = pytest.mark.django_db

READ_ONLY = (Customer, Call, Appointment, CustomerInteraction)
EDITABLE = tuple(m for m in GATEWAY_MODELS if m not in READ_ONLY)


@pytest.fixture
def rows():
    objects = admin_rows.one_of_each()
    objects["orphan"] = admin_rows.staff_without_branch(objects[Company])
    return objects


def test_every_gateway_model_has_an_admin():
    for model in GATEWAY_MODELS:
        assert admin.site.is_registered(model), model


def test_site_is_the_askpro_console(admin_client):
    response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "<title>AskPro Console" in response.text
    assert "AskPro Console" in response.text


@pytest.mark.parametrize("model", GATEWAY_MODELS, ids=lambda m: m.__name__)
def test_changelist_opens_in_german_by_default(admin_client, rows, model):
    response = admin_client.get(changelist_url(model))
    assert response.status_code == 200
    assert '<html lang="de"' in response.text
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", GATEWAY_MODELS, ids=lambda m: m.__name__)
def test_change_and_history_pages_open(admin_client, rows, model):
    obj = rows[model]
    for view in ("change", "history"):
        response = admin_client.get(admin_url(obj, view), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (view, response.status_code)
        assert '<html lang="en"' in response.text
        if view == "change":
            assert "field-updated_at" in response.text


@pytest.mark.parametrize("model", EDITABLE, ids=lambda m: m.__name__)
def test_add_page_opens(admin_client, model):
    response = admin_client.get(add_url(model))
    assert response.status_code == 200


def test_staff_with_a_missing_branch_is_listed_and_marked(admin_client, rows):
    response = admin_client.get(changelist_url(Staff), HTTP_ACCEPT_LANGUAGE="en")
    orphan = rows["orphan"]
    assert orphan in response.context["cl"].result_list
    assert f"missing ({orphan.branch_id})" in response.text
    assert admin_client.get(admin_url(orphan)).status_code == 200


def test_company_list_counts_branches_numbers_and_staff(admin_client, rows):
    response = admin_client.get(changelist_url(Company))
    company = response.context["cl"].result_list[0]
    # One branch, one number; two staff (one of them with a missing branch).
    assert (company.branch_count, company.phone_number_count, company.staff_count) == (1, 1, 2)


def test_soft_deleted_rows_are_not_counted(admin_client, rows):
    rows["orphan"].delete()
    response = admin_client.get(changelist_url(Company))
    assert response.context["cl"].result_list[0].staff_count == 1


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_read_only_admins_refuse_writes_but_show_rows(admin_client, rows, model):
    obj = rows[model]
    assert admin_client.get(add_url(model)).status_code == 403
    assert admin_client.post(add_url(model), {}).status_code == 403
    assert admin_client.post(admin_url(obj), {"status": "x"}).status_code == 403
    assert admin_client.get(admin_url(obj, "delete")).status_code == 403
    assert admin_client.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
    assert model._base_manager.filter(pk=obj.pk, **_not_deleted(model)).exists()

    listing = admin_client.get(changelist_url(model))
    assert listing.status_code == 200
    assert "delete_selected" not in listing.text
    detail = admin_client.get(admin_url(obj))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.text


def _not_deleted(model):
    return {"deleted_at__isnull": True} if hasattr(model, "deleted_at") else {}


def test_no_admin_names_a_secret_column():
    for model in GATEWAY_MODELS:
        model_admin = admin.site._registry[model]
        named = [
            *model_admin.list_display,
            *model_admin.search_fields,
            *(f if isinstance(f, str) else f[0] for f in model_admin.list_filter),
            *model_admin.get_readonly_fields(_request()),
            *(model_admin.get_form(_request(), None).base_fields),
        ]
        for fields in _fieldset_fields(model_admin):
            named.extend(fields)
        secrets = model.secret_columns()
        assert not set(named) & set(secrets), (model, set(named) & set(secrets))
        assert not set(named) & SECRET_NAMES, model


def _request():
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    return request


def _fieldset_fields(model_admin):
    for _name, options in model_admin.fieldsets or ():
        for entry in options["fields"]:
            yield entry if isinstance(entry, tuple) else (entry,)


def test_change_history_list_and_entries_open(admin_client, rows):
    company = rows[Company]
    admin_client.post(admin_url(company, "delete"), {"post": "yes"}, HTTP_ACCEPT_LANGUAGE="en")
    change = Change.objects.select_related("operation").latest("id")
    assert (change.table, change.object_pk, change.action) == (
        "companies",
        str(company.pk),
        "delete",
    )
    listing = admin_client.get(reverse("admin:changelog_change_changelist"))
    assert listing.status_code == 200
    assert company.name in listing.text
    operations = admin_client.get(reverse("admin:changelog_operation_changelist"))
    assert operations.status_code == 200
    page = admin_client.get(
        reverse("admin:changelog_operation_change", args=[change.operation.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    assert company.name in page.text
    history = admin_client.get(admin_url(company, "history"), HTTP_ACCEPT_LANGUAGE="en")
    assert history.status_code == 200
    assert "Admin" in history.text


def test_a_connection_test_of_a_key_that_is_no_number_is_not_found(admin_client):
    url = reverse("admin:integrations_app_integration_test", args=["abc"])
    assert admin_client.post(url).status_code == 404
