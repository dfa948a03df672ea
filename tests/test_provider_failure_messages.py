"""A failed connection test says what to check: the address (DNS, nobody listening), the network
(timeout), the key (401/403) or the provider (5xx, an answer that is not JSON), never only an
exception's name; real local HTTP servers (tests/fake_providers.py), no mocks."""

import socket

import pytest

from integrations_app.providers import errors as base  # the failures and their causes
from integrations_app.providers.calcom import CalcomClient
from integrations_app.providers.retell import RetellClient
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ME_PATH = "/v2/me"


@pytest.fixture
def fake(settings, gateway_key):
    with fp.serving(settings, timeout=0.3) as providers:
        yield providers


def failure(call) -> base.ProviderError:
    with pytest.raises(base.ProviderError) as caught:
        call()
    return caught.value


def free_port() -> int:
    with socket.socket() as probe:  # free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_address_that_does_not_resolve_says_check_the_base_url_and_dns():
    # .invalid never resolves (RFC 6761): no lookup reaches the internet.
    client = CalcomClient(api_key=fp.CAL_CANARY, base_url="http://askpro-nowhere.invalid/v2")
    with client:
        error = failure(client.me)
    assert error.cause == base.ADDRESS
    assert "the address askpro-nowhere.invalid was not found" in error.message
    assert "base URL in the environment variable CALCOM_API_BASE_URL" in error.message
    assert "(DNS)" in error.message and "in the settings" not in error.message
    assert "ConnectError" not in error.message


def test_nobody_listening_says_check_host_port_and_firewall():
    port = free_port()
    with CalcomClient(api_key=fp.CAL_CANARY, base_url=f"http://127.0.0.1:{port}/v2") as client:
        error = failure(client.me)
    assert error.cause == base.ADDRESS
    assert f"connection refused by 127.0.0.1:{port}" in error.message
    assert (
        "base URL in the environment variable CALCOM_API_BASE_URL (host and port) and the "
        "firewall" in error.message
    )


def test_a_timeout_says_check_the_network(fake):
    fake.calcom.answer(ME_PATH, json=fp.ME, delay=1.5)
    with CalcomClient(api_key=fp.CAL_CANARY) as client:
        error = failure(client.me)
    assert error.cause == base.NETWORK
    assert error.message.startswith("Cal.com timed out after 0.3 s: check the network")
    assert "(firewall, proxy)" in error.message


@pytest.mark.parametrize(
    ("status", "cause", "advice"),
    [
        (401, base.KEY, "Check the key stored for the integration"),
        (403, base.KEY, "Check the key's permissions at the provider"),
        (500, base.PROVIDER, "check the provider's status page"),
        (
            418,
            base.PROVIDER,
            "An unexpected answer: check the base URL in the environment variable "
            "CALCOM_API_BASE_URL.",
        ),
    ],
)
def test_an_http_failure_names_what_to_check(fake, status, cause, advice):
    fake.calcom.answer(ME_PATH, status=status, json={"status": "error"})
    with CalcomClient(api_key=fp.CAL_CANARY) as client:
        error = failure(client.me)
    assert (error.status, error.cause) == (status, cause)
    assert advice in error.message


def test_an_answer_that_is_not_json_says_check_the_base_url(fake):
    fake.retell.answer(
        f"/get-agent/{fp.AGENT_ID}", body="<html>login</html>", content_type="text/html"
    )
    with RetellClient(api_key=fp.RETELL_CANARY) as client:
        error = failure(lambda: client.get_json(f"/get-agent/{fp.AGENT_ID}"))
    assert error.cause == base.PROVIDER
    assert (
        "not JSON: check that the base URL in the environment variable RETELL_API_BASE_URL "
        "points to the provider's API" in error.message
    )


def test_the_connection_test_stores_what_to_check(fake, logs, settings):
    integration = fp.make_integration(fp.make_company(), "calcom")
    settings.CALCOM_API_BASE_URL = f"http://127.0.0.1:{free_port()}/v2"
    result, row = fp.run_connection_test(integration, logs)
    assert result.status == "unhealthy"
    # The stable check names stay; the message says what to check.
    assert [check.name for check in result.checks] == ["me"]
    assert "environment variable CALCOM_API_BASE_URL (host and port)" in row.last_error
    fake.calcom.answer(ME_PATH, status=401, json={"status": "error"})
    settings.CALCOM_API_BASE_URL = fake.calcom.url + "/v2"
    result, row = fp.run_connection_test(integration, logs)
    assert "the API key was refused. Check the key stored for the integration" in row.last_error


def test_the_advice_is_in_german_too():
    from django.utils import translation

    port = free_port()
    with (
        translation.override("de"),
        CalcomClient(api_key=fp.CAL_CANARY, base_url=f"http://127.0.0.1:{port}/v2") as client,
    ):
        error = failure(client.me)
    assert f"Verbindung von 127.0.0.1:{port} abgelehnt" in error.message
    assert (
        "Prüfen Sie die Basis-URL in der Umgebungsvariablen CALCOM_API_BASE_URL (Host und Port)"
        in error.message
    )
    assert "in den Einstellungen" not in error.message
