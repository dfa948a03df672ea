"""Retell agents (semantics.md §3a): registered on save, the agent checks, the register fix.

Retell is the real local HTTP server of tests/fake_providers.py, never a mock.
"""

import pytest
from django.utils import timezone

from audit_app.fixes.base import get_fix
from audit_app.fixes.service import apply_fix
from audit_app.registry import get_check
from changelog.models import Change, Operation
from integrations_app import credentials
from integrations_app.models import Branch, Company, Integration, PhoneNumber, RetellAgent
from tests import fake_providers as fp

pytestmark = pytest.mark.django_db
RETELL_KEY = "key_test_agents_5a1e2b3c4d"


@pytest.fixture(autouse=True)
def _english(english):
    yield


def company(name, **fields):
    return Company.objects.create(name=name, slug=name.lower().replace(" ", "-"), **fields)


def save(of, agent_id=fp.AGENT_ID, api_key=RETELL_KEY, **settings):
    return credentials.save_core_integration(
        company_id=of.pk,
        provider="retell",
        api_key=api_key,
        settings=credentials.IntegrationSettings(agent_id=agent_id, **settings),
    )


# -- registration on save ----------------------------------------------------------------------


def test_saving_registers_the_agent_named_by_retell_in_the_same_operation(fake):
    praxis = company("Praxis Agent")
    save(praxis)
    agent = RetellAgent.objects.get()
    assert (agent.agent_id, agent.name, agent.company_id) == (
        fp.AGENT_ID,
        "Praxis Empfang",
        praxis.pk,
    )
    assert agent.is_active and agent.sync_status == "synced" and agent.last_synced_at
    asked = fake.retell.requests_to(f"/get-agent/{fp.AGENT_ID}")
    assert [r.headers["authorization"] for r in asked] == [f"Bearer {RETELL_KEY}"]
    operation = Operation.objects.get()
    tables = set(operation.changes.values_list("table", flat=True))
    assert tables == {"retell_agents", "integrations", "companies"}
    change = operation.changes.get(table="retell_agents")
    assert change.action == Change.Action.CREATE and change.after["agent_id"] == fp.AGENT_ID


@pytest.mark.parametrize("outage", ["unknown_agent", "server_error", "slow", "unreachable"])
def test_provider_down_names_the_agent_by_its_id(settings, gateway_key, outage):
    praxis = company("Praxis Offline")
    with fp.serving(settings, timeout=0.3) as servers:
        if outage == "server_error":
            servers.retell.answer(f"/get-agent/{fp.AGENT_ID}", status=500, json={})
        elif outage == "slow":
            servers.retell.answer(f"/get-agent/{fp.AGENT_ID}", json=fp.AGENT, delay=2)
        elif outage == "unreachable":
            settings.RETELL_API_BASE_URL = "http://127.0.0.1:9"
        save(praxis)
    agent = RetellAgent.objects.get()
    assert (agent.name, agent.company_id, agent.sync_status) == (fp.AGENT_ID, praxis.pk, "pending")


def test_saving_again_updates_the_row_without_a_duplicate(fake):
    praxis = company("Praxis Wieder")
    RetellAgent.objects.create(agent_id=fp.AGENT_ID, name="alt", company=praxis, is_active=False)
    integration = save(praxis)
    agent = RetellAgent.objects.get()
    assert (agent.name, agent.is_active) == ("Praxis Empfang", True)
    credentials.save_core_integration(
        company_id=praxis.pk,
        provider="retell",
        api_key=credentials.KEEP,  # the stored key asks Retell
        settings=credentials.IntegrationSettings(agent_id=fp.AGENT_ID),
        integration_id=integration.pk,
    )
    assert RetellAgent.objects.count() == 1
    assert len(fake.retell.requests_to(f"/get-agent/{fp.AGENT_ID}")) == 2


