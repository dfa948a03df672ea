"""move-plaintext-secrets: keys leave the plain-text columns, encrypted as the gateway reads."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit_app.fixes.service import NothingToDo, StalePlan, apply_fix, preview
from audit_app.models import FixRecord
from changelog.models import Change, Operation
from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import Branch, Company, Integration

pytestmark = pytest.mark.django_db
FIX = "move-plaintext-secrets"
KEY_A = "cal_test_plain_canary_aaaaaaaa0001"
HOOK_A = "whsec_test_plain_canary_hook0001"
KEY_B = "cal_test_plain_canary_bbbbbbbb0002"
KEY_C = "cal_test_plain_canary_cccccccc0003"
KEY_C_STORED = "cal_test_stored_canary_cccccc0004"
KEY_D1 = "cal_test_plain_canary_dddddddd0005"
KEY_D2 = "cal_test_plain_canary_dddddddd0006"
KEY_E = "cal_test_plain_canary_eeeeeeee0007"
ALL_SECRETS = (KEY_A, HOOK_A, KEY_B, KEY_C, KEY_C_STORED, KEY_D1, KEY_D2, KEY_E)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def set_plain(model, pk, **columns):
    """Plain-text secrets as the gateway left them (the console's own paths never write them)."""
    model.all_objects.filter(pk=pk).update(**columns)


def assert_no_secret(text):
    for secret in ALL_SECRETS:
        assert secret not in text


@pytest.fixture
def world(gateway_key):
    encrypter = Encrypter.from_settings()
    a = Company.objects.create(name="A Praxis Neu")
    set_plain(Company, a.pk, calcom_v2_api_key=KEY_A, webhook_signing_secret=HOOK_A)
    a_branch = Branch.objects.create(company=a, name="A Mitte")
    set_plain(Branch, a_branch.pk, calcom_api_key=KEY_A)

    b = Company.objects.create(name="B Praxis Filiale")
    b_branch = Branch.objects.create(company=b, name="B Nord")
    set_plain(Branch, b_branch.pk, calcom_api_key=KEY_B)
    b_integration = Integration.objects.create(
        company=b, provider="calcom", type="calendar", name="Cal.com", config={"event_type_id": 1}
    )

    c = Company.objects.create(name="C Praxis Anders")
    set_plain(
        Company, c.pk, calcom_v2_api_key=KEY_C, calcom_api_key=encrypter.encrypt(KEY_C_STORED)
    )

    d = Company.objects.create(name="D Praxis Zwei Schlüssel")
    set_plain(Company, d.pk, calcom_v2_api_key=KEY_D1)
    d_branch = Branch.objects.create(company=d, name="D Süd")
    set_plain(Branch, d_branch.pk, calcom_api_key=KEY_D2)

    e = Company.objects.create(name="E Praxis Gleich")
    set_plain(Company, e.pk, calcom_v2_api_key=KEY_E, calcom_api_key=encrypter.encrypt(KEY_E))
    e_integration = Integration.objects.create(
        company=e, provider="calcom", type="calendar", name="Cal.com",
        api_key=encrypter.encrypt_string(KEY_E),
    )  # fmt: skip
    return {
        "a": a, "a_branch": a_branch, "b": b, "b_branch": b_branch, "b_integration": b_integration,
        "c": c, "d": d, "d_branch": d_branch, "e": e, "e_integration": e_integration,
        "encrypter": encrypter,
    }  # fmt: skip


def test_preview_lists_exactly_the_writes_by_fingerprint(world):
    plan = preview(FIX)
    writes = {(w.table, w.action, w.pk or w.key): w for w in plan.writes}
    a, b, e = world["a"], world["b"], world["e"]
    assert set(writes) == {
        ("integrations", "create", f"calcom-for-company-{a.pk}"),
        ("companies", "update", a.pk),
        ("branches", "update", world["a_branch"].pk),
        ("integrations", "update", world["b_integration"].pk),
        ("companies", "update", b.pk),
        ("branches", "update", world["b_branch"].pk),
        ("companies", "update", e.pk),
    }
    created = writes[("integrations", "create", f"calcom-for-company-{a.pk}")]
    assert created.after == {
        "company_id": a.pk, "provider": "calcom", "type": "calendar", "name": "Cal.com",
        "status": "pending", "is_active": False, "config": {},
        "api_key": fingerprint(KEY_A), "webhook_secret": fingerprint(HOOK_A),
    }  # fmt: skip
    company_a = writes[("companies", "update", a.pk)]
    assert company_a.before == {
        "calcom_api_key": None,
        "calcom_v2_api_key": fingerprint(KEY_A),
        "webhook_signing_secret": fingerprint(HOOK_A),
    }
    assert company_a.after == {
        "calcom_api_key": fingerprint(KEY_A),
        "calcom_v2_api_key": None,
        "webhook_signing_secret": None,
    }
    assert "booking sync" in company_a.description and "platform key" in company_a.description
    assert writes[("companies", "update", b.pk)].after == {"calcom_api_key": fingerprint(KEY_B)}
    # E's key is stored encrypted already: only the plain copy goes.
    assert writes[("companies", "update", e.pk)].after == {"calcom_v2_api_key": None}
    person = {r.pk: r.detail for r in plan.needs_person}
    assert set(person) == {world["c"].pk, world["d"].pk}
    assert "already holds a different key" in person[world["c"].pk]
    assert "different Cal.com keys" in person[world["d"].pk]
    shown = json.dumps(
        [[w.description, w.before, w.after] for w in plan.writes]
        + [[r.label, r.detail] for r in plan.needs_person]
        + [plan.context],
        default=str,
    )
    assert_no_secret(shown)


def test_apply_moves_the_keys_in_the_gateways_flavours(world):
    encrypter = world["encrypter"]
    plan = preview(FIX)
    record = apply_fix(fix_id=FIX, digest=plan.digest)
    assert (record.created_count, record.changed_count) == (1, 6)
    a, b, c, d, e = (world[k] for k in "abcde")

    row = raw(
        "SELECT tenant_id, provider, status, is_active, api_key, webhook_secret, credentials "
        "FROM integrations WHERE company_id = %s",
        [a.pk],
    )[0]
    assert len(row["tenant_id"]) == 36 and row["status"] == "pending" and not row["is_active"]
    assert row["credentials"] is None
    assert encrypter.inspect(row["api_key"]).value == KEY_A
    assert encrypter.inspect(row["api_key"]).flavour == RAW
    assert encrypter.decrypt_string(row["webhook_secret"]) == HOOK_A
    companies = {
        r["id"]: r
        for r in raw(
            "SELECT id, calcom_api_key, calcom_v2_api_key, webhook_signing_secret FROM companies"
        )
    }
    stored = encrypter.inspect(companies[a.pk]["calcom_api_key"])
    assert (stored.value, stored.flavour) == (KEY_A, SERIALIZED)
    assert companies[a.pk]["calcom_api_key"].startswith("eyJ")
    assert companies[a.pk]["calcom_v2_api_key"] is None
    assert companies[a.pk]["webhook_signing_secret"] is None
    assert encrypter.decrypt(companies[b.pk]["calcom_api_key"]) == KEY_B
    b_row = raw(
        "SELECT api_key, config FROM integrations WHERE id = %s", [world["b_integration"].pk]
    )
    assert encrypter.decrypt_string(b_row[0]["api_key"]) == KEY_B
    branches = {
        r["id"]: r["calcom_api_key"] for r in raw("SELECT id, calcom_api_key FROM branches")
    }
    assert branches[world["a_branch"].pk] is None and branches[world["b_branch"].pk] is None
    assert branches[world["d_branch"].pk] == KEY_D2  # a person decides
    assert companies[c.pk]["calcom_v2_api_key"] == KEY_C and companies[d.pk]["calcom_v2_api_key"]
    assert companies[e.pk]["calcom_v2_api_key"] is None
    assert encrypter.decrypt(companies[e.pk]["calcom_api_key"]) == KEY_E

    # The change store has every row, secrets as fingerprints only.
    changes = {
        (c.table, c.object_pk, c.action): c
        for c in Change.objects.filter(operation=record.operation)
    }
    assert record.operation.source == "fix" and record.operation.name == FIX
    assert len(changes) == 7
    history = json.dumps(
        list(Change.objects.values("before", "after", "object_repr")) + [record.summary],
        default=str,
    )
    assert_no_secret(history)
    company_a = changes[("companies", str(a.pk), "update")]
    assert company_a.before == {
        "calcom_api_key": None,
        "calcom_v2_api_key": fingerprint(KEY_A),
        "webhook_signing_secret": fingerprint(HOOK_A),
    }
    assert company_a.after == {
        "calcom_api_key": fingerprint(KEY_A),
        "calcom_v2_api_key": None,
        "webhook_signing_secret": None,
    }
    b_integration = changes[("integrations", str(world["b_integration"].pk), "update")]
    assert b_integration.before == {"api_key": None}
    assert b_integration.after == {"api_key": fingerprint(KEY_B)}
    (created,) = [c for c in changes.values() if c.action == "create"]
    assert created.after["api_key"] == fingerprint(KEY_A)
    assert created.after["webhook_secret"] == fingerprint(HOOK_A)
    branch_b = changes[("branches", str(world["b_branch"].pk), "update")]
    assert (branch_b.before, branch_b.after) == (
        {"calcom_api_key": fingerprint(KEY_B)},
        {"calcom_api_key": None},
    )

    left = preview(FIX)
    assert left.empty and {r.pk for r in left.needs_person} == {c.pk, d.pk}
    with pytest.raises(NothingToDo):
        apply_fix(fix_id=FIX, digest=left.digest)
    assert FixRecord.objects.count() == 1


def test_a_changed_key_makes_the_preview_stale(world):
    plan = preview(FIX)
    set_plain(Branch, world["b_branch"].pk, calcom_api_key="cal_test_plain_canary_new_0008")
    with pytest.raises(StalePlan) as stale:
        apply_fix(fix_id=FIX, digest=plan.digest)
    assert stale.value.plan.digest != plan.digest
    assert FixRecord.objects.count() == 0
    assert not Operation.objects.exists() and not Change.objects.exists()
    assert raw("SELECT calcom_v2_api_key FROM companies WHERE id = %s", [world["a"].pk]) == [
        {"calcom_v2_api_key": KEY_A}
    ]
    assert Integration.objects.count() == 2


def test_without_the_gateway_key_nothing_is_planned(world, settings):
    settings.GATEWAY_APP_KEY = ""
    plan = preview(FIX)
    assert plan.empty
    assert {r.pk for r in plan.needs_person} >= {world["a"].pk, world["b"].pk}
    assert all("GATEWAY_APP_KEY" in r.detail for r in plan.needs_person)
    with pytest.raises(NothingToDo):
        apply_fix(fix_id=FIX, digest=plan.digest)
    assert raw("SELECT calcom_v2_api_key FROM companies WHERE id = %s", [world["a"].pk]) == [
        {"calcom_v2_api_key": KEY_A}
    ]


def test_nothing_to_move_on_the_demo_data(gateway_key):
    call_command("seed_demo", stdout=StringIO())
    plan = preview(FIX)
    assert plan.empty and plan.needs_person == []


def test_the_move_takes_a_fixed_number_of_queries(gateway_key):
    """Bulk stays bulk: as many queries for six companies as for two (and one before)."""

    def applied(companies):
        for i in range(companies):
            owner = Company.objects.create(name=f"Praxis Menge {companies}-{i}")
            set_plain(Company, owner.pk, calcom_v2_api_key=f"cal_test_many_{companies}_{i}")
            own = Branch.objects.create(company=owner, name=f"Filiale {companies}-{i}")
            set_plain(Branch, own.pk, calcom_api_key=f"cal_test_many_{companies}_{i}")
            if i % 2:
                Integration.objects.create(
                    company=owner, provider="calcom", type="calendar", name="Cal.com"
                )
        plan = preview(FIX)
        with CaptureQueriesContext(connection) as captured:
            record = apply_fix(fix_id=FIX, digest=plan.digest)
        assert record.created_count + record.changed_count == len(plan.writes) > 0
        return len(captured)

    applied(2)  # the first run of all creates the one FixLock row
    assert applied(2) == applied(6)
