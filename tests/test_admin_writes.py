"""Writes through the admin go through the services: soft/hard deletes, saves, inlines, history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changelog.models import Change
from integrations_app import services
from integrations_app.models import (
    Branch,
    Company,
    Integration,
    NotificationTemplate,
    PhoneNumber,
    Service,
    Staff,
)
from tests import admin_rows
from tests.admin_rows import add_url, admin_url, changelist_url

pytestmark = pytest.mark.django_db


def entries_for(obj):
    """The change store's records of one row, oldest first."""
    return list(
        Change.objects.filter(table=obj._meta.db_table, object_pk=str(obj.pk))
        .select_related("operation", "operation__user")
        .order_by("id")
    )


@pytest.fixture
def world():
    return admin_rows.build(0, 3)


@pytest.mark.parametrize("model", [Company, Branch, Staff], ids=lambda m: m.__name__)
def test_delete_confirmation_soft_deletes(admin_client, admin_user, world, model):
    obj = model.objects.order_by("pk").first()
    response = admin_client.post(admin_url(obj, "delete"), {"post": "yes"})
    assert response.status_code == 302

    row = model.all_objects.get(pk=obj.pk)
    assert row.deleted_at is not None
    assert not model.objects.filter(pk=obj.pk).exists()
    listing = admin_client.get(changelist_url(model))
    assert row not in listing.context["cl"].result_list

    entry = entries_for(row)[-1]
    assert entry.action == "delete"
    assert entry.before["deleted_at"] is None
    assert entry.after["deleted_at"]
    assert entry.operation.source == "admin"
    assert entry.operation.user == admin_user


@pytest.mark.parametrize("model", [Company, Branch, Staff], ids=lambda m: m.__name__)
def test_bulk_delete_action_soft_deletes_and_records_each_row(
    admin_client, admin_user, world, model
):
    pks = list(model.objects.values_list("pk", flat=True))
    assert len(pks) == 3
    response = admin_client.post(
        changelist_url(model),
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in pks], "post": "yes"},
    )
    assert response.status_code == 302
    assert not model.objects.filter(pk__in=pks).exists()
    assert model.all_objects.filter(pk__in=pks, deleted_at__isnull=False).count() == 3
    for row in model.all_objects.filter(pk__in=pks):
        entry = entries_for(row)[-1]
        assert entry.action == "delete"
        assert entry.before["deleted_at"] is None
        assert entry.operation.source == "admin"
        assert entry.operation.user == admin_user
        assert entry.object_repr == str(row)