def test_an_agent_of_another_company_is_refused_and_nothing_written(fake):
    owner, praxis = company("Besitzer"), company("Praxis Fremd")
    RetellAgent.objects.create(agent_id=fp.AGENT_ID, name="Empfang", company=owner)
    with pytest.raises(credentials.CredentialError) as refused:
        save(praxis)
    assert "registered to another company (Besitzer)" in refused.value.message
    assert refused.value.field == "agent_id"
    assert not Integration.objects.exists() and not Operation.objects.exists()
    assert Company.objects.get(pk=praxis.pk).retell_agent_id is None
    assert RetellAgent.objects.get().company_id == owner.pk


def test_an_agent_id_with_spaces_is_refused_before_anything(fake):
    praxis = company("Praxis Leer")
    with pytest.raises(credentials.CredentialError) as refused:
        save(praxis, agent_id="agent_test 0001")
    assert "contains spaces" in refused.value.message and refused.value.field == "agent_id"
    assert not RetellAgent.objects.exists() and not Integration.objects.exists()
    assert fake.retell.counts() == {}


@pytest.mark.parametrize("later_failure", ["no_key", "gone_integration"])
def test_a_later_failing_step_leaves_no_agent_row(fake, later_failure):
    praxis = company("Praxis Abbruch")
    with pytest.raises(credentials.CredentialError):
        if later_failure == "no_key":
            save(praxis, api_key=credentials.KEEP)  # "Enter the API key", after the agent
        else:
            credentials.save_core_integration(
                company_id=praxis.pk,
                provider="retell",
                api_key=RETELL_KEY,
                settings=credentials.IntegrationSettings(agent_id=fp.AGENT_ID),
                integration_id=999_999,
            )
    assert not RetellAgent.objects.exists() and not Change.objects.exists()


# -- the checks --------------------------------------------------------------------------------


@pytest.fixture
def agent_cases(gateway_key):
    good = company("Gut", retell_agent_id="agent_good")
    RetellAgent.objects.create(agent_id="agent_good", name="Gut", company=good)
    good_branch = Branch.objects.create(
        company=good, name="Gut Mitte", slug="gut-mitte", retell_agent_id="agent_good"
    )
    PhoneNumber.objects.create(
        company=good,
        branch=good_branch,
        number="+493023125501",
        number_normalized="+493023125501",
        retell_agent_id="agent_good",
    )
    unregistered = company("Ohne Registrierung", retell_agent_id="agent_missing")
    owner = company("Eigentümer")
    RetellAgent.objects.create(agent_id="agent_owner", name="Eigen", company=owner)
    foreign = company("Fremd")
    fp.make_integration(foreign, "retell", config={"agent_id": "agent_owner"})
    gone = company("Gelöscht", deleted_at=timezone.now())
    RetellAgent.objects.create(agent_id="agent_gone", name="Weg", company=gone)
    local = company("Lokal")
    local_branch = Branch.objects.create(
        company=local, name="Lokal Ost", slug="lokal-ost", retell_agent_id="agent_owner"
    )
    local_number = PhoneNumber.objects.create(
        company=local,
        branch=local_branch,
        number="+493023125502",
        number_normalized="+493023125502",
        retell_agent_id="agent_owner",
    )
    written = PhoneNumber.objects.create(
        company=good, branch=good_branch, number="030 23125503", number_normalized="+493023125503"
    )
    return {
        "AUD-AGT-001": {("companies", unregistered.pk)},
        "AUD-AGT-002": {("companies", foreign.pk)},
        "AUD-AGT-003": {("retell_agents", RetellAgent.objects.get(agent_id="agent_gone").pk)},
        "AUD-AGT-004": {("phone_numbers", local_number.pk), ("branches", local_branch.pk)},
        "AUD-AGT-005": {("phone_numbers", written.pk)},
    }


# AUD-AGT-005 reads the numbers the way every number check shares them within one audit run:
# three narrow reads (numbers, their branches, their companies) joined in Python, cheaper at
# the planned size than one four-table join (bench/README.md, 'Audit at scale, second round').
# AUD-AGT-001/002: one query (the expected agents with their registrations, a UNION);
# AUD-AGT-005: the one read of the numbers.
QUERIES = {"AUD-AGT-001": 1, "AUD-AGT-002": 1, "AUD-AGT-003": 1, "AUD-AGT-004": 2, "AUD-AGT-005": 1}


