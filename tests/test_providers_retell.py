"""Retell AI connection test against a real HTTP server on localhost (tests/fake_providers.py)."""

import pytest

from integrations_app.models import PhoneNumber
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

AGENT_PATH = f"/get-agent/{fp.AGENT_ID}"
NUMBERS_PATH = "/v2/list-phone-numbers"


@pytest.fixture
def fake(settings, gateway_key):
    with fp.serving(settings) as providers:
        yield providers.retell


@pytest.fixture
def company():
    company = fp.make_company()
    fp.make_numbers(company)
    return company


@pytest.fixture
def integration(company):
    return fp.make_integration(company, "retell")


def test_all_numbers_bound_to_the_agent(fake, integration, logs):
    fp.retell_ok(fake)

    result, row = fp.run_connection_test(integration, logs)

    assert result.ok and result.status == "healthy" and result.score == 100
    assert [c.name for c in result.checks] == ["agent", "phone_numbers"]
    assert "Praxis Empfang" in result.message
    assert "all 3 phone numbers of the company are bound to agent agent_test_0001" in result.message
    assert row.health_status == "healthy" and row.health_score == 100
    assert row.last_error is None and row.last_success_at is not None
    assert (row.success_count, row.error_count) == (1, 0)
    for path in (AGENT_PATH, NUMBERS_PATH):
        (request,) = fake.requests_to(path)
        assert request.headers["authorization"] == f"Bearer {fp.RETELL_CANARY}"


def test_numbers_bound_elsewhere_or_missing_degrade(fake, integration, logs):
    fake.answer(AGENT_PATH, json=fp.AGENT)
    fake.answer(
        NUMBERS_PATH,
        json={
            "phone_numbers": [
                {"phone_number": fp.NUMBERS[0], "inbound_agent_id": fp.AGENT_ID},
                {"phone_number": fp.NUMBERS[1], "inbound_agent_id": fp.OTHER_AGENT_ID},
                {"phone_number": "+49309999999", "inbound_agent_id": fp.AGENT_ID},
            ]
        },
    )

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "degraded" and not result.ok
    assert 50 <= result.score < 100
    message = result.message
    assert "2 of 3 phone numbers of the company will not reach agent agent_test_0001" in message
    assert f"not bound to this agent: {fp.NUMBERS[1]} → {fp.OTHER_AGENT_ID}" in message
    assert f"not in Retell at all: {fp.NUMBERS[2]}" in message
    assert fp.NUMBERS[0] not in message
    assert row.health_status == "degraded" and row.health_score == result.score
    assert row.last_error == message
    assert row.last_error_at is not None and row.last_success_at is None
    assert (row.success_count, row.error_count) == (0, 1)
    assert fake.counts() == {AGENT_PATH: 1, NUMBERS_PATH: 1}


def test_number_without_an_inbound_agent(fake, integration, logs):
    fake.answer(AGENT_PATH, json=fp.AGENT)
    fake.answer(
        NUMBERS_PATH,
        json=[
            {"phone_number": fp.NUMBERS[0], "inbound_agent_id": fp.AGENT_ID},
            {"phone_number": fp.NUMBERS[1], "inbound_agent_id": None},
            # Newer API versions: weighted inbound agents.
            {"phone_number": fp.NUMBERS[2], "inbound_agents": [{"agent_id": fp.AGENT_ID}]},
        ],
    )

    result, _row = fp.run_connection_test(integration, logs)

    assert result.status == "degraded"
    assert f"{fp.NUMBERS[1]} → no agent" in result.message
    assert "1 of 3 phone numbers" in result.message
    assert result.score == 50 + 49 * 2 // 3


def test_numbers_in_other_notations_are_compared_as_e164(fake, company, logs):
    PhoneNumber.objects.filter(company=company).delete()
    PhoneNumber.objects.create(
        company=company, number="+49 30 1000001", number_normalized="49301000001"
    )
    integration = fp.make_integration(company, "retell")
    fake.answer(AGENT_PATH, json=fp.AGENT)
    fake.answer(
        NUMBERS_PATH, json=[{"phone_number": "+49 30 1000001", "inbound_agent_id": fp.AGENT_ID}]
    )

    result, _row = fp.run_connection_test(integration, logs)

    assert result.ok, result.message


