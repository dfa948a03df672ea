"""The one-click fixes: the preview lists exactly the writes, apply writes exactly them."""

import json
import re
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit_app.fixes.base import all_fixes, get_fix
from audit_app.fixes.service import NothingToDo, StalePlan, UnknownFix, apply_fix, preview
from audit_app.models import FixRecord
from changelog.models import Change, Operation
from integrations_app.models import (
    Branch,
    Call,
    Company,
    Customer,
    CustomerInteraction,
    Integration,
    NotificationTemplate,
    PhoneNumber,
    Staff,
)
from integrations_app.models.fields import new_uuid
from tests.support import at_the_same_moment

pytestmark = pytest.mark.django_db
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BERLIN = ZoneInfo("Europe/Berlin")
FIX_IDS = {
    "attach-numbers-to-branch",
    "attach-staff-to-branch",
    "calcom-placeholder",
    "create-main-branch",
    "default-templates",
    "first-contact-interactions",
    "normalize-numbers",
    "retell-placeholder",
}


@pytest.fixture(autouse=True)
def english():
    """The tiers run in German; these tests read the English texts."""
    with translation.override("en"):
        yield


@pytest.fixture
def manager():
    return get_user_model().objects.create_user("manager", password="x")


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def as_json(value):
    """A JSON column as read raw: text on MariaDB and SQLite."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def changes_of(record):
    """The rows the fix wrote, as the change store keeps them, in the order written."""
    return list(Change.objects.filter(operation=record.operation).order_by("id"))


def apply(fix_id, user=None):
    plan = preview(fix_id)
    return plan, apply_fix(fix_id=fix_id, digest=plan.digest, user=user)


def assert_second_run_writes_nothing(fix_id, table):
    before = raw(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]  # noqa: S608
    plan = preview(fix_id)
    assert plan.empty
    records, operations = FixRecord.objects.count(), Operation.objects.count()
    with pytest.raises(NothingToDo) as refused:
        apply_fix(fix_id=fix_id, digest=plan.digest)
    assert "already done" in refused.value.message
    assert FixRecord.objects.count() == records
    assert Operation.objects.count() == operations
    assert raw(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == before  # noqa: S608


def company(name, **kwargs):
    return Company.objects.create(name=name, **kwargs)


def branch(owner, name="Filiale", **kwargs):
    return Branch.objects.create(company=owner, name=name, **kwargs)


def test_every_agreed_fix_is_registered_for_its_check():
    fixes = {f.id: f.check_id for f in all_fixes()}
    assert set(fixes) >= FIX_IDS
    assert fixes["create-main-branch"] == "AUD-BRN-001"
    assert fixes["normalize-numbers"] == "AUD-PHN-002"
    assert fixes["attach-numbers-to-branch"] == "AUD-PHN-005"
    assert fixes["attach-staff-to-branch"] == "AUD-STF-001"
    assert fixes["calcom-placeholder"] == "AUD-INT-001"
    assert fixes["retell-placeholder"] == "AUD-INT-002"
    assert fixes["default-templates"] == "AUD-NTF-001"
    assert fixes["first-contact-interactions"] == "AUD-CUS-001"
    for fix_id in FIX_IDS:
        fix = get_fix(fix_id)
        assert str(fix.title) and str(fix.description)


def test_unknown_fix_is_refused():
    with pytest.raises(UnknownFix):
        preview("no-such-fix")
    with pytest.raises(UnknownFix):
        apply_fix(fix_id="no-such-fix", digest="x")


# --- create-main-branch ---------------------------------------------------------------------


def test_create_main_branch(manager):
    bare = company("Praxis Ohne", address="Hauptstraße 1", postal_code="10115", city="Berlin")
    long_address = company("Praxis Lang", address="x" * 300, postal_code="12345678901")
    with_branch = company("Praxis Mit")
    branch(with_branch)
    only_deleted = company("Praxis Gelöscht")
    branch(only_deleted).delete()
    company("Weg").delete()

    plan = preview("create-main-branch")
    assert [w.key for w in plan.writes] == [
        f"branch-for-company-{c.pk}" for c in (bare, long_address, only_deleted)
    ]
    assert plan.writes[0].after == {
        "company_id": bare.pk, "name": "Hauptfiliale", "address": "Hauptstraße 1",
        "postal_code": "10115", "city": "Berlin", "is_active": True, "active": True,
    }  # fmt: skip
    assert plan.writes[1].after["address"] is None and plan.writes[1].after["postal_code"] is None
    assert {w.action for w in plan.writes} == {"create"} and plan.needs_person == []
    assert "Praxis Ohne" in plan.writes[0].description

    record = apply_fix(fix_id="create-main-branch", digest=plan.digest, user=manager)
    assert (record.created_count, record.changed_count, record.applied_by) == (3, 0, manager)
    assert record.check_id == "AUD-BRN-001"
    rows = raw(
        "SELECT id, company_id, name, address, postal_code, city, is_active, active, country, "
        "created_at, updated_at, deleted_at FROM branches WHERE name = 'Hauptfiliale' "
        "ORDER BY company_id"
    )
    assert [r["company_id"] for r in rows] == [bare.pk, long_address.pk, only_deleted.pk]
    for row in rows:
        assert UUID4.match(row["id"]) and row["is_active"] and row["active"]
        assert row["created_at"] and row["updated_at"] and row["deleted_at"] is None
        assert row["country"] == "Deutschland"
    assert rows[0]["address"] == "Hauptstraße 1" and rows[0]["city"] == "Berlin"
    changes = changes_of(record)
    assert sorted(c.object_pk for c in changes) == sorted(r["id"] for r in rows)
    assert {c.action for c in changes} == {"create"} and {c.table for c in changes} == {"branches"}
    assert changes[0].after["name"] == "Hauptfiliale" and changes[0].before is None
    assert changes[0].company_id == bare.pk
    assert (record.operation.source, record.operation.name) == ("fix", "create-main-branch")
    assert record.operation.user == manager
    assert_second_run_writes_nothing("create-main-branch", "branches")


def test_a_stale_preview_is_shown_again_and_nothing_written():
    company("Praxis Eins")
    old = preview("create-main-branch")
    late = company("Praxis Zwei")
    with pytest.raises(StalePlan) as stale:
        apply_fix(fix_id="create-main-branch", digest=old.digest)
    assert "changed since the preview" in stale.value.message
    assert [w.after["company_id"] for w in stale.value.plan.writes][-1] == late.pk
    assert len(stale.value.plan.writes) == 2 * len(old.writes)
    assert Branch.all_objects.count() == 0 and FixRecord.objects.count() == 0
    assert not Change.objects.exists()


def test_plans_read_with_a_fixed_number_of_queries(gateway_key):
    def queries(n):
        for i in range(n):
            owner = company(f"Firma {n}-{i}")
            if i % 2:
                branch(owner, name=f"Filiale {n}-{i}")
            PhoneNumber.objects.create(company=owner, number=f"+49 30 9{n}{i:04d}")
            if i % 2 == 0:  # a plain-text key for move-plaintext-secrets
                Company.objects.filter(pk=owner.pk).update(calcom_v2_api_key=f"cal_test_q{n}{i}")
            customer = Customer.objects.create(company=owner, name=f"Kunde {n}-{i}")
            Call.objects.create(
                company=owner, customer=customer, retell_call_id=f"call_q_{n}_{i}",
                start_timestamp=datetime(2025, 9, 1, 10, tzinfo=BERLIN),
            )  # fmt: skip
        counts = {}
        for fix_id in [*FIX_IDS, "move-plaintext-secrets"]:
            with CaptureQueriesContext(connection) as captured:
                preview(fix_id)
            counts[fix_id] = len(captured)
        return counts

    small = queries(2)
    large = queries(8)
    assert small == large


# --- placeholders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fix_id", "provider", "kind_type", "name", "check_id"),
    [
        ("calcom-placeholder", "calcom", "calendar", "Cal.com", "AUD-INT-001"),
        ("retell-placeholder", "retell", "telephony", "Retell AI", "AUD-INT-002"),
    ],
)
def test_placeholder_integration(manager, fix_id, provider, kind_type, name, check_id):
    missing = company("Praxis Ohne")
    pending = company("Praxis Wartend")
    Integration.objects.create(
        company=pending, provider=provider, type=kind_type, name=name, status="pending",
        is_active=False,
    )  # fmt: skip
    active = company("Praxis Aktiv")
    Integration.objects.create(company=active, provider=provider, type=kind_type, name=name)
    spelled = company("Praxis Anzeigename")
    Integration.objects.create(company=spelled, provider=name, type=kind_type, name=name)
    company("Weg").delete()

    plan = preview(fix_id)
    assert [w.after["company_id"] for w in plan.writes] == [missing.pk]
    write = plan.writes[0]
    assert write.after == {
        "company_id": missing.pk, "provider": provider, "type": kind_type, "name": name,
        "status": "pending", "is_active": False, "config": {},
    }  # fmt: skip
    assert "needs its credentials" in write.description
    assert [row.label for row in plan.needs_person] == [f"{name} · Praxis Wartend"]
    assert plan.needs_person[0].admin == ("integrations_app", "integration")

    record = apply_fix(fix_id=fix_id, digest=plan.digest, user=manager)
    assert record.created_count == 1 and record.check_id == check_id
    row = raw(
        "SELECT id, tenant_id, provider, type, name, status, is_active, config, credentials, "
        "api_key, webhook_secret, environment, health_status, created_at, updated_at "
        "FROM integrations WHERE company_id = %s",
        [missing.pk],
    )[0]
    assert UUID4.match(row["tenant_id"])
    assert (row["provider"], row["type"], row["name"], row["status"]) == (
        provider, kind_type, name, "pending",
    )  # fmt: skip
    assert not row["is_active"] and as_json(row["config"]) == {}
    assert row["credentials"] is None and row["api_key"] is None and row["webhook_secret"] is None
    assert row["environment"] == "production" and row["health_status"] == "unknown"
    assert row["created_at"] and row["updated_at"]
    (written,) = changes_of(record)
    assert (written.table, written.object_pk, written.action) == (
        "integrations",
        str(row["id"]),
        "create",
    )
    assert written.after["tenant_id"] == row["tenant_id"]
    assert written.after["provider"] == provider and written.after["api_key"] is None
    # The new placeholder is on the work list now, next to the older pending row.
    again = preview(fix_id)
    assert {r.label for r in again.needs_person} == {
        f"{name} · Praxis Ohne",
        f"{name} · Praxis Wartend",
    }
    assert_second_run_writes_nothing(fix_id, "integrations")


# --- default-templates ----------------------------------------------------------------------


def test_default_templates(manager):
    bare = company("Praxis Ohne")
    partial = company("Praxis Halb")
    kept = NotificationTemplate.objects.create(
        company=partial, key="appointment_confirmation", channel="email", name="Eigene",
        type="appointment", content={"de": "Eigener Text"}, translations={},
    )  # fmt: skip
    inactive = company("Praxis Inaktiv")
    NotificationTemplate.objects.create(
        company=inactive, key="appointment_reminder_24h", channel="sms", name="Alt",
        type="appointment", content={"de": "Alt"}, translations={}, is_active=False,
    )  # fmt: skip
    company("Weg").delete()

    plan = preview("default-templates")
    assert [(w.after["company_id"], w.after["key"], w.after["channel"]) for w in plan.writes] == [
        (bare.pk, "appointment_confirmation", "email"),
        (bare.pk, "appointment_reminder_24h", "sms"),
        (partial.pk, "appointment_reminder_24h", "sms"),
        (inactive.pk, "appointment_confirmation", "email"),
    ]
    assert [r.label for r in plan.needs_person] == [
        "Praxis Inaktiv: appointment_reminder_24h (sms)"
    ]

    record = apply_fix(fix_id="default-templates", digest=plan.digest, user=manager)
    assert record.created_count == 4
    rows = raw(
        "SELECT company_id, `key`, channel, name, type, subject, content, translations, "
        "variables, is_active, created_at FROM notification_templates WHERE company_id = %s "
        "ORDER BY `key`",
        [bare.pk],
    )
    email, sms = rows
    assert (email["channel"], sms["channel"]) == ("email", "sms")
    assert email["type"] == "appointment" and email["name"] and email["is_active"]
    subject, content = as_json(email["subject"]), as_json(email["content"])
    assert set(subject) == set(content) == {"de", "en"}
    for text in (content["de"], content["en"]):
        assert "{name}" in text and "{time}" in text and "{date:date(d.m.Y)}" in text
    assert as_json(sms["subject"]) is None
    assert set(as_json(sms["content"])) == {"de", "en"}
    translations = as_json(email["translations"])
    assert translations["de"] == {"subject": subject["de"], "content": content["de"]}
    assert as_json(sms["translations"])["en"] == {"content": as_json(sms["content"])["en"]}
    assert set(as_json(email["variables"])) == {"name", "date", "time"}
    kept.refresh_from_db()
    assert kept.name == "Eigene" and kept.content == {"de": "Eigener Text"}
    assert NotificationTemplate.objects.filter(company=inactive, is_active=False).count() == 1
    assert_second_run_writes_nothing("default-templates", "notification_templates")


# --- first-contact-interactions -------------------------------------------------------------


def test_first_contact_interactions(manager):
    owner = company("Praxis Anruf")
    first = datetime(2025, 8, 1, 9, 30, tzinfo=BERLIN)
    caller = Customer.objects.create(company=owner, name="Anna Anruf")
    Call.objects.create(
        company=owner,
        customer=caller,
        retell_call_id="call_late",
        start_timestamp=first + timedelta(days=3),
    )
    Call.objects.create(
        company=owner, customer=caller, retell_call_id="call_first", start_timestamp=first
    )
    gone = Call.objects.create(
        company=owner, customer=caller, retell_call_id="call_deleted",
        start_timestamp=first - timedelta(days=9),
    )  # fmt: skip
    gone.delete()
    untimed = Customer.objects.create(company=owner, name="Bert Ohnezeit")
    untimed_call = Call.objects.create(company=owner, customer=untimed, retell_call_id="call_t")
    recorded = Customer.objects.create(company=owner, name="Cora Erfasst")
    Call.objects.create(
        company=owner, customer=recorded, retell_call_id="call_c", start_timestamp=first
    )
    CustomerInteraction.objects.create(
        customer=recorded, company=owner, interaction_type="email", interaction_at=first
    )
    Customer.objects.create(company=owner, name="Dora Stumm")  # no calls
    deleted_customer = Customer.objects.create(company=owner, name="Emil Weg")
    Call.objects.create(company=owner, customer=deleted_customer, retell_call_id="call_e")
    deleted_customer.delete()
    homeless = Customer.objects.create(company=None, name="Fritz Firmenlos")
    Call.objects.create(
        company=owner, customer=homeless, retell_call_id="call_f", start_timestamp=first
    )

    plan = preview("first-contact-interactions")
    assert [w.after["customer_id"] for w in plan.writes] == [caller.pk, untimed.pk]
    assert plan.writes[0].after == {
        "customer_id": caller.pk, "company_id": owner.pk, "interaction_type": "phone_call",
        "channel": "phone", "interaction_at": plan.writes[0].after["interaction_at"],
        "call_id": "call_first",
        "branch_id": None,
    }  # fmt: skip
    assert datetime.fromisoformat(plan.writes[0].after["interaction_at"]) == first
    assert plan.writes[1].after["call_id"] == "call_t"  # no start: its creation time
    assert [r.label for r in plan.needs_person] == ["Fritz Firmenlos"]

    record = apply_fix(fix_id="first-contact-interactions", digest=plan.digest, user=manager)
    assert record.created_count == 2
    rows = raw(
        "SELECT customer_id, company_id, branch_id, interaction_type, channel, interaction_at, "
        "call_id, created_at FROM customer_interactions WHERE interaction_type = 'phone_call' "
        "ORDER BY customer_id"
    )
    assert [r["customer_id"] for r in rows] == [caller.pk, untimed.pk]
    assert rows[0]["branch_id"] is None and rows[0]["channel"] == "phone"
    assert rows[0]["call_id"] == "call_first" and rows[0]["created_at"]
    stored = CustomerInteraction.objects.get(customer=caller)
    assert stored.interaction_at == first
    untimed_call.refresh_from_db()
    assert (
        CustomerInteraction.objects.get(customer=untimed).interaction_at == untimed_call.created_at
    )
    assert_second_run_writes_nothing("first-contact-interactions", "customer_interactions")


# --- normalize-numbers ----------------------------------------------------------------------


def test_normalize_numbers(manager):
    owner = company("Praxis Nummer")
    other = company("Praxis Wien", country="AT")
    typed = PhoneNumber.objects.create(company=owner, number="+49 30 23125 104")
    national = PhoneNumber.objects.create(company=owner, number="030 23125 105")
    half = PhoneNumber.objects.create(
        company=owner, number="+493023125106", number_normalized="493023125106"
    )
    fine = PhoneNumber.objects.create(
        company=owner, number="+493023125107", number_normalized="+493023125107",
        phone_number="+493023125107",
    )  # fmt: skip
    broken = PhoneNumber.objects.create(company=owner, number="12")
    taken = PhoneNumber.objects.create(company=owner, number="+49 30 23125 107")
    # Salzburg's 0662 is also a valid German area code; Graz's 0316 is Austrian only.
    ambiguous = PhoneNumber.objects.create(company=other, number="0662 123456")
    graz = PhoneNumber.objects.create(company=other, number="0316 123456")

    plan = preview("normalize-numbers")
    by_pk = {w.pk: w for w in plan.writes}
    assert set(by_pk) == {typed.pk, national.pk, half.pk, graz.pk}
    assert by_pk[graz.pk].after["number_normalized"] == "+43316123456"
    assert by_pk[typed.pk].before == {
        "number": "+49 30 23125 104", "number_normalized": None, "phone_number": None,
    }  # fmt: skip
    assert by_pk[typed.pk].after == dict.fromkeys(
        ("number", "number_normalized", "phone_number"), "+493023125104"
    )
    assert by_pk[national.pk].after["number"] == "+493023125105"
    assert by_pk[half.pk].after["number_normalized"] == "+493023125106"
    person = {r.pk: r.detail for r in plan.needs_person}
    assert set(person) == {broken.pk, taken.pk, ambiguous.pk}
    assert "not a valid phone number" in person[broken.pk]
    assert "already used by another number" in person[taken.pk]
    assert "ambiguous" in person[ambiguous.pk]
    assert fine.pk not in person

    record = apply_fix(fix_id="normalize-numbers", digest=plan.digest, user=manager)
    assert (record.created_count, record.changed_count) == (0, 4)
    rows = {
        r["id"]: r
        for r in raw("SELECT id, number, number_normalized, phone_number FROM phone_numbers")
    }
    for pk, e164 in ((typed.pk, "+493023125104"), (national.pk, "+493023125105"),
                     (half.pk, "+493023125106")):  # fmt: skip
        assert (rows[pk]["number"], rows[pk]["number_normalized"], rows[pk]["phone_number"]) == (
            e164, e164, e164,
        )  # fmt: skip
    assert rows[broken.pk]["number"] == "12" and rows[taken.pk]["number_normalized"] is None
    changes = {c.object_pk: c for c in changes_of(record)}
    assert set(changes) == {str(n.pk) for n in (typed, national, half, graz)}
    assert {c.action for c in changes.values()} == {"update"}
    # Only the columns that really changed: "half" had its number in E.164 already.
    assert changes[str(typed.pk)].before == {
        "number": "+49 30 23125 104", "number_normalized": None, "phone_number": None,
    }  # fmt: skip
    assert changes[str(typed.pk)].after == dict.fromkeys(
        ("number", "number_normalized", "phone_number"), "+493023125104"
    )
    assert set(changes[str(half.pk)].after) == {"number_normalized", "phone_number"}
    assert_second_run_writes_nothing("normalize-numbers", "phone_numbers")


# --- attach-numbers-to-branch ---------------------------------------------------------------


def test_attach_numbers_to_branch(manager):
    single = company("Praxis Eine")
    only = branch(single, name="Mitte")
    branch(single, name="Alt").delete()
    several = company("Praxis Zwei")
    branch(several, name="Nord")
    branch(several, name="Süd")
    none = company("Praxis Keine")
    attach = PhoneNumber.objects.create(company=single, number="+493023125201")
    two = PhoneNumber.objects.create(company=several, number="+493023125202")
    zero = PhoneNumber.objects.create(company=none, number="+493023125203")
    orphan = PhoneNumber.objects.create(company=None, number="+493023125204")
    done = PhoneNumber.objects.create(company=single, branch=only, number="+493023125205")

    plan = preview("attach-numbers-to-branch")
    assert [(w.pk, w.before, w.after) for w in plan.writes] == [
        (attach.pk, {"branch_id": None}, {"branch_id": only.pk})
    ]
    assert "Mitte" in plan.writes[0].description
    person = {r.pk: r.detail for r in plan.needs_person}
    assert set(person) == {two.pk, zero.pk, orphan.pk}
    assert "2 branches" in person[two.pk] and "no branch" in person[zero.pk]
    assert plan.needs_person[0].admin == ("integrations_app", "phonenumber")
    assert done.pk not in person

    record = apply_fix(fix_id="attach-numbers-to-branch", digest=plan.digest, user=manager)
    assert record.changed_count == 1
    assert raw("SELECT branch_id FROM phone_numbers WHERE id = %s", [attach.pk])[0] == {
        "branch_id": only.pk
    }
    assert_second_run_writes_nothing("attach-numbers-to-branch", "phone_numbers")


# --- attach-staff-to-branch -----------------------------------------------------------------


def test_attach_staff_to_branch(manager):
    single = company("Praxis Eine")
    only = branch(single, name="Mitte")
    old = branch(single, name="Alt")
    old.delete()
    several = company("Praxis Zwei")
    branch(several, name="Nord")
    branch(several, name="Süd")
    missing = Staff.objects.create(company=single, branch_id=new_uuid(), name="Ina Fehlt")
    moved = Staff.objects.create(company=single, branch_id=old.pk, name="Jan Alt")
    placed = Staff.objects.create(company=single, branch=only, name="Kai Da")
    unsure = Staff.objects.create(company=several, branch_id=new_uuid(), name="Lea Zwei")
    gone = Staff.objects.create(company=single, branch_id=new_uuid(), name="Max Weg")
    gone.delete()

    plan = preview("attach-staff-to-branch")
    assert sorted((w.pk, w.after["branch_id"]) for w in plan.writes) == sorted(
        [(missing.pk, only.pk), (moved.pk, only.pk)]
    )
    assert {w.pk: w.before for w in plan.writes}[moved.pk] == {"branch_id": old.pk}
    assert [(r.pk, r.label) for r in plan.needs_person] == [(unsure.pk, "Lea Zwei")]
    assert placed.pk not in {w.pk for w in plan.writes}

    record = apply_fix(fix_id="attach-staff-to-branch", digest=plan.digest, user=manager)
    assert record.changed_count == 2
    rows = raw("SELECT id, branch_id FROM staff WHERE id IN (%s, %s)", [missing.pk, moved.pk])
    assert {r["branch_id"] for r in rows} == {only.pk}
    assert raw("SELECT branch_id FROM staff WHERE id = %s", [gone.pk])[0]["branch_id"] != only.pk
    assert_second_run_writes_nothing("attach-staff-to-branch", "staff")


# --- the demo data --------------------------------------------------------------------------


def test_on_the_demo_data_each_fix_closes_what_it_can(manager):
    call_command("seed_demo", stdout=StringIO())
    order = [
        "create-main-branch",
        "normalize-numbers",
        "attach-numbers-to-branch",
        "attach-staff-to-branch",
        "calcom-placeholder",
        "retell-placeholder",
        "default-templates",
        "first-contact-interactions",
    ]
    written = {}
    for fix_id in order:
        plan, record = apply(fix_id, user=manager)
        written[fix_id] = len(plan.writes)
        assert record.created_count + record.changed_count == len(plan.writes)
        assert preview(fix_id).empty, fix_id
    assert written["create-main-branch"] == 6
    assert written["normalize-numbers"] == 1
    assert written["calcom-placeholder"] == written["retell-placeholder"] == 13
    assert written["default-templates"] == 26
    assert (
        written["first-contact-interactions"]
        == Customer.objects.filter(calls__isnull=False).distinct().count()
    )
    assert Company.objects.exclude(branches__isnull=False).count() == 0
    assert PhoneNumber.objects.filter(branch__isnull=True).count() == 0
    assert Integration.objects.filter(status="pending", is_active=False).count() == 26
    # Every number now routes in its E.164 form.
    for number in PhoneNumber.objects.all():
        assert number.number == number.number_normalized == number.phone_number
        assert number.number.startswith("+")
    assert FixRecord.objects.count() == len(order)
    for record in FixRecord.objects.select_related("operation"):
        assert record.operation.name == record.fix_id
        assert Change.objects.filter(operation=record.operation).count() == (
            record.created_count + record.changed_count
        )


# --- one pending item per fix: stale previews, two clicks at once ---------------------------

_SEQUENCE = iter(range(100, 10_000))


def _one_item(fix_id):
    """Create one thing `fix_id` will fix; returns the table it writes."""
    n = next(_SEQUENCE)
    owner = company(f"Praxis Szenario {n}")
    if fix_id in ("create-main-branch", "calcom-placeholder", "retell-placeholder"):
        return {"create-main-branch": "branches"}.get(fix_id, "integrations")
    if fix_id == "default-templates":
        return "notification_templates"
    if fix_id == "normalize-numbers":
        PhoneNumber.objects.create(company=owner, number=f"+49 30 2312 {n:04d}")
        return "phone_numbers"
    only = branch(owner, name=f"Filiale {n}")
    if fix_id == "attach-numbers-to-branch":
        PhoneNumber.objects.create(company=owner, number=f"+49302312{n:04d}")
        return "phone_numbers"
    if fix_id == "attach-staff-to-branch":
        Staff.objects.create(company=owner, branch_id=new_uuid(), name=f"Person {n}")
        return "staff"
    assert fix_id == "first-contact-interactions" and only
    customer = Customer.objects.create(company=owner, name=f"Kunde {n}")
    Call.objects.create(company=owner, customer=customer, retell_call_id=f"call_s_{n}")
    return "customer_interactions"


def snapshot(table):
    return sorted(map(repr, raw(f"SELECT * FROM {table}")))  # noqa: S608


@pytest.mark.parametrize("fix_id", sorted(FIX_IDS))
def test_a_stale_preview_of_any_fix_writes_nothing(fix_id):
    table = _one_item(fix_id)
    old = preview(fix_id)
    assert len(old.writes) == (2 if fix_id == "default-templates" else 1)
    _one_item(fix_id)
    before = snapshot(table)
    with pytest.raises(StalePlan) as stale:
        apply_fix(fix_id=fix_id, digest=old.digest)
    assert len(stale.value.plan.writes) == 2 * len(old.writes)
    assert snapshot(table) == before and FixRecord.objects.count() == 0
    assert not Operation.objects.exists() and not Change.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fix_id", sorted(FIX_IDS))
def test_two_concurrent_runs_write_once(mysql_only, transactional_db, fix_id):
    # `transactional_db` named here so that conftest empties the gateway tables afterwards.
    for _i in range(3):
        table = _one_item(fix_id)
    plan = preview(fix_id)
    rows_before = raw(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]  # noqa: S608

    def run():
        try:
            apply_fix(fix_id=fix_id, digest=plan.digest)
            return "applied"
        except NothingToDo:
            return "nothing to do"

    outcomes = at_the_same_moment(run, run)
    assert sorted(outcomes) == ["applied", "nothing to do"]
    assert FixRecord.objects.filter(fix_id=fix_id).count() == 1
    assert Operation.objects.filter(source="fix", name=fix_id).count() == 1
    created = sum(1 for w in plan.writes if w.action == "create")
    assert raw(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == rows_before + created  # noqa: S608
    assert preview(fix_id).empty


def test_every_fix_holds_the_one_fix_lock(monkeypatch):
    """Different fixes write the same rows, so none runs beside another (the lock itself is
    shown to hold by test_two_concurrent_runs_write_once on MariaDB)."""
    from audit_app.fixes import service
    from audit_app.models import FixLock

    held = []

    def hold(model, **key):
        held.append((model, key))
        raise NothingToDo("stop here")  # the lock is all this test is about

    monkeypatch.setattr(service, "hold_row_lock", hold)
    for fix_id in sorted(FIX_IDS):
        with pytest.raises(NothingToDo):
            apply_fix(fix_id=fix_id, digest="x")
    assert held == [(FixLock, {"fix_id": service.ALL_FIXES})] * len(FIX_IDS)


@pytest.mark.parametrize("fix_id", sorted(FIX_IDS))
def test_applying_takes_a_fixed_number_of_queries(fix_id, manager):
    """Bulk stays bulk: the write and its record in the change store take as many queries for
    six rows as for two (no query per row)."""

    def applied(items):
        for _i in range(items):
            _one_item(fix_id)
        plan = preview(fix_id)
        with CaptureQueriesContext(connection) as captured:
            record = apply_fix(fix_id=fix_id, digest=plan.digest, user=manager)
        assert record.created_count + record.changed_count == len(plan.writes) > 0
        return len(captured)

    applied(1)  # the first run of all creates the one FixLock row
    assert applied(2) == applied(6)
