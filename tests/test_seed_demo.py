"""`manage.py seed_demo`: the review's figures, its gaps, invented data only, and its refusals."""

import uuid
from datetime import timedelta
from io import StringIO

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changelog.models import Change, Operation, Source
from integrations_app import demo_data
from integrations_app.models import (
    GATEWAY_MODELS,
    Appointment,
    Branch,
    Call,
    Company,
    Customer,
    Integration,
    PhoneNumber,
    Service,
    Staff,
)
from integrations_app.models.fields import TimestampField
from tests.support import run_manage

# The review of 22 September 2025 (askproai/report-summary.md), table by table.
REVIEW_COUNTS = {
    "companies": 13,
    "branches": 9,
    "staff": 8,
    "services": 21,
    "phone_numbers": 4,
    "integrations": 0,
    "customers": 42,
    "calls": 207,
    "appointments": 41,
    "notification_templates": 0,
    "customer_interactions": 0,
    "retell_agents": 0,  # not in the review; the demo's agent is unregistered (AUD-AGT-001)
}
# Bundesnetzagentur blocks for fiction: Berlin, Frankfurt, Hamburg, Köln, München.
FICTION_PREFIXES = ("+493023125", "+496990009", "+494066969", "+492214710", "+498999998")
RESERVED_MAIL_DOMAINS = ("example.com", "example.org")
SOFT_DELETE_MODELS = (Company, Branch, Staff, Service, Customer, Call, Appointment)


def table_counts() -> dict[str, int]:
    """Rows per gateway table, soft-deleted rows included."""
    return {m._meta.db_table: m._base_manager.count() for m in GATEWAY_MODELS}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    return seed()


def is_fictional_e164(value: str) -> bool:
    parsed = phonenumbers.parse(value, "DE")
    return (
        phonenumbers.is_valid_number_for_region(parsed, "DE")
        and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == value
        and value.startswith(FICTION_PREFIXES)
        and len(value) == len(FICTION_PREFIXES[0]) + 3
    )