def test_only_the_companys_active_numbers_count(fake, company, logs):
    other = fp.make_company("Andere Firma")
    fp.make_numbers(other, ["+49301000009"])
    PhoneNumber.objects.filter(number=fp.NUMBERS[2]).update(is_active=False)
    integration = fp.make_integration(company, "retell")
    fp.retell_ok(fake, numbers=fp.NUMBERS[:2])

    result, _row = fp.run_connection_test(integration, logs)

    assert result.ok, result.message
    assert "all 2 phone numbers" in result.message


def test_company_without_numbers_needs_no_number_list(fake, logs):
    integration = fp.make_integration(fp.make_company("Ohne Nummern"), "retell")
    fp.retell_ok(fake)

    result, _row = fp.run_connection_test(integration, logs)

    assert result.ok
    assert "no active phone numbers" in result.message
    assert fake.counts() == {AGENT_PATH: 1}


def test_unknown_agent(fake, integration, logs):
    fake.answer(AGENT_PATH, status=404, json={"status": "error", "message": "Not Found"})

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy" and result.score == 0
    assert result.message.startswith(
        "Retell AI answered 404: agent agent_test_0001 is unknown to this key"
    )
    assert row.health_status == "unhealthy" and row.last_error == result.message
    assert fake.counts() == {AGENT_PATH: 1}  # numbers are not listed for an unknown agent


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "Retell AI answered 401: the API key was refused"),
        (403, "Retell AI answered 403: the API key is not allowed to do this"),
        (500, "Retell AI answered 500: an error on the provider's side"),
    ],
)
def test_key_refused_or_provider_down(fake, integration, logs, status, expected):
    fake.answer(
        AGENT_PATH,
        status=status,
        json={"error_message": "x", "message": f"API key {fp.RETELL_CANARY} is invalid"},
    )

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy" and result.score == 0
    assert result.message.startswith(expected)
    assert "API key [redacted] is invalid" in result.message
    assert row.last_error == result.message
    assert (row.success_count, row.error_count) == (0, 1)
    assert fake.counts() == {AGENT_PATH: 1}


def test_timeout(settings, fake, integration, logs):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    fake.answer(AGENT_PATH, json=fp.AGENT, delay=1.5)

    result, row = fp.run_connection_test(integration, logs)

    assert result.message.startswith("Retell AI timed out after 0.3 s: check the network")
    assert row.health_status == "unhealthy" and row.last_error == result.message
    assert fake.counts() == {AGENT_PATH: 1}


def test_answer_that_is_not_json(fake, integration, logs):
    fake.answer(AGENT_PATH, body="<html>maintenance</html>", content_type="text/html")

    result, row = fp.run_connection_test(integration, logs)

    assert result.message.startswith("Retell AI answered 200, but the answer is not JSON: check")
    assert row.health_status == "unhealthy"
    assert fake.counts() == {AGENT_PATH: 1}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": 500}, "Retell AI answered 500: an error on the provider's side"),
        ({"body": "not json"}, "Retell AI answered 200, but the answer is not JSON"),
        ({"json": {"numbers": "?"}}, "Retell AI answered with JSON of an unexpected shape"),
        ({"json": [], "delay": 1.5}, "Retell AI timed out after 0.3 s"),
    ],
    ids=["500", "not-json", "shape", "timeout"],
)
def test_number_list_failing_degrades(settings, fake, integration, logs, answer, expected):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    fake.answer(AGENT_PATH, json=fp.AGENT)
    fake.answer(NUMBERS_PATH, **answer)

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "degraded" and result.score == 50
    # What failed, then what to check (tests/test_provider_failure_messages.py).
    assert result.message.startswith(f"the phone numbers could not be listed: {expected}")
    assert row.health_status == "degraded" and row.last_error == result.message
    assert fake.counts() == {AGENT_PATH: 1, NUMBERS_PATH: 1}


def test_agent_id_is_sent_as_one_path_segment(fake, company, logs):
    integration = fp.make_integration(company, "retell", config={"agent_id": "a/../b?x=1"})

    fp.run_connection_test(integration, logs)

    (request,) = fake.received
    assert request.path == "/get-agent/a%2F..%2Fb%3Fx%3D1"