@pytest.mark.parametrize("model", [PhoneNumber, Integration], ids=lambda m: m.__name__)
def test_delete_confirmation_removes_numbers_and_integrations_after_recording_them(
    admin_client, admin_user, world, model
):
    obj = model.objects.order_by("pk").first()
    response = admin_client.post(admin_url(obj, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert not model._base_manager.filter(pk=obj.pk).exists()

    entry = entries_for(obj)[-1]
    assert entry.action == "delete"
    assert entry.operation.source == "admin"
    assert entry.operation.user == admin_user
    assert entry.before["company_id"] == obj.company_id
    assert str(obj) in entry.object_repr


@pytest.mark.parametrize("model", [PhoneNumber, Integration], ids=lambda m: m.__name__)
def test_bulk_delete_action_removes_and_records_each_row(admin_client, admin_user, world, model):
    rows = list(model.objects.all())
    response = admin_client.post(
        changelist_url(model),
        {
            "action": "delete_selected",
            "_selected_action": [str(r.pk) for r in rows],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not model._base_manager.exists()
    for row in rows:
        (entry,) = entries_for(row)
        assert entry.action == "delete"
        assert entry.operation.user == admin_user
        assert entry.operation.source == "admin"
        assert entry.object_pk == str(row.pk)
        assert entry.object_repr == str(row)
    numbers = [e.before.get("number") for e in Change.objects.all()]
    if model is PhoneNumber:
        assert sorted(numbers) == sorted(r.number for r in rows)


@pytest.mark.parametrize("model", [Staff, PhoneNumber], ids=lambda m: m.__name__)
def test_bulk_delete_runs_a_fixed_number_of_queries(model):
    admin_rows.build(0, 60)

    def delete(n):
        pks = list(model.objects.order_by("pk").values_list("pk", flat=True)[:n])
        with CaptureQueriesContext(connection) as queries:
            assert services.delete_records(queryset=model.objects.filter(pk__in=pks)) == n
        return len(queries)

    assert delete(3) == delete(50)


def test_changing_a_company_writes_only_the_changed_columns(admin_client, world):
    company = world["companies"][0]
    Company.objects.filter(pk=company.pk).update(calcom_v2_api_key="cal_live_kept")
    data = {
        "name": "Neuer Name GmbH",
        "slug": company.slug,
        "email": company.email,
        "city": company.city,
        "country": "DE",
        "timezone": "Europe/Berlin",
        "default_language": "de",
        "is_active": "on",
        "active": "on",
        "billing_status": "trial",
        **management_forms(branches=0, phone_numbers=0),
    }
    response = admin_client.post(admin_url(company), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(pk=company.pk)
    assert company.name == "Neuer Name GmbH"
    assert company.calcom_v2_api_key == "cal_live_kept"
    entry = entries_for(company)[-1]
    assert entry.action == "update"
    assert set(entry.columns) == {"name"}
    assert entry.operation.source == "admin"


def management_forms(**counts):
    data = {}
    for prefix, initial in counts.items():
        data |= {
            f"{prefix}-TOTAL_FORMS": str(initial),
            f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data


def test_phone_number_is_stored_in_e164_in_every_routing_column(admin_client, world):
    company, branch = world["companies"][0], world["branches"][0]
    data = {
        "company": company.pk,
        "branch": branch.pk,
        "number": "030 555 1234",
        "type": "direct",
        "country_code": "+49",
        "is_active": "on",
    }
    response = admin_client.post(add_url(PhoneNumber), data)
    assert response.status_code == 302
    number = PhoneNumber.objects.get(number="+49305551234")
    assert number.number_normalized == number.phone_number == "+49305551234"
    (entry,) = entries_for(number)
    assert entry.action == "create"
    assert entry.operation.source == "admin"


def test_phone_number_form_refuses_what_the_gateway_cannot_route(admin_client, world):
    company, other_branch = world["companies"][0], world["branches"][1]
    before = PhoneNumber.objects.count()
    bad = {
        "company": company.pk,
        "branch": other_branch.pk,
        "number": "12",
        "type": "direct",
        "country_code": "+49",
    }
    response = admin_client.post(add_url(PhoneNumber), bad, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "number" in errors
    assert "branch" in errors
    taken = PhoneNumber.objects.first().number
    response = admin_client.post(
        add_url(PhoneNumber), bad | {"number": taken, "branch": world["branches"][0].pk}
    )
    assert "number" in response.context["adminform"].form.errors
    assert PhoneNumber.objects.count() == before


def test_company_inlines_save_through_the_services(admin_client, world):
    company, branch = world["companies"][0], world["branches"][0]
    existing = PhoneNumber.objects.get(company=company)
    data = {
        "name": company.name,
        "slug": company.slug,
        "email": company.email,
        "city": company.city,
        "country": "DE",
        "timezone": "Europe/Berlin",
        "default_language": "de",
        "is_active": "on",
        "active": "on",
        "billing_status": "trial",
        **management_forms(branches=1, phone_numbers=1),
        "branches-0-id": branch.pk,
        "branches-0-company": company.pk,
        "branches-0-name": branch.name,
        "branches-0-city": "Hamburg",
        "branches-0-is_active": "on",
        "phone_numbers-TOTAL_FORMS": "2",
        "phone_numbers-0-id": existing.pk,
        "phone_numbers-0-company": company.pk,
        "phone_numbers-0-number": existing.number,
        "phone_numbers-0-branch": branch.pk,
        "phone_numbers-0-type": "direct",
        "phone_numbers-0-is_active": "on",
        "phone_numbers-0-DELETE": "on",
        "phone_numbers-1-company": company.pk,
        "phone_numbers-1-number": "+49 40 1234567",
        "phone_numbers-1-branch": branch.pk,
        "phone_numbers-1-type": "hotline",
        "phone_numbers-1-is_active": "on",
        "phone_numbers-1-is_primary": "on",
    }
    response = admin_client.post(admin_url(company), data)
    assert response.status_code == 302, [
        f.errors for f in response.context["inline_admin_formsets"]
    ]
    assert Branch.objects.get(pk=branch.pk).city == "Hamburg"
    assert not PhoneNumber.objects.filter(pk=existing.pk).exists()
    new = PhoneNumber.objects.get(company=company)
    assert new.number == new.number_normalized == new.phone_number == "+49401234567"
    assert entries_for(existing)[-1].action == "delete"
    for obj in (Branch.objects.get(pk=branch.pk), new):
        assert entries_for(obj)[-1].operation.source == "admin"


def add_forms(company, branch):
    base = {"is_active": "on", "active": "on"}
    return {
        Company: base
        | {
            "name": "Neu GmbH",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "default_language": "de",
            "billing_status": "trial",
            **management_forms(branches=0, phone_numbers=0),
        },
        Branch: base | {"company": company.pk, "name": "Neue Filiale", "country": "Deutschland"},
        Staff: base
        | {
            "company": company.pk,
            "branch": branch.pk,
            "name": "Neue Kraft",
            "email": "neu@example.test",
            "is_bookable": "on",
        },
        Service: {
            "company": company.pk,
            "name": "Neue Leistung",
            "duration_minutes": "45",
            "price": "20.00",
            "is_active": "on",
        },
        Integration: {
            "company": company.pk,
            "name": "Neue Integration",
            "type": "webhook",
            "provider": "webhook",
            "status": "active",
            "is_active": "on",
            "environment": "production",
        },
        NotificationTemplate: {
            "company": company.pk,
            "key": "appointment_reminder_24h",
            "channel": "sms",
            "name": "Erinnerung",
            "type": "reminder",
            "subject": '{"de": "Erinnerung"}',
            "content": '{"de": "Ihr Termin am {date:date(d.m.Y)}"}',
            "translations": "",
            "variables": "",
            "priority": "5",
            "is_active": "on",
        },
    }


@pytest.mark.parametrize(
    "model",
    [Company, Branch, Staff, Service, Integration, NotificationTemplate],
    ids=lambda m: m.__name__,
)
def test_add_through_the_admin_writes_a_recorded_row(admin_client, world, model):
    data = add_forms(world["companies"][0], world["branches"][0])[model]
    before = set(model._base_manager.values_list("pk", flat=True))
    # Cal.com and Retell have their own credential form; the other kinds are edited generically.
    url = add_url(model) + ("?provider=webhook" if model is Integration else "")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    (obj,) = model._base_manager.exclude(pk__in=before)
    (entry,) = entries_for(obj)
    assert entry.action == "create"
    assert entry.operation.source == "admin"
    if model is Integration:
        assert len(obj.tenant_id) == 36
    if model is NotificationTemplate:
        assert obj.translations == {}


def test_the_number_service_refuses_a_number_another_row_claims(world):
    """The duplicate rule holds for every caller of the write path, not only for the form."""
    from django.core.exceptions import ValidationError

    taken = PhoneNumber.objects.order_by("pk").first()
    company = Company.objects.order_by("pk").last()
    with pytest.raises(ValidationError):
        services.save_phone_number(instance=PhoneNumber(company=company, number=taken.number))
    assert PhoneNumber.objects.filter(number=taken.number).count() == 1


def test_a_removed_row_keeps_its_history_page(admin_client, world):
    number = PhoneNumber.objects.order_by("pk").first()
    assert admin_client.post(admin_url(number, "delete"), {"post": "yes"}).status_code == 302
    assert not PhoneNumber._base_manager.filter(pk=number.pk).exists()
    page = admin_client.get(admin_url(number, "history"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert number.number in page.text
    assert len(page.context["rows"]) == 1 and page.context["rows"][0]["change"].action == "delete"


EMAIL_COLUMNS = {Company: "email", Branch: "notification_email", Staff: "email"}


@pytest.mark.parametrize("model", list(EMAIL_COLUMNS), ids=lambda m: m.__name__)
def test_an_email_column_takes_only_an_email_address(admin_client, world, model):
    """Walkthrough: a company saved with the e-mail „kein-email“ was accepted (varchar column)."""
    column = EMAIL_COLUMNS[model]
    data = add_forms(world["companies"][0], world["branches"][0])[model]
    before = set(model._base_manager.values_list("pk", flat=True))
    response = admin_client.post(add_url(model), data | {column: "kein-email"})
    assert response.status_code == 200  # refused, drawn again
    errors = response.context["adminform"].form.errors
    assert errors[column] == ["Bitte gültige E-Mail-Adresse eingeben."]
    assert not model._base_manager.exclude(pk__in=before).exists()
    good = admin_client.post(add_url(model), data | {column: "kontakt@praxis.test"})
    assert good.status_code == 302
    (row,) = model._base_manager.exclude(pk__in=before)
    assert getattr(row, column) == "kontakt@praxis.test"