def is_lowercase_uuid4(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == value


def is_reserved_mail(address: str) -> bool:
    domain = address.rsplit("@", 1)[1]
    return domain in RESERVED_MAIL_DOMAINS or domain.endswith(".test")


# --- the dataset ---------------------------------------------------------------------------


def test_row_counts_are_the_reviews(seeded):
    assert table_counts() == REVIEW_COUNTS
    for model in SOFT_DELETE_MODELS:
        assert not model._base_manager.filter(deleted_at__isnull=False).exists(), model
    assert not PhoneNumber.objects.filter(deleted_at__isnull=False).exists()


def test_prints_rows_per_table(seeded):
    lines = {line.split()[0]: line.split()[1] for line in seeded.splitlines()[1:]}
    assert lines == {table: str(count) for table, count in REVIEW_COUNTS.items()}
    assert "2025-09-22" in seeded.splitlines()[0]


def test_phone_coverage_is_4_of_13(seeded):
    covered = Company.objects.filter(phone_numbers__isnull=False).distinct().count()
    assert (covered, Company.objects.count()) == (4, 13)


def test_several_companies_have_no_branch(seeded):
    without = Company.objects.filter(branches__isnull=True).count()
    assert without >= 2
    assert Company.objects.count() - without == 7


def test_two_phone_numbers_complete_one_unnormalised_one_without_branch(seeded):
    complete, unnormalised, without_branch = [], [], []
    for phone in PhoneNumber.objects.select_related("branch"):
        if phone.number_normalized is None:
            unnormalised.append(phone)
        elif phone.branch_id is None:
            without_branch.append(phone)
        else:
            complete.append(phone)
    assert (len(complete), len(unnormalised), len(without_branch)) == (2, 1, 1)

    for phone in complete:
        assert phone.number == phone.number_normalized == phone.phone_number
        assert is_fictional_e164(phone.number)
        assert phone.branch.company_id == phone.company_id
        assert phone.branch.deleted_at is None
        assert phone.type == "direct"
        assert phone.is_primary

    [raw] = unnormalised
    assert raw.number == "+49 30 23125 104"
    assert raw.phone_number is None
    parsed = phonenumbers.parse(raw.number, "DE")
    assert phonenumbers.is_valid_number_for_region(parsed, "DE")
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == (
        "+493023125104"
    )

    [branchless] = without_branch
    assert branchless.company_id is not None
    assert is_fictional_e164(branchless.number_normalized)

    primaries = PhoneNumber.objects.filter(is_primary=True).values_list("company_id", flat=True)
    assert len(primaries) == len(set(primaries))
    assert len(set(PhoneNumber.objects.values_list("number_normalized", flat=True))) == 4


def test_every_phone_number_is_fictional_and_valid(seeded):
    numbers = [
        *Company.objects.values_list("phone", flat=True),
        *PhoneNumber.objects.exclude(number_normalized=None).values_list(
            "number_normalized", flat=True
        ),
        *Customer.objects.values_list("phone", flat=True),
        *Call.objects.values_list("from_number", flat=True),
        *Call.objects.values_list("to_number", flat=True),
    ]
    assert len(numbers) == 13 + 3 + 42 + 2 * 207
    assert [n for n in numbers if not is_fictional_e164(n)] == []


def test_staff_too_few_and_two_not_assigned(seeded):
    branches = {b.id: b for b in Branch.objects.all()}
    staff = list(Staff.objects.all())
    unassigned = [s for s in staff if s.branch_id not in branches]
    assert len(unassigned) == 2
    for member in staff:
        if member in unassigned:
            assert member.home_branch_id is None
        else:
            assert branches[member.branch_id].company_id == member.company_id
    per_branch = {b: sum(s.branch_id == b for s in staff) for b in branches}
    assert sum(count <= 1 for count in per_branch.values()) >= 2
    assert max(per_branch.values()) < 3


def test_appointments_belong_to_their_customers_company(seeded):
    appointments = Appointment.objects.select_related(
        "customer", "branch", "service", "call", "staff"
    )
    assert appointments.count() == 41
    with_branch = 0
    for appointment in appointments:
        company = appointment.company_id
        assert appointment.customer.company_id == company
        assert appointment.service.company_id == company
        if appointment.branch:
            with_branch += 1
            assert appointment.branch.company_id == company
        elif Branch.objects.filter(company_id=company).exists():
            pytest.fail(f"appointment {appointment.pk} lacks the branch its company has")
        if appointment.call:
            assert appointment.call.customer_id == appointment.customer_id
            assert appointment.call.appointment_made
        if appointment.staff:
            assert appointment.staff.branch_id == appointment.branch_id
        assert appointment.ends_at > appointment.starts_at
    assert with_branch > 0


def test_calls_are_unique_linked_and_in_the_90_days_before_the_review(seeded):
    reference = demo_data.REFERENCE_TIME
    ids = list(Call.objects.values_list("retell_call_id", flat=True))
    assert sorted(ids) == [f"call_demo_{n:04d}" for n in range(1, 208)]
    linked = 0
    for call in Call.objects.select_related("customer"):
        assert call.company_id is not None
        if call.customer:
            linked += 1
            assert call.customer.company_id == call.company_id
            assert call.from_number == call.customer.phone
        assert reference - timedelta(days=91) < call.start_timestamp < call.end_timestamp
        assert call.end_timestamp <= reference
    assert linked > 207 // 2
    assert (
        Service.objects.exclude(calcom_event_type_id=None)
        .values("calcom_event_type_id")
        .distinct()
        .count()
        == Service.objects.exclude(calcom_event_type_id=None).count()
    )


def test_no_secret_is_written(seeded):
    assert not Integration.objects.exists()
    assert not Company.objects.exclude(
        calcom_api_key=None,
        retell_api_key=None,
        calcom_v2_api_key=None,
        webhook_signing_secret=None,
        google_calendar_credentials=None,
    ).exists()
    assert not Branch.objects.exclude(calcom_api_key=None).exists()
    assert not Staff.objects.exclude(
        google_calendar_token=None,
        google_refresh_token=None,
        outlook_access_token=None,
        outlook_refresh_token=None,
    ).exists()


def test_every_uuid_key_is_lowercase_v4(seeded):
    keys = [
        *Branch.objects.values_list("id", flat=True),
        *Staff.objects.values_list("id", flat=True),
        *Staff.objects.values_list("branch_id", flat=True),
        *PhoneNumber.objects.values_list("id", flat=True),
    ]
    assert len(keys) == 9 + 8 + 8 + 4
    assert [k for k in keys if not is_lowercase_uuid4(k)] == []


def test_mail_addresses_are_under_reserved_domains_only(seeded):
    addresses = [
        *Company.objects.values_list("email", flat=True),
        *Branch.objects.values_list("notification_email", flat=True),
        *Staff.objects.values_list("email", flat=True),
        *Customer.objects.exclude(email=None).values_list("email", flat=True),
    ]
    assert len(addresses) > 13 + 9 + 8
    assert [a for a in addresses if not is_reserved_mail(a)] == []


def test_timestamps_are_whole_seconds_and_before_the_review(seeded):
    reference = demo_data.REFERENCE_TIME
    for model in (Company, Branch, Staff, Service, PhoneNumber, Customer, Call, Appointment):
        stamps = [f.name for f in model._meta.concrete_fields if isinstance(f, TimestampField)]
        for row in model._base_manager.values(*stamps):
            for name, value in row.items():
                assert value is None or value.microsecond == 0, (model, name)
            assert row["created_at"] <= row["updated_at"] <= reference, model


def test_writes_with_a_fixed_number_of_queries(db):
    data = demo_data.build_demo_data()
    rows = sum(len(objects) for _model, objects in data.tables())
    with CaptureQueriesContext(connection) as queries:
        demo_data.write_demo_data(data)
    assert rows == 345
    # Per table a few: its bulk inserts, their change rows, the operation, a savepoint; the
    # refusal's checks and the counts. Never one per row.
    assert len(queries) <= 80
    assert Operation.objects.get().name == "seed_demo"  # one operation of its own
    assert Change.objects.count() == rows


def test_the_rows_are_recorded_as_one_seed_demo_operation(seeded):
    operation = Operation.objects.get()
    assert (operation.source, operation.name, operation.user) == (Source.COMMAND, "seed_demo", None)
    changes = Change.objects.filter(operation=operation)
    assert changes.count() == sum(REVIEW_COUNTS.values())
    assert set(changes.values_list("action", flat=True)) == {Change.Action.CREATE}
    company = Company.objects.order_by("pk").first()
    change = changes.get(table="companies", object_pk=str(company.pk))
    assert change.company_id == company.pk and change.before is None
    assert change.after["name"] == company.name


def test_the_dataset_is_deterministic_and_built_without_the_database():
    # No django_db mark: any query would fail this test. UUID keys are the models' random
    # defaults; everything else is the same from run to run.
    def fingerprint(data):
        return [
            [
                tuple(
                    value
                    for f in model._meta.concrete_fields
                    if not is_lowercase_uuid4(value := getattr(row, f.attname))
                )
                for row in rows
            ]
            for model, rows in data.tables()
        ]

    assert fingerprint(demo_data.build_demo_data()) == fingerprint(demo_data.build_demo_data())


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_refuses_a_database_that_holds_a_company():
    Company.objects.create(name="Bestandskunde GmbH")
    before, history = table_counts(), (Operation.objects.count(), Change.objects.count())
    with pytest.raises(CommandError, match="already hold data \\(companies\\)"):
        seed()
    assert table_counts() == before == {**dict.fromkeys(REVIEW_COUNTS, 0), "companies": 1}
    assert (Operation.objects.count(), Change.objects.count()) == history


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_refuses_even_when_the_only_row_is_soft_deleted():
    Company.objects.create(name="Ehemals GmbH").delete()
    assert not Company.objects.exists()
    with pytest.raises(CommandError, match="already hold data"):
        seed()
    assert table_counts()["companies"] == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_refuses_when_the_gateway_tables_are_missing(monkeypatch):
    monkeypatch.setattr(demo_data.write, "existing_gateway_tables", lambda: [])
    with pytest.raises(CommandError, match="run `python manage.py gateway_schema create` first"):
        seed()
    monkeypatch.setattr(
        demo_data.write, "existing_gateway_tables", lambda: ["companies", "branches"]
    )
    with pytest.raises(CommandError, match="gateway tables are missing \\(staff, services"):
        seed()
    assert table_counts() == dict.fromkeys(REVIEW_COUNTS, 0)


# transaction=True: on MariaDB the scratch database is made with CREATE DATABASE, which commits
# implicitly and so must not run inside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_end_to_end_in_a_fresh_database(scratch_database_url):
    before = run_manage("seed_demo", database_url=scratch_database_url)
    assert before.returncode != 0
    assert before.stderr.strip().splitlines() == [
        "CommandError: this database has no gateway tables: "
        "run `python manage.py gateway_schema create` first"
    ]

    created = run_manage("gateway_schema", "create", database_url=scratch_database_url)
    assert created.returncode == 0, created.stderr
    unmigrated = run_manage("seed_demo", database_url=scratch_database_url)
    assert unmigrated.returncode != 0
    assert unmigrated.stderr.strip().splitlines() == [
        "CommandError: the console's tables are missing: run `python manage.py migrate` first"
    ]
    migrated = run_manage("migrate", database_url=scratch_database_url)
    assert migrated.returncode == 0, migrated.stderr

    first = run_manage("seed_demo", database_url=scratch_database_url)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    rows = {line.split()[0]: int(line.split()[1]) for line in first.stdout.splitlines()[1:]}
    assert rows == REVIEW_COUNTS

    second = run_manage("seed_demo", database_url=scratch_database_url)
    assert second.returncode != 0
    assert second.stdout == ""
    [line] = second.stderr.strip().splitlines()
    assert line.startswith("CommandError: refusing to seed: the gateway tables already hold data")
    assert "Traceback" not in second.stderr
