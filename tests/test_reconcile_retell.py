"""Retell numbers ↔ database numbers: the reconciliation, its audit checks, its command and the
fix that binds a number in Retell, against a real local HTTP server (tests/fake_providers.py)."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command

from audit_app.fixes.service import preview
from audit_app.models import FixRecord, ProviderReconciliation
from audit_app.registry import CheckUnavailable, get_check
from changelog.models import Change, Operation
from integrations_app import reconcile_retell as rr
from integrations_app.models import PhoneNumber, RetellAgent
from integrations_app.providers.errors import ProviderError
from integrations_app.providers.retell import RetellClient
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

N0, N1, N2 = fp.NUMBERS
EXTRA = "+49301000009"  # Retell has it, the database does not
LIST = "/v2/list-phone-numbers"
FIX = "retell-bind-number"
PREVIEW = f"/admin/audit_app/fixrecord/fix/{FIX}/"
APPLY = f"/admin/audit_app/fixrecord/fix/{FIX}/apply/"


@pytest.fixture
def retell(settings, gateway_key):
    with fp.serving(settings) as providers:
        yield providers.retell


@pytest.fixture
def company():
    company = fp.make_company()
    fp.make_numbers(company)
    fp.make_integration(company, "retell")
    RetellAgent.objects.create(agent_id=fp.AGENT_ID, name="Praxis Empfang", company=company)
    return company


def account(retell, *, per_page=2):
    """N0 bound to the agent, N1 to another agent (deprecated field), EXTRA unknown to the
    database, N2 missing in Retell; in pages of two."""
    fp.retell_numbers(
        retell,
        [
            fp.retell_number(N0, [fp.AGENT_ID]),
            fp.retell_number(N1, [fp.OTHER_AGENT_ID], deprecated=True),
            fp.retell_number(EXTRA, [fp.OTHER_AGENT_ID, "agent_test_0003"]),
        ],
        per_page=per_page,
    )


def kinds(result) -> list[tuple[str, str]]:
    return sorted((f["kind"], f["number"]) for f in result.findings)


# -- the provider client ---------------------------------------------------------------------


def test_lists_all_pages_and_reads_both_agent_fields(retell, settings):
    account(retell)
    with RetellClient(api_key=fp.RETELL_CANARY) as client:
        numbers = client.list_phone_numbers()
    assert [n.number for n in numbers] == [N0, N1, EXTRA]
    assert numbers[0].inbound_agents == (
        {"agent_id": fp.AGENT_ID, "agent_version": 1, "weight": 1.0},
    )
    assert numbers[1].agent_ids == {fp.OTHER_AGENT_ID}  # from the deprecated inbound_agent_id
    assert numbers[2].agent_ids == {fp.OTHER_AGENT_ID, "agent_test_0003"}
    pages = retell.requests_to(LIST)
    assert [r.query for r in pages] == ["limit=1000", "limit=1000&pagination_key=%2B49301000002"]
    assert pages[0].headers["authorization"] == f"Bearer {fp.RETELL_CANARY}"


def test_a_page_that_never_ends_is_a_clear_error(retell):
    retell.answer(
        LIST,
        json={
            "phone_numbers": [fp.retell_number(N0, [fp.AGENT_ID])],
            "pagination_key": N0,
            "has_more": True,
        },
    )
    with RetellClient(api_key=fp.RETELL_CANARY) as client, pytest.raises(ProviderError) as error:
        client.list_phone_numbers()
    assert "did not end" in error.value.message
    assert len(retell.requests_to(LIST)) == 2  # the same key again: stopped at once


def test_pages_are_bounded(retell, monkeypatch):
    # Each page names a new key (the fake answers every query alike): the bound stops it.
    counter = iter(range(10_000))

    retell.answer(LIST, json={"phone_numbers": [], "pagination_key": "k", "has_more": True})
    from integrations_app.providers import retell as module

    monkeypatch.setattr(module, "_page_of", lambda answer: ([], f"k{next(counter)}", True))
    with RetellClient(api_key=fp.RETELL_CANARY) as client, pytest.raises(ProviderError):
        client.list_phone_numbers(max_pages=5)
    assert len(retell.requests_to(LIST)) == 5


def test_bind_refuses_bad_input_before_sending(retell):
    with RetellClient(api_key=fp.RETELL_CANARY) as client:
        with pytest.raises(ProviderError, match="spaces"):
            client.bind(N0, "agent with spaces")
        with pytest.raises(ProviderError, match="E.164"):
            client.bind("0301 abc", fp.AGENT_ID)
    assert retell.received == []


# -- the reconciliation ----------------------------------------------------------------------


def test_reconcile_finds_each_difference_and_stores_it(
    retell, company, django_assert_max_num_queries
):
    account(retell)
    PhoneNumber.objects.create(
        company=company, number="12ab", number_normalized="12ab", phone_number="12ab"
    )
    with django_assert_max_num_queries(12):
        (result,) = rr.reconcile()
    assert result.available and result.provider_count == 3
    assert kinds(result) == [
        (rr.MISSING_IN_DB, EXTRA),
        (rr.MISSING_IN_RETELL, N2),
        (rr.UNPARSABLE, "12ab"),
        (rr.WRONG_AGENT, N1),
    ]
    wrong = next(f for f in result.findings if f["kind"] == rr.WRONG_AGENT)
    assert wrong["expected"] == [fp.AGENT_ID]
    assert wrong["inbound_agents"][0]["agent_id"] == fp.OTHER_AGENT_ID
    stored = ProviderReconciliation.objects.get(kind=rr.KIND, company_id=company.pk)
    assert stored.available and len(stored.findings) == 4


def test_companies_sharing_a_key_read_it_once(retell, company):
    account(retell, per_page=None)
    other = fp.make_company("Praxis Zwei")
    fp.make_integration(other, "retell")
    results = rr.reconcile()
    assert len(results) == 2
    assert len(retell.requests_to(LIST)) == 1  # the per-run cache
    # EXTRA is answered by no agent of either company: listed under both
    assert all((rr.MISSING_IN_DB, EXTRA) in kinds(r) for r in results)


def test_provider_down_is_not_available_never_in_sync(retell, company):
    retell.answer(LIST, status=503, json={"error": "maintenance"})
    (result,) = rr.reconcile()
    assert not result.available and "503" in result.reason and result.findings == []
    for check_id in ("AUD-RTN-001", "AUD-RTN-002", "AUD-RTN-003"):
        with pytest.raises(CheckUnavailable, match="503"):
            get_check(check_id).find()
    # with another company readable, the unreadable one is a row "not available"
    other = fp.make_company("Praxis Zwei")
    fp.make_integration(other, "retell", secret="key_test_other_account")
    retell.answer(LIST, status=503, json={"error": "maintenance"})
    ProviderReconciliation.objects.create(kind=rr.KIND, company_id=other.pk, company_name="Zwei")
    rows = get_check("AUD-RTN-003").find()
    assert [r.pk for r in rows] == [company.pk] and "not available" in rows[0].detail


def test_unreachable_provider(settings, gateway_key, company):
    settings.RETELL_API_BASE_URL = "http://127.0.0.1:9"
    settings.PROVIDER_TIMEOUT_SECONDS = 1
    (result,) = rr.reconcile()
    assert not result.available and "could not be reached" in result.reason


def test_checks_without_a_reconciliation_cannot_judge(gateway_key, company):
    with pytest.raises(CheckUnavailable, match="reconcile_retell"):
        get_check("AUD-RTN-001").find()


def test_nothing_configured_is_nothing_to_compare():
    assert get_check("AUD-RTN-001").find() == []


def test_checks_read_the_stored_result_without_calling_retell(
    retell, company, django_assert_num_queries
):
    account(retell)
    rr.reconcile()
    before = len(retell.received)
    with django_assert_num_queries(1):
        rows = get_check("AUD-RTN-001").find()
    assert [r.pk for r in rows] == [EXTRA]
    assert [r.label for r in get_check("AUD-RTN-002").find()] == [f"{N2} (Praxis Test)"]
    (bound,) = get_check("AUD-RTN-003").find()
    assert fp.OTHER_AGENT_ID in bound.detail and fp.AGENT_ID in bound.detail
    assert len(retell.received) == before


def test_command(retell, company):
    account(retell)
    out = StringIO()
    call_command("reconcile_retell", stdout=out)
    assert "Praxis Test: 3 differences" in out.getvalue()
    assert f"missing_in_db: {EXTRA}" in out.getvalue()
    retell.answer(LIST, status=500, json={})
    retell.answers.pop(f"{LIST}?limit=1000&pagination_key=%2B49301000002")
    with pytest.raises(SystemExit):
        call_command("reconcile_retell", "--company", str(company.pk), stdout=StringIO())
    assert not ProviderReconciliation.objects.get(kind=rr.KIND).available


# -- the fix ---------------------------------------------------------------------------------


def staff_client(client, *codenames):
    user = get_user_model().objects.create_user("manager", password="pw-123-manager", is_staff=True)
    for codename in ("view_dashboard", *codenames):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return client


@pytest.fixture
def bound_elsewhere(retell, company):
    account(retell)
    rr.reconcile()
    retell.answer(f"/update-phone-number/{N1}", json=fp.retell_number(N1, [fp.AGENT_ID]))
    return retell


def patches(retell):
    return [r for r in retell.received if r.method == "PATCH"]


def test_preview_shows_the_exact_request(bound_elsewhere, client):
    plan = preview(FIX)
    (write,) = plan.writes
    assert write.table == "retell.phone_numbers" and write.pk == N1
    assert write.before["inbound_agents"][0]["agent_id"] == fp.OTHER_AGENT_ID
    assert write.after == {"inbound_agents": [{"agent_id": fp.AGENT_ID, "weight": 1}]}
    body = json.dumps({"inbound_agents": [{"agent_id": fp.AGENT_ID, "weight": 1}]})
    request = f"PATCH /update-phone-number/{N1} {body}"
    assert request in write.description
    page = staff_client(client, "apply_fix", "bind_retell_number").get(PREVIEW).text
    assert f"/update-phone-number/{N1}" in page
    assert patches(bound_elsewhere) == []


def test_apply_binds_in_retell_and_records_it(bound_elsewhere, client):
    digest = preview(FIX).digest
    response = staff_client(client, "apply_fix", "bind_retell_number").post(
        APPLY, {"digest": digest, "reason": "calls reach the wrong agent"}
    )
    assert response.status_code == 302
    (sent,) = patches(bound_elsewhere)
    assert sent.path == f"/update-phone-number/{N1}"
    assert json.loads(sent.body) == {"inbound_agents": [{"agent_id": fp.AGENT_ID, "weight": 1}]}
    assert sent.headers["authorization"] == f"Bearer {fp.RETELL_CANARY}"
    (change,) = Change.objects.filter(table="retell.phone_numbers")
    assert change.object_pk == N1 and change.action == "update"
    assert change.before["inbound_agents"][0]["agent_id"] == fp.OTHER_AGENT_ID
    assert change.after["inbound_agents"][0]["agent_id"] == fp.AGENT_ID
    assert change.operation.source == Operation.objects.get().source == "fix"
    assert FixRecord.objects.get().changed_count == 1
    assert get_check("AUD-RTN-003").find() == []  # the stored result no longer lists it


def test_stale_preview_shows_the_new_one(bound_elsewhere, client):
    digest = preview(FIX).digest
    # Someone binds N1 to a third agent in Retell meanwhile.
    changed = fp.retell_number(N1, ["agent_test_0003"])
    bound_elsewhere.answer(
        f"{LIST}?limit=1000&pagination_key=%2B49301000002",
        json={"phone_numbers": [changed], "pagination_key": None, "has_more": False},
    )
    pages = [fp.retell_number(N0, [fp.AGENT_ID]), changed]
    bound_elsewhere.answer(
        LIST, json={"phone_numbers": pages, "pagination_key": None, "has_more": False}
    )
    response = staff_client(client, "apply_fix", "bind_retell_number").post(
        APPLY, {"digest": digest, "reason": "x"}
    )
    assert response.status_code == 409
    assert "agent_test_0003" in response.text
    assert patches(bound_elsewhere) == []
    assert not Change.objects.exists()


def test_no_permission_is_403_and_nothing_is_sent(bound_elsewhere, client):
    digest = preview(FIX).digest
    response = staff_client(client, "apply_fix").post(APPLY, {"digest": digest, "reason": "x"})
    assert response.status_code == 403
    assert patches(bound_elsewhere) == []
    assert not Change.objects.exists() and not FixRecord.objects.exists()


def test_the_service_refuses_a_logged_in_user_without_the_permission(bound_elsewhere):
    """The web's second guard: write() itself refuses a user who lacks bind_retell_number."""
    from django.core.exceptions import PermissionDenied

    from audit_app.fixes.service import apply_fix

    user = get_user_model().objects.create_user("support", password="pw-123-support")
    user.user_permissions.add(Permission.objects.get(codename="apply_fix"))
    with pytest.raises(PermissionDenied):
        apply_fix(fix_id=FIX, digest=preview(FIX).digest, user=user, reason="x")
    assert patches(bound_elsewhere) == []
    assert not Change.objects.exists() and not FixRecord.objects.exists()


