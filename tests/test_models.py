"""The models keep Laravel's conventions, in the database itself (checked with raw SQL)."""

import datetime as dt
import json
import re
import time

import pytest
from django.db import connection
from django.utils import timezone

from integrations_app.models import (
    Branch,
    Company,
    Customer,
    CustomerInteraction,
    Integration,
    NotificationTemplate,
    PhoneNumber,
    Staff,
)

pytestmark = pytest.mark.django_db
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def raw(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def company():
    return Company.objects.create(name="Praxis Probe")


@pytest.fixture
def branch(company):
    return Branch.objects.create(company=company, name="Hauptfiliale")


def test_new_uuid_keys_are_lowercase_v4(company, branch):
    staff = Staff.objects.create(company=company, branch=branch, name="Erika Probe")
    number = PhoneNumber.objects.create(company=company, branch=branch, number="+493023125001")
    for table, pk in (("branches", branch.pk), ("staff", staff.pk), ("phone_numbers", number.pk)):
        (stored,) = raw(f"SELECT id FROM {table} WHERE id = %s", pk)[0]  # noqa: S608
        assert UUID_V4.match(stored), stored


def test_timestamps_are_kept_in_whole_seconds(company):
    ((created, updated),) = raw(
        "SELECT created_at, updated_at FROM companies WHERE id = %s", company.pk
    )
    assert created is not None and updated is not None
    company.refresh_from_db()
    assert company.created_at.microsecond == 0
    first_update = company.updated_at
    time.sleep(1.1)
    company.name = "Praxis Probe Nord"
    company.save()
    company.refresh_from_db()
    assert company.updated_at > first_update
    assert abs(company.updated_at - timezone.now()) < dt.timedelta(seconds=5)


def test_soft_delete_sets_deleted_at_and_hides_the_row(company, branch):
    branch.delete()
    assert not Branch.objects.filter(pk=branch.pk).exists()
    kept = Branch.all_objects.get(pk=branch.pk)
    assert kept.deleted_at is not None
    ((deleted_at,),) = raw("SELECT deleted_at FROM branches WHERE id = %s", branch.pk)
    assert deleted_at is not None

    Company.objects.filter(pk=company.pk).delete()
    assert Company.all_objects.get(pk=company.pk).is_deleted
    assert not Company.objects.exists()


def test_related_lookups_still_see_a_deleted_branch(company, branch):
    number = PhoneNumber.objects.create(company=company, branch=branch, number="+493023125002")
    branch.delete()
    number = PhoneNumber.objects.get(pk=number.pk)
    assert number.branch.is_deleted  # the audit must be able to report it


def test_phone_numbers_and_integrations_are_really_deleted(company):
    number = PhoneNumber.objects.create(company=company, number="+493023125003")
    integration = Integration.objects.create(
        company=company, name="Cal.com", type="calendar", provider="calcom"
    )
    number.delete()
    integration.delete()
    assert raw("SELECT COUNT(*) FROM phone_numbers")[0][0] == 0
    assert raw("SELECT COUNT(*) FROM integrations")[0][0] == 0


def test_every_delete_goes_through_the_write_path_and_is_recorded(company, branch):
    """A model's or a queryset's delete() is the service's: recorded, as the gateway deletes."""
    from changelog.models import Change

    number = PhoneNumber.objects.create(company=company, number="+493023125004")
    PhoneNumber.objects.filter(pk=number.pk).delete()
    removed = Change.objects.get(table="phone_numbers", object_pk=number.pk)
    assert (removed.action, removed.before["number"]) == ("delete", "+493023125004")
    branch.delete()
    soft = Change.objects.get(table="branches", object_pk=branch.pk)
    assert soft.action == "delete" and soft.before == {"deleted_at": None}
    assert branch.deleted_at is not None


def test_integration_gets_a_tenant_uuid(company):
    integration = Integration.objects.create(
        company=company, name="Retell AI", type="telephony", provider="retell"
    )
    ((tenant_id,),) = raw("SELECT tenant_id FROM integrations WHERE id = %s", integration.pk)
    assert UUID_V4.match(tenant_id)


def test_booleans_are_stored_as_tinyint_and_json_as_text(company):
    company.is_active = False
    company.save()
    ((is_active,),) = raw("SELECT is_active FROM companies WHERE id = %s", company.pk)
    assert is_active in (0, False) and str(int(is_active)) == "0"

    template = NotificationTemplate.objects.create(
        company=company,
        key="appointment_confirmation",
        channel="email",
        name="Terminbestätigung",
        type="appointment",
        subject={"de": "Ihr Termin am {date:date(d.m.Y)}", "en": "Your appointment"},
        translations={},
    )
    ((subject, translations),) = raw(
        "SELECT subject, translations FROM notification_templates WHERE id = %s", template.pk
    )
    assert isinstance(subject, str)  # longtext holding JSON, as the gateway stores it
    assert json.loads(subject)["de"] == "Ihr Termin am {date:date(d.m.Y)}"
    assert json.loads(translations) == {}


def test_an_interaction_needs_only_what_the_gateway_requires(company):
    customer = Customer.objects.create(company=company, name="Max Probe")
    interaction = CustomerInteraction.objects.create(
        customer=customer,
        company=company,
        interaction_type="phone_call",
        interaction_at=timezone.now(),
    )
    ((channel, branch_id),) = raw(
        "SELECT channel, branch_id FROM customer_interactions WHERE id = %s", interaction.pk
    )
    assert channel == "phone" and branch_id is None


def test_an_insert_keeps_an_explicit_timestamp_and_an_update_stamps_now(company):
    past = dt.datetime(2025, 9, 1, 8, 30, tzinfo=dt.UTC)
    customer = Customer.objects.create(
        company=company, name="Alt Kunde", created_at=past, updated_at=past
    )
    customer.refresh_from_db()
    assert customer.created_at == past and customer.updated_at == past
    customer.name = "Alt Kunde GmbH"
    customer.save()
    customer.refresh_from_db()
    assert customer.created_at == past
    assert customer.updated_at > past


def test_the_secret_columns_the_audit_names_are_declared_secret():
    """The checks and the fix name the plain-text key columns they look at; each must be one
    the models declare secret, so that history, admin and rotation hide it too."""
    from audit_app.checks import key_scan, secrets
    from audit_app.fixes import secrets as secret_fix
    from integrations_app.models.base import PLAIN

    declared = Company.SECRET_COLUMNS
    assert set(secrets.COMPANY_PLAIN_COLUMNS) <= {c for c, f in declared.items() if f == PLAIN}
    assert set(secret_fix._COMPANY_COLUMNS) <= set(declared)
    assert set(key_scan.COMPANY_KEY_COLUMNS) == {"calcom_api_key", "retell_api_key"}
