"""The audit's checks: the review's gaps on the demo data, each check on hand-made rows
(positive, negative, soft-deleted rows never count), query counts that do not grow, the
credential checks with the gateway's keys."""

import random

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit_app.checks import inventory
from audit_app.models import ProviderReconciliation
from audit_app.registry import Severity, all_checks, get_check, run_all
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.crypto.keys import parse_app_key
from integrations_app.demo_data.catalogue import UNNORMALISED_NUMBER
from integrations_app.models import Branch, Company, CustomerInteraction, PhoneNumber, Staff
from tests import audit_rows as r
from tests.support import TEST_PREVIOUS_KEY

pytestmark = pytest.mark.django_db

AGREED = {
    "AUD-PHN-001": ("critical", "calls", None),
    "AUD-PHN-002": ("critical", "calls", "normalize-numbers"),
    "AUD-PHN-003": ("critical", "calls", None),
    "AUD-PHN-004": ("warning", "calls", None),
    "AUD-PHN-005": ("critical", "bookings", "attach-numbers-to-branch"),
    "AUD-PHN-006": ("critical", "bookings", None),
    "AUD-BRN-001": ("critical", "bookings", "create-main-branch"),
    "AUD-BRN-002": ("warning", "bookings", None),
    "AUD-STF-001": ("warning", "bookings", "attach-staff-to-branch"),
    "AUD-INT-001": ("critical", "credentials", "calcom-placeholder"),
    "AUD-INT-002": ("critical", "credentials", "retell-placeholder"),
    "AUD-INT-003": ("warning", "credentials", None),
    "AUD-INT-004": ("critical", "credentials", None),
    "AUD-KEY-001": ("critical", "credentials", None),
    "AUD-KEY-002": ("warning", "credentials", None),
    "AUD-KEY-003": ("warning", "credentials", None),
    "AUD-SEC-001": ("critical", "secrets", "move-plaintext-secrets"),
    "AUD-SEC-002": ("critical", "secrets", None),
    "AUD-NTF-001": ("warning", "notifications", "default-templates"),
    "AUD-CUS-001": ("info", "customers", "first-contact-interactions"),
    "AUD-TBL-001": ("critical", "inventory", None),
    "AUD-TBL-002": ("info", "inventory", None),
    "AUD-ETY-001": ("warning", "bookings", "sync-calcom-services"),
    "AUD-ETY-002": ("warning", "bookings", None),
    "AUD-ETY-003": ("critical", "bookings", "sync-calcom-services"),
    "AUD-ETY-004": ("info", "bookings", "sync-calcom-services"),
    "AUD-ETY-005": ("warning", "bookings", None),
    "AUD-AGT-001": ("critical", "calls", "register-agents"),
    "AUD-AGT-002": ("critical", "calls", None),
    "AUD-AGT-003": ("warning", "calls", None),
    "AUD-AGT-004": ("warning", "calls", None),
    "AUD-AGT-005": ("warning", "calls", "normalize-numbers"),
    "AUD-RTN-001": ("critical", "calls", None),
    "AUD-RTN-002": ("warning", "calls", None),
    "AUD-RTN-003": ("critical", "calls", "retell-bind-number"),
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# -- the registry ----------------------------------------------------------------------------


def test_every_agreed_check_is_registered_as_agreed():
    checks = {c.id: c for c in all_checks()}
    assert set(checks) == set(AGREED)
    for check_id, (severity, category, fix_id) in AGREED.items():
        check = checks[check_id]
        assert (check.severity.value, check.category.value, check.fix_id) == (
            severity,
            category,
            fix_id,
        ), check_id
        for text in (check.title, check.explanation, check.hint):
            assert str(text).strip(), check_id


def test_every_detail_names_what_the_gateway_does():
    # The explanation says what happens to callers and bookings (tests/test_audit_texts.py);
    # the technical detail names the gateway behaviour behind it.
    for check in all_checks():
        assert "gateway" in str(check.detail), check.id


def test_texts_are_translatable_to_german():
    check = get_check("AUD-BRN-001")
    with translation.override("de"):
        german = str(check.title)
    assert german and isinstance(german, str)


# -- the review's gaps on the demo data ------------------------------------------------------


@pytest.fixture
def demo(gateway_key):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_data_shows_the_reviews_gaps(demo):
    outcomes = {o.check.id: o for o in run_all()}
    assert all(o.available for o in outcomes.values())

    assert outcomes["AUD-PHN-001"].count == 9
    assert outcomes["AUD-BRN-001"].count == 6
    assert outcomes["AUD-INT-001"].count == 13
    assert outcomes["AUD-INT-002"].count == 13
    assert outcomes["AUD-NTF-001"].count == 13

    [unmatched] = outcomes["AUD-PHN-002"].rows
    assert unmatched.label.startswith(UNNORMALISED_NUMBER)
    assert "the number the gateway looks up is empty" in unmatched.detail
    assert unmatched.admin == ("integrations_app", "phonenumber")

    [without_branch] = outcomes["AUD-PHN-005"].rows
    assert PhoneNumber.objects.get(pk=without_branch.pk).branch_id is None

    assert outcomes["AUD-STF-001"].count == 2
    assert {row.label.split(" (")[0] for row in outcomes["AUD-STF-001"].rows} == {
        "Dana Ostermeier",
        "Henrik Sandvoß",
    }
    # 9 branches for 8 staff, 6 of them on a branch that exists: all but one have fewer than 2.
    assert outcomes["AUD-BRN-002"].count == 8
    # Every customer with a call, none with an interaction.
    assert outcomes["AUD-CUS-001"].count == 40

    for clean in ("AUD-PHN-003", "AUD-PHN-004", "AUD-PHN-006", "AUD-SEC-001", "AUD-SEC-002"):
        assert outcomes[clean].ok, clean
    for clean in ("AUD-KEY-001", "AUD-KEY-002", "AUD-KEY-003", "AUD-INT-003"):
        assert outcomes[clean].ok, clean


def test_demo_inventory_rates_the_empty_tables_by_class(demo):
    outcome = r.outcome("AUD-TBL-001")
    empty = {row.table: row for row in outcome.rows}
    check = outcome.check
    assert "business-critical" in empty["integrations"].detail
    assert check.severity_of(empty["integrations"]) == Severity.CRITICAL
    for table in ("notification_templates", "customer_interactions"):
        assert "operations-critical" in empty[table].detail
        assert check.severity_of(empty[table]) == Severity.WARNING
    assert empty["integrations"].admin == ("integrations_app", "integration")
    for filled in ("companies", "calls", "customers", "appointments"):
        assert filled not in empty

    sparse = {row.table: row for row in r.outcome("AUD-TBL-002").rows}
    assert {"branches", "phone_numbers", "staff"} <= set(sparse)
    assert "4 rows" in sparse["phone_numbers"].detail
    assert "companies" not in sparse  # 13 rows


# -- calls cannot arrive ---------------------------------------------------------------------


def test_companies_without_a_number():
    with_number, without = r.company(), r.company()
    r.number(with_number, r.line(1))
    gone = r.company(**r.deleted())
    marked = r.company()
    r.number(marked, r.line(2), deleted_at=r.deleted()["deleted_at"])  # still routes: counts

    assert r.found("AUD-PHN-001") == {without.pk}
    assert gone.pk not in r.found("AUD-PHN-001")


def test_numbers_the_gateway_cannot_match():
    c = r.company()
    good = r.number(c, r.line(1))
    empty = r.number(c, "+49 30 23125 502", normalized=None)
    not_e164 = r.number(c, r.line(3), normalized="030 23125503")
    differs = r.number(c, r.line(4), normalized=r.line(5))
    garbage = r.number(c, "call me", normalized=r.line(6))
    gone = r.company(**r.deleted())
    r.number(gone, "+49 30 23125 507", normalized=None)

    found = r.rows("AUD-PHN-002")
    assert set(found) == {empty.pk, not_e164.pk, differs.pk, garbage.pk}
    assert good.pk not in found
    assert "not in the international form" in found[not_e164.pk].detail
    assert "not the international form" in found[differs.pk].detail
    assert r.line(4) in found[differs.pk].detail


def test_numbers_with_the_same_e164_form():
    a, b = r.company("Eins"), r.company("Zwei")
    first = r.number(a, r.line(1))
    second = r.number(b, "030 23125501", normalized=r.line(1)[1:])  # without the plus: matches
    alone = r.number(a, r.line(2))

    found = r.rows("AUD-PHN-003")
    assert set(found) == {first.pk, second.pk}
    assert alone.pk not in found
    assert "Zwei" in found[first.pk].detail


def test_numbers_marked_inactive_or_deleted_still_route():
    c = r.company()
    active = r.number(c, r.line(1))
    inactive = r.number(c, r.line(2), is_active=False)
    marked = r.number(c, r.line(3), deleted_at=r.deleted()["deleted_at"])
    r.number(c, "+49 30 23125 504", normalized=None, is_active=False)  # cannot route anyway

    found = r.rows("AUD-PHN-004")
    assert set(found) == {inactive.pk, marked.pk}
    assert active.pk not in found
    assert "marked deleted" in found[marked.pk].detail


# -- bookings break --------------------------------------------------------------------------


def test_numbers_without_a_branch():
    c = r.company()
    b = r.branch(c)
    ok = r.number(c, r.line(1), at=b)
    without = r.number(c, r.line(2))
    r.number(r.company(**r.deleted()), r.line(3))

    assert r.found("AUD-PHN-005") == {without.pk}
    assert ok.pk not in r.found("AUD-PHN-005")


def test_numbers_with_a_deleted_or_foreign_branch():
    c, other = r.company(), r.company("Andere")
    own = r.branch(c)
    gone = r.branch(c, "Alt", **r.deleted())
    foreign = r.branch(other, "Fremd")
    ok = r.number(c, r.line(1), at=own)
    on_gone = r.number(c, r.line(2), at=gone)
    on_foreign = r.number(c, r.line(3), at=foreign)

    found = r.rows("AUD-PHN-006")
    assert set(found) == {on_gone.pk, on_foreign.pk}
    assert ok.pk not in found
    assert "is deleted" in found[on_gone.pk].detail
    assert "Andere" in found[on_foreign.pk].detail


def test_companies_without_a_live_branch():
    with_branch, without, only_deleted = r.company(), r.company(), r.company()
    r.branch(with_branch)
    r.branch(only_deleted, **r.deleted())
    r.company(**r.deleted())

    assert r.found("AUD-BRN-001") == {without.pk, only_deleted.pk}


def test_branches_with_too_few_staff(settings):
    settings.AUDIT_MIN_STAFF_PER_BRANCH = 2
    c = r.company()
    full, thin = r.branch(c, "Voll"), r.branch(c, "Duenn")
    r.staff(c, full), r.staff(c, full)
    r.staff(c, thin)
    r.staff(c, thin, **r.deleted())  # soft-deleted staff do not count
    r.branch(c, "Alt", **r.deleted())  # a deleted branch is no finding

    found = r.rows("AUD-BRN-002")
    assert set(found) == {thin.pk}
    assert "1 staff, minimum 2" in found[thin.pk].detail

    settings.AUDIT_MIN_STAFF_PER_BRANCH = 1
    assert r.found("AUD-BRN-002") == set()


def test_staff_whose_branch_is_missing_or_deleted():
    c = r.company()
    live, gone = r.branch(c), r.branch(c, "Alt", **r.deleted())
    ok = r.staff(c, live)
    nowhere = r.staff(c, branch_id="00000000-0000-4000-8000-000000000000")
    on_gone = r.staff(c, gone)
    r.staff(c, branch_id="00000000-0000-4000-8000-000000000001", **r.deleted())

    found = r.rows("AUD-STF-001")
    assert set(found) == {nowhere.pk, on_gone.pk}
    assert ok.pk not in found
    assert "does not exist" in found[nowhere.pk].detail
    assert found[nowhere.pk].admin == ("integrations_app", "staff")


# -- credentials -----------------------------------------------------------------------------


def test_companies_without_active_core_integrations():
    both, placeholder, none = r.company(), r.company(), r.company()
    r.integration(both, "calcom"), r.integration(both, "retell")
    r.integration(placeholder, "calcom", is_active=False, status="pending")
    r.integration(placeholder, "retell", status="suspended")
    r.company(**r.deleted())

    calcom = r.rows("AUD-INT-001")
    assert set(calcom) == {placeholder.pk, none.pk}
    assert "needs credentials" in calcom[placeholder.pk].detail
    assert r.found("AUD-INT-002") == {placeholder.pk, none.pk}


def test_integration_rows_the_gateway_rejects():
    c = r.company()
    good = r.integration(c, "calcom")
    display_name = r.integration(c, "Cal.com")
    no_tenant = r.integration(c, "retell", tenant_id="")
    bad_status = r.integration(c, "retell", status="broken")

    found = r.rows("AUD-INT-003")
    assert set(found) == {display_name.pk, no_tenant.pk, bad_status.pk}
    assert good.pk not in found
    assert "'Cal.com'" in found[display_name.pk].detail
    assert "tenant ID" in found[no_tenant.pk].detail


@pytest.fixture
def keys(gateway_key):
    current = Encrypter.from_settings()
    previous = Encrypter(parse_app_key(TEST_PREVIOUS_KEY))
    return current, previous


def test_unreadable_keys(keys):
    current, previous = keys
    fine = r.company(calcom_api_key=current.encrypt("cal_live_fine_0001"))
    rotated = r.company(calcom_api_key=previous.encrypt("cal_live_rotated_0002"))
    corrupt = r.company(calcom_api_key="eyJub3QiOiJhIHBheWxvYWQifQ==")
    foreign = r.company(retell_api_key=Encrypter(b"x" * 32).encrypt("key_other_0003"))
    raw_in_company = r.company(calcom_api_key=current.encrypt_string("cal_live_raw_0004"))
    integration_ok = r.integration(fine, "calcom", api_key=current.encrypt_string("cal_x_0005"))
    serialized_in_integration = r.integration(
        fine, "retell", api_key=current.encrypt("key_retell_0006")
    )
    r.company(calcom_api_key="eyJnYXJiYWdlIjoxfQ==", **r.deleted())

    found = {(row.table, row.pk): row for row in r.outcome("AUD-KEY-001").rows}
    assert set(found) == {
        ("companies", corrupt.pk),
        ("companies", foreign.pk),
        ("companies", raw_in_company.pk),
        ("integrations", serialized_in_integration.pk),
    }
    assert ("companies", fine.pk) not in found and ("companies", rotated.pk) not in found
    assert ("integrations", integration_ok.pk) not in found
    # The columns by their labels, as the forms name them (not companies.calcom_api_key).
    assert found["companies", corrupt.pk].detail.startswith("Cal.com API key (encrypted): ")
    assert "MAC mismatch" in found["companies", foreign.pk].detail
    assert "another encryption format" in found["companies", raw_in_company.pk].detail
    assert found["integrations", serialized_in_integration.pk].detail.startswith("API key: ")
    for row in found.values():
        assert "companies." not in row.detail and "integrations." not in row.detail
    for row in found.values():
        assert "cal_live" not in row.detail and "key_" not in row.detail


@pytest.mark.parametrize("key", ["", "base64:c2hvcnQ="], ids=["missing", "malformed"])
def test_credential_checks_are_not_available_without_the_key(settings, key):
    settings.GATEWAY_APP_KEY, settings.GATEWAY_PREVIOUS_KEYS = key, []
    r.company(calcom_api_key="eyJ-whatever")
    outcomes = {o.check.id: o for o in run_all()}
    for check_id in ("AUD-KEY-001", "AUD-KEY-002", "AUD-KEY-003"):
        assert not outcomes[check_id].available, check_id
        assert not outcomes[check_id].ok
        assert "GATEWAY_APP_KEY" in outcomes[check_id].unavailable_reason
    assert outcomes["AUD-INT-001"].available


def test_company_key_differs_from_its_integration(keys):
    current, _previous = keys
    same = r.company(calcom_api_key=current.encrypt("cal_live_same_0001"))
    r.integration(same, "calcom", api_key=current.encrypt_string("cal_live_same_0001"))
    differs = r.company(calcom_api_key=current.encrypt("cal_live_old_0002"))
    stale = r.integration(differs, "calcom", api_key=current.encrypt_string("cal_live_new_0003"))
    plain = r.company(calcom_v2_api_key="cal_live_plain_0004")
    plain_row = r.integration(plain, "calcom", api_key=current.encrypt_string("cal_live_x_0005"))
    r.integration(r.company(), "calcom", api_key=current.encrypt_string("cal_live_only_0006"))

    found = r.rows("AUD-KEY-002")
    assert set(found) == {stale.pk, plain_row.pk}
    assert fingerprint("cal_live_old_0002") in found[stale.pk].detail
    assert fingerprint("cal_live_new_0003") in found[stale.pk].detail
    assert "cal_live" not in found[stale.pk].detail


def test_one_key_shared_by_several_companies(keys):
    current, previous = keys
    a = r.company("Eins", calcom_api_key=current.encrypt("cal_live_shared_0001"))
    b = r.company("Zwei", calcom_v2_api_key="cal_live_shared_0001")
    c = r.company("Drei")
    r.integration(c, "calcom", api_key=current.encrypt_string("cal_live_shared_0001"))
    own = r.company("Vier", calcom_api_key=previous.encrypt("cal_live_own_0002"))
    r.company("Fuenf", calcom_api_key=current.encrypt("cal_live_shared_0001"), **r.deleted())

    found = r.rows("AUD-KEY-003")
    assert set(found) == {a.pk, b.pk, c.pk}
    assert own.pk not in found
    assert fingerprint("cal_live_shared_0001") in found[a.pk].detail
    assert "Zwei" in found[a.pk].detail and "Drei" in found[a.pk].detail
    assert "Fuenf" not in found[a.pk].detail


# -- secrets in plain text -------------------------------------------------------------------


def test_plain_text_secret_columns():
    v2 = r.company(calcom_v2_api_key="cal_live_plain_secret_1")
    signing = r.company(webhook_signing_secret="whsec_plain_secret_2")
    clean = r.company()
    b = r.branch(clean, calcom_api_key="cal_live_plain_secret_3")
    r.company(calcom_v2_api_key="cal_live_plain_secret_4", **r.deleted())

    found = r.rows("AUD-SEC-001")
    assert set(found) == {v2.pk, signing.pk, b.pk}
    assert fingerprint("cal_live_plain_secret_1") in found[v2.pk].detail
    for row in found.values():
        assert "plain_secret" not in row.detail and "plain_secret" not in row.label


def test_key_like_values_in_integration_json():
    c = r.company()
    pasted = r.integration(c, "calcom", credentials={"api_key": "cal_live_0123456789abcdef"})
    bearer = r.integration(
        c, "retell", config={"headers": {"Authorization": "Bearer abcdef0123456"}}
    )
    hexed = r.integration(c, "api", type="api", credentials={"token": "ab" * 20})
    clean = r.integration(
        c, "calcom", config={"event_type_id": 4210001, "team_slug": "praxis-team-0123456789abc"}
    )
    agent = r.integration(c, "retell", config={"agent_id": "agent_0123456789abcdef0123"})

    found = r.rows("AUD-SEC-002")
    assert set(found) == {pasted.pk, bearer.pk, hexed.pk}
    assert clean.pk not in found and agent.pk not in found
    assert "“api_key” in Credentials" in found[pasted.pk].detail
    assert "0123456789abcdef" not in found[pasted.pk].detail


# -- notifications and customers -------------------------------------------------------------


def test_companies_without_confirmation_and_reminder_templates():
    complete, half, inactive = r.company(), r.company(), r.company()
    r.template(complete, "appointment_confirmation", "email")
    r.template(complete, "appointment_reminder_24h", "sms")
    r.template(half, "appointment_confirmation", "email")
    r.template(half, "appointment_reminder_24h", "email")  # wrong channel
    r.template(inactive, "appointment_confirmation", "email", is_active=False)
    r.template(inactive, "appointment_reminder_24h", "sms")
    r.company(**r.deleted())

    found = r.rows("AUD-NTF-001")
    assert set(found) == {half.pk, inactive.pk}
    assert "reminder 24 hours ahead (SMS)" in found[half.pk].detail
    assert "appointment_confirmation" not in found[half.pk].detail


def test_customers_with_calls_but_no_interaction():
    c = r.company()
    caller, recorded, silent, only_deleted_calls = (r.customer(c) for _n in range(4))
    gone = r.customer(c, **r.deleted())
    r.call(c, caller), r.call(c, caller)
    r.call(c, recorded)
    CustomerInteraction.objects.create(
        customer=recorded,
        company=c,
        interaction_type="phone_call",
        interaction_at=r.deleted()["deleted_at"],
    )
    r.call(c, only_deleted_calls, **r.deleted())
    r.call(c, gone)

    found = r.rows("AUD-CUS-001")
    assert set(found) == {caller.pk}
    assert "2 calls" in found[caller.pk].detail
    assert silent.pk not in found


# -- inventory -------------------------------------------------------------------------------


def test_inventory_counts_every_table_but_the_consoles_own():
    tables = inventory.gateway_table_names()
    everything = connection.introspection.table_names()
    consoles_own = set(connection.introspection.django_table_names())
    assert "companies" in tables and "integrations" in tables
    assert not [t for t in tables if t.startswith(("django_", "auth_", "auditlog_", "audit_app_"))]
    assert set(tables) == {
        t
        for t in everything
        if t not in consoles_own
        and not t.startswith(("django_", "auth_", "auditlog_", "audit_app_"))
    }
    counts = inventory.table_row_counts()
    assert set(counts) == set(tables)


def test_inventory_empty_and_sparse_by_class(settings):
    settings.AUDIT_SPARSE_ROWS = 3
    settings.AUDIT_TABLE_CATALOGUE = {
        "business_critical": ["companies"],
        "operations_critical": ["branches"],
        "optional": [],
    }
    c = r.company()
    r.company(**r.deleted())  # soft-deleted rows never count
    r.branch(c), r.branch(c), r.branch(c)

    empty = r.rows("AUD-TBL-001")
    sparse = r.rows("AUD-TBL-002")
    sparse = {row.table: row for row in r.outcome("AUD-TBL-002").rows}
    empty = {row.table: row for row in r.outcome("AUD-TBL-001").rows}
    assert "companies" in sparse and "companies" not in empty
    assert "1 row (" in sparse["companies"].detail
    assert "branches" not in sparse and "branches" not in empty  # 3 rows: not sparse
    check = get_check("AUD-TBL-002")
    # A nearly empty table is information, whatever its class (a demo has few rows; what a
    # company lacks, the other checks report): never critical.
    assert check.severity_of(sparse["companies"]) == Severity.INFO
    assert "unclassified" in empty["staff"].detail
    assert get_check("AUD-TBL-001").severity_of(empty["staff"]) == Severity.INFO


def test_inventory_on_the_reference_schema_covers_all_240_tables(reference_schema):
    if connection.vendor != "mysql":
        pytest.skip("the reference schema loads into MariaDB only")
    from tests.support import tables_source

    if tables_source() != "reference":
        pytest.skip("needs ASKPRO_GATEWAY_TABLES=reference")
    counts = inventory.table_row_counts()
    assert len(counts) == 240
    with CaptureQueriesContext(connection) as queries:
        r.outcome("AUD-TBL-001")
    # introspection, the estimates, and one UNION ALL per CHUNK tables (240: two)
    assert len(queries) <= 2 + -(-240 // inventory.CHUNK)


# -- queries do not grow with rows -----------------------------------------------------------


def _world(size: int, current: Encrypter, start: int = 0) -> None:
    for n in range(start, start + size):
        c = r.company(calcom_api_key=current.encrypt(f"cal_live_{n:04d}_key"))
        b = r.branch(c)
        r.staff(c, b), r.staff(c, branch_id=f"00000000-0000-4000-8000-{n:012d}")
        r.number(c, r.line(2 * n), at=b)
        r.number(c, f"030 23125 {500 + 2 * n + 1}", normalized=None)
        r.integration(c, "calcom", api_key=current.encrypt_string(f"cal_live_{n:04d}_key"))
        r.integration(c, "retell", credentials={"api_key": f"key_{n:04d}_abcdefghij"})
        ProviderReconciliation.objects.create(  # reconcile_retell's stored result
            kind="retell_phone_numbers",
            company_id=c.pk,
            findings=[{"kind": "missing_in_db", "number": f"+4930999{n:04d}"}],
        )
        ProviderReconciliation.objects.create(  # reconcile_calcom's stored result
            kind="calcom_event_types", company_id=c.pk, findings=[]
        )
        r.template(c, "appointment_confirmation", "email")
        who = r.customer(c)
        r.call(c, who), r.call(c, who)


def _queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        outcomes = run_all()
    assert all(o.available for o in outcomes)
    return len(queries)


def test_queries_do_not_grow_with_rows(gateway_key):
    current = Encrypter.from_settings()
    _world(2, current)
    few = _queries()
    _world(20, current, start=2)
    many = _queries()
    assert few == many
    # 35 checks, one audit run: shared reads made once (AUDIT_QUERIES below); on MySQL/MariaDB
    # information_schema's estimates first; the reference schema's 240 tables take a second
    # UNION ALL to count.
    assert many <= 30 + (1 if connection.vendor == "mysql" else 0) + (
        -(-len(inventory.gateway_table_names()) // inventory.CHUNK) - 1
    )
    assert Company.objects.count() == 22 and Branch.objects.count() == 22
    assert Staff.objects.count() == 44


def test_the_inventory_never_counts_soft_deleted_rows():
    from audit_app.checks.inventory import table_row_counts
    from integrations_app.models import Company

    live = Company.objects.create(name="Praxis Lebendig")
    Company.objects.create(name="Praxis Gelöscht").delete()
    counts = table_row_counts(["companies", "phone_numbers"])
    assert counts["companies"] == 1  # the soft-deleted company does not count
    live.delete()
    assert table_row_counts(["companies"])["companies"] == 0


def _audit_queries(rows: int) -> tuple[int, dict]:
    """The queries of `audit --format json --rows N` (checks, measures, row counts) and its JSON."""
    import io
    import json

    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command(
            "audit", "--format", "json", "--fail-on", "never", "--rows", str(rows), stdout=out
        )
    return len(queries), json.loads(out.getvalue())


def test_audit_query_count_is_pinned_and_does_not_grow_with_affected_rows(gateway_key):
    """Counts first, rows on demand: the whole audit in a fixed number of queries, whether a check
    has 2 or 40 affected rows, and the JSON says how many rows it left out."""
    current = Encrypter.from_settings()
    _world(2, current)
    few, small = _audit_queries(rows=3)
    _world(20, current, start=2)
    many, big = _audit_queries(rows=3)
    # The reference schema's 240 tables are counted in two UNION ALL statements (CHUNK).
    chunks = -(-len(inventory.gateway_table_names()) // inventory.CHUNK)
    assert few == many == AUDIT_QUERIES[connection.vendor == "mysql"] + chunks - 1
    customers = {c["id"]: c for c in big["checks"]}["AUD-CUS-001"]
    assert customers["count"] == 22 and len(customers["rows"]) == 3
    assert customers["rows_omitted"] == 19
    assert {c["id"]: c for c in small["checks"]}["AUD-CUS-001"]["rows_omitted"] == 0
    assert all(c["rows_omitted"] == c["count"] - len(c["rows"]) for c in big["checks"])
    assert big["row_counts_estimated"] == []  # SQLite: every count exact


# The audit command's queries: the checks (one to three each), the measures (3) and the row
# counts; within one audit run the reads several checks share are made once (the numbers, the
# stored keys, the table sizes, the agents, the stored reconciliations, the branches' staff:
# 48 -> 28). On MySQL/MariaDB one more: information_schema's estimates, read once for the
# inventory and the row counts. The table names are read once. AUD-INT-004 (failed connection
# tests) one more: 29 -> 30. Memory flat (issue 13): the numbers are one streamed read for all
# number checks (three reads before), the understaffed branches one query and the staffing
# measure two counts (one shared read of every branch with its count before): 30 -> 29. The
# agents the companies expect, with their registrations, one streamed query for AUD-AGT-001
# and 002 (two queries and a lookup before): 29 -> 28.
# Pinned (SQLite, MySQL): a change here is deliberate.
AUDIT_QUERIES = (28, 29)


def test_paged_check_pages_in_the_order_of_find(gateway_key):
    """AUD-CUS-001 counted first and paged: every page is a slice of the full list."""
    _world(7, Encrypter.from_settings())
    check = get_check("AUD-CUS-001")
    every = check.find()
    assert len(every) == 7
    for offset, limit in ((0, 3), (3, 3), (6, 3), (9, 3)):
        total, page = check.count_and_page(limit, offset)
        assert total == 7
        assert page == every[offset : offset + limit]
    assert check.count_and_page(0) == (7, [])
    outcome = check.run(row_limit=2)
    assert outcome.count == 7 and len(outcome.rows) == 2 and outcome.partial
    assert not check.run().partial


@pytest.mark.parametrize(
    ("number", "normalized"),
    [
        ("+49 30 1234567", None),
        ("+49 30 1234567", ""),
        ("+49 30 1234567", "49301234567"),
        ("+49 30 1234567", "+49301234567"),
        ("030 1234567", "+49301234567"),
        ("030 1234567", "+49301234568"),
        ("not a number", "+49301234567"),
        ("", "+49301234567"),
        (None, None),
    ],
)
def test_cached_number_rules_agree_with_the_gateways(number, normalized):
    from audit_app.checks import common
    from integrations_app import phone

    assert common.number_problem(number, normalized) == phone.number_problem(number, normalized)
    assert common.to_e164(number) == phone.to_e164(number)
    # the number pass computes these once per number, without the caches
    e164, problem, row_forms = common.number_facts(number, normalized)
    assert (e164, problem) == (phone.to_e164(number), phone.number_problem(number, normalized))
    assert set(row_forms) == phone.routing_forms(number, normalized)
    forms = common.routing_forms(number, normalized)
    assert forms == phone.routing_forms(number, normalized)
    forms.add("+1")  # the caller's own set: the cache is untouched
    assert common.routing_forms(number, normalized) == phone.routing_forms(number, normalized)


def test_the_fast_e164_path_agrees_with_parsing():
    """common.to_e164 takes "+49..." (and the other gateway countries) without parsing: the same
    answer as phonenumbers for valid, invalid, short and long numbers of every type."""
    import phonenumbers

    from audit_app.checks import common
    from integrations_app import phone

    codes = set()
    for region in phone.GATEWAY_REGIONS:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        # Nothing but a leading 0 is stripped in these countries: the fast path's premise.
        assert meta.national_prefix_for_parsing in (None, "0"), region
        codes.add(str(meta.country_code))
    assert codes == common._FAST_COUNTRY_CODES
    samples = []
    for region in phone.GATEWAY_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            samples += [e164, e164[:-1], e164 + "1", e164 + "12", e164[:-3]]
    samples += ["+49301234567", "+490301234567", "+4930", "+4915112345678", "+41 44 668 18 00"]
    # Other countries: Italy's leading zero, a country code of several regions (NANP), the UK.
    samples += ["+39 06 6982 1234", "+39 333 123 4567", "+1 212 555 0100", "+44 20 7946 0958"]
    digits = random.Random(13)  # and numbers of every length the fast shape takes, at random
    for code in sorted(common._FAST_COUNTRY_CODES):
        for length in range(4, 14):
            for _n in range(40):
                first = str(digits.randint(1, 9))
                rest = "".join(str(digits.randint(0, 9)) for _d in range(length - 1))
                samples.append(f"+{code}{first}{rest}")
    common.to_e164.cache_clear()
    assert len(samples) > 100
    for raw in samples:
        assert common.to_e164(raw) == _to_e164_by_phonenumbers(raw), raw


def _to_e164_by_phonenumbers(raw: str) -> str | None:
    """The gateway's to_e164 with phonenumbers' own is_valid_number (phone.is_valid is the fast
    equivalent the console uses)."""
    import phonenumbers

    from integrations_app import phone

    for region in phone.GATEWAY_REGIONS:
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        assert phone.is_valid(parsed) == phonenumbers.is_valid_number(parsed), raw
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def test_no_check_queries_while_it_reads_a_stream_on_the_demo(demo, monkeypatch):
    """Every check and the measures on the demo data, each stream guarded as in
    tests/test_audit_keys.py: a query while a stream is read (MySQL: "Commands out of sync")
    fails here on any database. The checks yield from streams, the passes judge while they
    read; what they look up after the loop is allowed."""
    import sys

    from django.db import connection

    from audit_app import measures
    from audit_app.registry import all_checks, audit_run
    from audit_app.streaming import stream

    streams = []

    def refuse(execute, sql, params, many, context):
        raise AssertionError(f"a query while a stream is read: {sql}")

    def guarded(queryset, *args, **kwargs):
        rows = stream(queryset, *args, **kwargs)
        first = next(rows, None)  # the statement runs here: from now on the connection is busy
        if first is None:
            return
        streams.append(queryset.model._meta.db_table)
        with connection.execute_wrapper(refuse):
            yield first
            yield from rows

    modules = {sys.modules[type(check).__module__] for check in all_checks()}
    modules |= {
        sys.modules[f"audit_app.checks.{name}"] for name in ("number_pass", "key_scan", "queried")
    }
    for module in modules:
        if getattr(module, "stream", None) is stream:
            monkeypatch.setattr(module, "stream", guarded)
    with audit_run():  # counts and first pages (the audit command)
        outcomes = run_all(row_limit=2, count_all=True)
        measures.compute()
    assert all(o.available for o in outcomes)
    with audit_run():  # every row (snapshots, exports): the query checks stream theirs
        assert all(o.available for o in run_all())
    # the numbers, the companies (agents, templates, keys), the branches, the staff: streamed
    assert {"phone_numbers", "companies", "branches", "staff"} <= set(streams), streams


@pytest.mark.parametrize("check_id", ["AUD-PHN-002", "AUD-PHN-003", "AUD-AGT-001"])
def test_a_pass_check_pages_in_the_order_of_find(check_id):
    """A check judged in a shared pass (the numbers, the expected agents) keeps only the page
    asked for: every page is a slice of the full list, within an audit run and outside."""
    from audit_app.registry import audit_run

    for n in range(5):
        c = r.company(retell_agent_id=f"agent_page_{n}")  # registered nowhere: AUD-AGT-001
        b = r.branch(c)
        r.number(c, f"030 {5550100 + n}", at=b, normalized="")  # AUD-PHN-002
        r.number(c, f"+4930{5550200 + n}", at=b)
        r.number(c, f"030/{5550200 + n}", at=b, normalized=f"+4930{5550200 + n}")  # AUD-PHN-003
    check = get_check(check_id)
    every = check.find()
    assert len(every) >= 4, check_id
    for offset, limit in ((0, 1), (1, 2), (len(every) - 1, 3), (len(every) + 5, 3)):
        total, page = check.count_and_page(limit, offset)
        assert (total, page) == (len(every), every[offset : offset + limit])
        with audit_run():
            assert check.count_and_page(limit, offset) == (total, page)
    assert check.count_and_page(0) == (len(every), [])


def test_a_query_check_counts_and_pages_in_the_database(demo, django_assert_num_queries):
    """A check whose rows are one query (QueryCheck) counts them and reads only the page, in
    one query (the count is a window over all affected rows); every page is a slice of find()."""
    from audit_app.checks.queried import QueryCheck
    from audit_app.registry import all_checks

    checks = [c for c in all_checks() if isinstance(c, QueryCheck)]
    assert {"AUD-PHN-001", "AUD-BRN-001", "AUD-BRN-002", "AUD-STF-001", "AUD-NTF-001"} <= {
        c.id for c in checks
    }
    for check in checks:
        every = check.find()
        for offset, limit in ((0, 1), (1, 2), (0, len(every) + 3)):
            if offset >= len(every):
                continue
            with django_assert_num_queries(1):
                total, page = check.count_and_page(limit, offset)
            assert (total, page) == (len(every), every[offset : offset + limit]), check.id
        assert check.count_and_page(0)[0] == len(every), check.id
        assert check.count_and_page(3, len(every) + 5) == (len(every), []), check.id