def test_a_failure_half_way_keeps_what_retell_did_and_says_partly_applied(retell, company, client):
    """Retell accepts the first PATCH and answers 500 to the second: the first binding is in
    the history, the record and the message say "partly applied" with the failing number."""
    fp.retell_numbers(
        retell,
        [
            fp.retell_number(N0, [fp.AGENT_ID]),
            fp.retell_number(N1, [fp.OTHER_AGENT_ID], deprecated=True),
            fp.retell_number(N2, [fp.OTHER_AGENT_ID]),
        ],
    )
    rr.reconcile()
    plan = preview(FIX)
    first, second = (write.pk for write in plan.writes)
    assert {first, second} == {N1, N2}
    retell.answer(f"/update-phone-number/{first}", json=fp.retell_number(first, [fp.AGENT_ID]))
    retell.answer(f"/update-phone-number/{second}", status=500, json={"message": "boom"})
    response = staff_client(client, "apply_fix", "bind_retell_number").post(
        APPLY,
        {"digest": plan.digest, "reason": "calls reach the wrong agent"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert [sent.path for sent in patches(retell)] == [
        f"/update-phone-number/{first}",
        f"/update-phone-number/{second}",
    ]
    (change,) = Change.objects.filter(table="retell.phone_numbers")
    assert change.object_pk == first
    assert change.before["inbound_agents"][0]["agent_id"] == fp.OTHER_AGENT_ID
    assert change.after["inbound_agents"][0]["agent_id"] == fp.AGENT_ID
    record = FixRecord.objects.get()
    assert record.changed_count == 1
    assert record.summary.startswith("Partly applied: 1 of 2 numbers bound in Retell; ")
    assert second in record.summary
    shown = [(m.level_tag, str(m.message)) for m in response.context["messages"]]
    assert len(shown) == 1
    level, text = shown[0]
    assert level == "error" and "Partly applied: 1 of 2" in text and second in text
    assert " applied:" not in text.replace("Partly applied:", "")
    # The stored reconciliation still lists the number Retell refused, not the bound one.
    (left,) = get_check("AUD-RTN-003").find()
    assert second in left.label + left.detail and first not in left.label


def test_agent_id_with_spaces_is_left_for_a_person(retell, company):
    # Gateway data can hold such a row (its own admin wrote it): never sent to Retell.
    RetellAgent.objects.all().delete()
    RetellAgent.objects.create(company=company, agent_id="agent with spaces", name="x")
    account(retell)
    rr.reconcile()
    plan = preview(FIX)
    assert plan.writes == []
    assert any("spaces" in row.detail for row in plan.needs_person)


def test_an_agent_only_named_on_the_company_is_not_bound_to(retell, company):
    """The fix binds to a registered agent only: the one the gateway's §3a lookup finds."""
    RetellAgent.objects.all().delete()
    company.retell_agent_id = "agent_unregistered_0001"
    company.save()
    account(retell)
    rr.reconcile()
    plan = preview(FIX)
    assert plan.writes == []
    assert any("no registered" in row.detail for row in plan.needs_person)


def test_manager_role_has_the_permission():
    from integrations_app import roles

    assert roles.BIND_RETELL_NUMBER in roles.MANAGER_PERMISSIONS
    assert roles.BIND_RETELL_NUMBER not in roles.SUPPORT_PERMISSIONS


def test_demo_shows_a_number_retell_has_and_the_database_lacks():
    from integrations_app.demo_data.retell_reconciliation import UNKNOWN_NUMBER

    call_command("seed_demo", stdout=StringIO())
    assert [r.pk for r in get_check("AUD-RTN-001").find()] == [UNKNOWN_NUMBER]
    assert not PhoneNumber.objects.filter(number=UNKNOWN_NUMBER).exists()


@pytest.mark.parametrize(
    "answer",
    [
        # the documented envelope (PaginatedResponseBase + items): more pages, but no key to ask
        {"items": [fp.retell_number(N0, [fp.AGENT_ID])], "has_more": True},
        # an item without its phone number: dropping it would report it missing in Retell
        {"items": [fp.retell_number(N0, [fp.AGENT_ID]), {"inbound_agents": []}]},
    ],
    ids=["more-without-key", "item-without-number"],
)
def test_an_incomplete_list_is_an_error_not_a_shorter_list(retell, answer):
    retell.answer(LIST, json=answer)
    with RetellClient(api_key=fp.RETELL_CANARY) as client, pytest.raises(ProviderError):
        client.list_phone_numbers()


def test_the_documented_items_envelope_is_read(retell):
    retell.answer(LIST, json={"items": [fp.retell_number(N0, [fp.AGENT_ID])], "has_more": False})
    with RetellClient(api_key=fp.RETELL_CANARY) as client:
        (number,) = client.list_phone_numbers()
    assert number.number == N0 and number.inbound_agents[0]["agent_id"] == fp.AGENT_ID


# -- which key: the gateway's platform key when set (semantics §2) -----------------------------

PLATFORM = "key_test_canary_platform5f2c9e7a1d3b"


def test_with_the_platform_key_every_request_carries_it_and_it_is_read_once(
    retell, company, settings, client
):
    settings.GATEWAY_RETELL_API_KEY = PLATFORM
    account(retell, per_page=None)
    other = fp.make_company("Praxis Zwei")
    fp.make_integration(other, "retell", secret="key_test_other_account")
    results = rr.reconcile()
    listed = retell.requests_to(LIST)
    assert [r.headers["authorization"] for r in listed] == [f"Bearer {PLATFORM}"]  # once
    assert all(r.key_source == rr.PLATFORM for r in results)
    assert {f["key"] for r in results for f in r.findings} == {rr.PLATFORM}
    retell.answer(f"/update-phone-number/{N1}", json=fp.retell_number(N1, [fp.AGENT_ID]))
    plan = preview(FIX)
    assert all("platform key" in w.description for w in plan.writes)
    staff = staff_client(client, "apply_fix", "bind_retell_number")
    page = staff.get(PREVIEW).text
    staff.post(APPLY, {"digest": plan.digest, "reason": "platform key"})
    sent = patches(retell)
    assert sent and {r.headers["authorization"] for r in sent} == {f"Bearer {PLATFORM}"}
    stored = list(ProviderReconciliation.objects.filter(kind=rr.KIND))
    texts = [page, *(s.reason for s in stored), *(json.dumps(s.findings) for s in stored)]
    texts += [c.before for c in Change.objects.all()] + [c.after for c in Change.objects.all()]
    fp.assert_no_secret(*texts, secrets=(PLATFORM, fp.RETELL_CANARY))


def test_without_the_platform_key_the_integration_key_is_used_and_named(retell, company, settings):
    settings.GATEWAY_RETELL_API_KEY = ""
    account(retell)
    (result,) = rr.reconcile()
    assert {r.headers["authorization"] for r in retell.requests_to(LIST)} == {
        f"Bearer {fp.RETELL_CANARY}"
    }
    assert result.key_source == rr.INTEGRATION
    assert {f["key"] for f in result.findings} == {rr.INTEGRATION}
    retell.answer(f"/update-phone-number/{N1}", json=fp.retell_number(N1, [fp.AGENT_ID]))
    (write,) = preview(FIX).writes
    assert "the company's Retell integration key; the gateway uses its platform key" in (
        write.description
    )


def test_an_unreadable_platform_account_names_the_key_never_shows_it(retell, company, settings):
    settings.GATEWAY_RETELL_API_KEY = PLATFORM
    retell.answer(LIST, status=401, json={"error": "unauthorized"})
    (result,) = rr.reconcile()
    assert not result.available and "platform key" in result.reason
    stored = ProviderReconciliation.objects.get(kind=rr.KIND)
    fp.assert_no_secret(result.reason, stored.reason, secrets=(PLATFORM, fp.RETELL_CANARY))


def test_the_agent_name_is_asked_with_the_platform_key(retell, settings):
    from integrations_app import credentials

    settings.GATEWAY_RETELL_API_KEY = PLATFORM
    retell.answer(f"/get-agent/{fp.AGENT_ID}", json=fp.AGENT)
    praxis = fp.make_company("Praxis Plattform")
    credentials.save_core_integration(
        company_id=praxis.pk,
        provider="retell",
        api_key=fp.RETELL_CANARY,
        settings=credentials.IntegrationSettings(agent_id=fp.AGENT_ID),
    )
    asked = retell.requests_to(f"/get-agent/{fp.AGENT_ID}")
    assert [r.headers["authorization"] for r in asked] == [f"Bearer {PLATFORM}"]
    assert RetellAgent.objects.get(agent_id=fp.AGENT_ID).name == fp.AGENT["agent_name"]