@pytest.mark.parametrize("check_id", sorted(QUERIES))
def test_each_check_finds_its_case_and_nothing_else(
    agent_cases, check_id, django_assert_num_queries
):
    check = get_check(check_id)
    assert check.title and check.explanation and check.hint
    with django_assert_num_queries(QUERIES[check_id]):
        rows = check.find()
    assert {(row.table, str(row.pk)) for row in rows} == {
        (table, str(pk)) for table, pk in agent_cases[check_id]
    }
    assert all(row.detail for row in rows)


def test_check_queries_do_not_grow_with_rows(agent_cases, django_assert_num_queries):
    for n in range(5):
        company(f"Mehr {n}", retell_agent_id=f"agent_more_{n}")
    for check_id, count in QUERIES.items():
        with django_assert_num_queries(count):
            get_check(check_id).find()


# -- the fix -----------------------------------------------------------------------------------


def test_register_fix_previews_applies_and_records(agent_cases):
    twin_a = company("Zwilling A", retell_agent_id="agent_shared")
    twin_b = company("Zwilling B", retell_agent_id="agent_shared")
    unregistered = Company.objects.get(name="Ohne Registrierung")
    fix = get_fix("register-agents")
    assert get_check("AUD-AGT-001").fix_id == fix.id
    plan = fix.plan()
    assert [
        (w.table, w.action, w.after["agent_id"], w.after["company_id"]) for w in plan.writes
    ] == [("retell_agents", "create", "agent_missing", unregistered.pk)]
    assert plan.writes[0].after["name"] == "agent_missing"
    assert {row.pk for row in plan.needs_person} == {twin_a.pk, twin_b.pk}

    record = apply_fix(fix_id=fix.id, digest=plan.digest, reason="agents")
    agent = RetellAgent.objects.get(agent_id="agent_missing")
    assert (agent.company_id, agent.name, agent.sync_status) == (
        unregistered.pk,
        "agent_missing",
        "pending",
    )
    change = Change.objects.get(table="retell_agents", object_pk=str(agent.pk))
    assert change.action == Change.Action.CREATE and change.operation_id == record.operation_id
    found = {row.pk for row in get_check("AUD-AGT-001").find()}
    assert found == {twin_a.pk, twin_b.pk}
    assert fix.plan().empty


def test_the_demo_data_shows_an_unregistered_agent():
    from integrations_app.demo_data import build_demo_data, write_demo_data

    write_demo_data(build_demo_data())
    rows = get_check("AUD-AGT-001").find()
    assert [(row.label, row.detail) for row in rows] == [
        (
            "Praxis Dr. Lindenberg",
            "agent agent_4b7e2d9c1a6f8e3052d7c9a1 is not registered: the gateway does not know it",
        )
    ]
    assert get_fix("register-agents").plan().writes[0].after["company_id"] == 1


def test_an_empty_or_odd_agent_id_in_a_retell_integration_is_no_agent():
    """The integration form saves an empty agent id as JSON null: no agent is expected (on
    MariaDB JSON_UNQUOTE would read it as the text "null"); an id with spaces around is
    expected trimmed."""
    from audit_app.checks.agents import expected_agents, wanted_agents
    from tests import audit_rows as r

    empty = r.company("Ohne Agent")
    r.integration(empty, "retell", config={"agent_id": None}, is_active=True, status="active")
    r.integration(empty, "retell", config={"other": "x"}, is_active=True, status="active")
    spaced = r.company("Mit Leerzeichen")
    r.integration(spaced, "retell", config={"agent_id": "  agent_x  "}, is_active=True,
                  status="active")  # fmt: skip
    assert [(row[1], row[2]) for row in expected_agents()] == [("Mit Leerzeichen", "agent_x")]
    assert empty.pk not in wanted_agents()
    rows = get_check("AUD-AGT-001").find()
    assert [(row.pk, "agent_x" in row.detail) for row in rows] == [(spaced.pk, True)]
