"""Cal.com connection test against a real HTTP server on localhost (tests/fake_providers.py)."""

import socket
import time

import pytest

from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ME_PATH = "/v2/me"
EVENT_PATH = f"/v2/event-types/{fp.EVENT_TYPE_ID}"


@pytest.fixture
def fake(settings, gateway_key):
    with fp.serving(settings) as providers:
        yield providers.calcom


@pytest.fixture
def integration():
    return fp.make_integration(fp.make_company(), "calcom")


def test_success_proves_key_and_event_type(fake, integration, logs):
    fp.calcom_ok(fake)

    result, row = fp.run_connection_test(integration, logs)

    assert result.ok and result.status == "healthy" and result.score == 100
    assert result.recorded
    assert [c.name for c in result.checks] == ["me", "event_type"]
    assert "praxis-test" in result.message and "Beratung 30 min" in result.message
    assert row.health_status == "healthy" and row.health_score == 100
    assert row.last_error is None
    assert row.last_success_at is not None and row.last_error_at is None
    assert (row.success_count, row.error_count) == (1, 0)
    assert integration.health_status == "healthy"  # the caller's instance follows

    # The decrypted key went out in the header, and only there; the event type with its version.
    me, event = fake.requests_to(ME_PATH), fake.requests_to(EVENT_PATH)
    assert len(me) == 1 and len(event) == 1
    assert me[0].headers["authorization"] == f"Bearer {fp.CAL_CANARY}"
    assert event[0].headers["authorization"] == f"Bearer {fp.CAL_CANARY}"
    assert event[0].headers["cal-api-version"] == "2024-06-14"
    assert fp.CAL_CANARY not in event[0].path


def test_counters_add_up_over_several_runs(fake, integration, logs):
    fp.calcom_ok(fake)
    fp.run_connection_test(integration, logs)
    fp.run_connection_test(integration, logs)
    fake.answer(ME_PATH, status=401, json={"status": "error"})
    result, row = fp.run_connection_test(integration, logs)

    assert not result.ok
    assert (row.success_count, row.error_count) == (2, 1)
    assert row.last_success_at is not None and row.last_error_at is not None
    assert row.health_status == "unhealthy"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "Cal.com answered 401: the API key was refused"),
        (403, "Cal.com answered 403: the API key is not allowed to do this"),
        (500, "Cal.com answered 500: an error on the provider's side"),
    ],
)
def test_key_refused_or_provider_down(fake, integration, logs, status, expected):
    # The provider echoes the key back: the excerpt must not carry it.
    fake.answer(
        ME_PATH,
        status=status,
        json={
            "status": "error",
            "error": {
                "code": "E",
                "message": f"Invalid token Bearer {fp.CAL_CANARY} for {fp.CAL_CANARY}",
            },
        },
    )

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy" and result.score == 0 and not result.ok
    assert result.message.startswith(expected)
    assert "[redacted]" in result.message
    assert row.health_status == "unhealthy" and row.health_score == 0
    assert row.last_error.startswith(expected)
    assert row.last_error_at is not None and row.last_success_at is None
    assert (row.success_count, row.error_count) == (0, 1)
    # No retry, and no event type request once the key failed.
    assert fake.counts() == {ME_PATH: 1}


def test_unknown_event_type(fake, integration, logs):
    fake.answer(ME_PATH, json=fp.ME)
    fake.answer(EVENT_PATH, status=404, json={"status": "error", "error": {"message": "Not found"}})

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy" and result.score == 25
    assert [c.ok for c in result.checks] == [True, False]
    assert f"event type {fp.EVENT_TYPE_ID} not found for this key" in result.message
    assert row.last_error == result.message
    assert row.health_status == "unhealthy" and row.health_score == 25
    assert fake.counts() == {ME_PATH: 1, EVENT_PATH: 1}


def test_event_type_answered_with_empty_data_is_not_found(fake, integration, logs):
    fake.answer(ME_PATH, json=fp.ME)
    fake.answer(EVENT_PATH, json={"status": "success", "data": None})

    result, _row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy"
    assert f"event type {fp.EVENT_TYPE_ID} not found for this key" in result.message


def test_event_type_refused_after_key_accepted(fake, integration, logs):
    fake.answer(ME_PATH, json=fp.ME)
    fake.answer(EVENT_PATH, status=403, json={"message": "forbidden"})

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy" and row.health_score == 25
    assert "Cal.com answered 403" in row.last_error
    assert fake.counts() == {ME_PATH: 1, EVENT_PATH: 1}


def test_timeout(settings, fake, integration, logs):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    fake.answer(ME_PATH, json=fp.ME, delay=1.5)

    started = time.monotonic()
    result, row = fp.run_connection_test(integration, logs)
    assert time.monotonic() - started < 1.2  # gave up after the timeout, did not wait it out

    assert result.status == "unhealthy"
    # What timed out, and what to check (tests/test_provider_failure_messages.py).
    assert result.message.startswith("Cal.com timed out after 0.3 s: check the network")
    assert row.last_error == result.message
    assert fake.counts() == {ME_PATH: 1}


def test_event_type_timeout_after_key_accepted(settings, fake, integration, logs):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    fake.answer(ME_PATH, json=fp.ME)
    fake.answer(EVENT_PATH, json=fp.EVENT_TYPE, delay=1.5)

    result, _row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy" and result.score == 25
    assert "Cal.com timed out after 0.3 s" in result.message
    assert fake.counts() == {ME_PATH: 1, EVENT_PATH: 1}


@pytest.mark.parametrize(
    "body", ["<html><body>Bad gateway</body></html>", "", '{"status": "success", "data"']
)
def test_answer_that_is_not_json(fake, integration, logs, body):
    fake.answer(ME_PATH, body=body, content_type="text/html")

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy"
    assert result.message.startswith("Cal.com answered 200, but the answer is not JSON: check")
    assert row.last_error == result.message
    assert fake.counts() == {ME_PATH: 1}


def test_error_page_that_is_not_json_is_excerpted_and_scrubbed(fake, integration, logs):
    page = f"<h1>502 Bad Gateway</h1> upstream said api_key={fp.CAL_CANARY} " + "x" * 400
    fake.answer(ME_PATH, status=502, body=page, content_type="text/html")

    result, row = fp.run_connection_test(integration, logs)

    assert result.message.startswith("Cal.com answered 502: an error on the provider's side")
    assert "502 Bad Gateway" in result.message
    assert len(result.message) < 400  # the excerpt is cut; what to check follows it
    assert row.last_error == result.message


def test_provider_not_listening(settings, fake, integration, logs):
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CALCOM_API_BASE_URL = f"http://127.0.0.1:{port}/v2"

    result, row = fp.run_connection_test(integration, logs)

    assert result.status == "unhealthy"
    assert result.message.startswith("Cal.com could not be reached (")
    assert row.health_status == "unhealthy"


def test_wrong_base_url_answers_404_for_me(fake, integration, logs):
    result, _row = fp.run_connection_test(
        integration, logs
    )  # the fake answers 404 for every unknown path

    assert result.message.startswith(
        "Cal.com answered 404 for /me: check the base URL in the environment variable "
        "CALCOM_API_BASE_URL"
    )
