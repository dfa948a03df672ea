"""The connection-test service: unreadable keys, bad configuration, history, many at once."""

import base64
import json
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changelog.models import Change, Operation, Source
from integrations_app import connection_tests
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import Integration
from tests import fake_providers as fp
from tests.conftest import TEST_PREVIOUS_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HEALTH_UNTOUCHED = {
    "health_status": "unknown",
    "health_score": 0,
    "last_error": None,
    "last_success_at": None,
    "last_error_at": None,
    "success_count": 0,
    "error_count": 0,
}


@pytest.fixture
def company():
    company = fp.make_company()
    fp.make_numbers(company)
    return company


def health(integration) -> dict:
    row = Integration.objects.get(pk=integration.pk)
    return {name: getattr(row, name) for name in HEALTH_UNTOUCHED}


def test_result_carries_a_fingerprint_never_the_key(fake, company, logs):
    integration = fp.make_integration(company, "calcom")

    result = connection_tests.test_connection(integration=integration)

    assert result.key_fingerprint == fingerprint(fp.CAL_CANARY)
    assert result.integration_id == integration.pk
    assert (result.company_id, result.company_name) == (company.pk, company.name)
    assert (result.provider, result.provider_label) == ("calcom", "Cal.com")
    fp.assert_no_secret(repr(result), logs.text)


def test_a_key_under_the_previous_app_key_still_works(fake, company, logs):
    old = Encrypter(base64.b64decode(TEST_PREVIOUS_KEY[7:]))
    integration = fp.make_integration(company, "calcom", api_key=old.encrypt_string(fp.CAL_CANARY))

    result = connection_tests.test_connection(integration=integration)

    assert result.ok, result.message
    (request,) = fake.calcom.requests_to("/v2/me")
    assert request.headers["authorization"] == f"Bearer {fp.CAL_CANARY}"


def _other_key_payload() -> str:
    return Encrypter(b"key_test_unrelated_0123456789abc").encrypt_string(fp.CAL_CANARY)


def _serialized_flavour() -> str:
    return Encrypter.from_settings().encrypt(fp.CAL_CANARY)


def _not_a_payload() -> str:
    return base64.b64encode(json.dumps({"iv": "x"}).encode()).decode()


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (lambda: None, "no API key is stored"),
        (lambda: "", "no API key is stored"),
        (_other_key_payload, "the stored API key cannot be decrypted: cannot be decrypted with"),
        (_serialized_flavour, "the stored API key cannot be decrypted: the value is stored in"),
        (_not_a_payload, "the stored API key cannot be decrypted: the payload lacks"),
        (lambda: f"plain {fp.CAL_CANARY}", "the stored API key cannot be decrypted"),
    ],
    ids=["null", "empty", "other-key", "wrong-flavour", "missing-field", "plain-text"],
)
def test_unreadable_key_is_a_failed_result_without_a_call(fake, company, logs, stored, expected):
    integration = fp.make_integration(company, "calcom")
    Integration.objects.filter(pk=integration.pk).update(api_key=stored())
    integration.refresh_from_db()

    result = connection_tests.test_connection(integration=integration)

    assert result.status == "unhealthy" and result.score == 0 and result.recorded
    assert result.message.startswith(expected)
    assert result.key_fingerprint is None
    assert health(integration)["last_error"] == result.message
    assert health(integration)["error_count"] == 1
    assert fake.counts() == {}
    fp.assert_no_secret(result.message, logs.text)


@pytest.mark.parametrize(
    "secret", [f" {fp.CAL_CANARY}", f"{fp.CAL_CANARY}\n", "cal_test_canary_ümlaut"]
)
def test_key_that_cannot_go_into_a_header(fake, company, logs, secret):
    integration = fp.make_integration(company, "calcom", secret=secret)

    result = connection_tests.test_connection(integration=integration)

    assert result.status == "unhealthy"
    assert result.message == (
        "the stored key is unusable: "
        "the API key contains spaces, line breaks or non-ASCII characters"
    )
    assert result.key_fingerprint == fingerprint(secret)
    assert fake.counts() == {}
    fp.assert_no_secret(result.message, logs.text, secrets=(secret.strip(),))


@pytest.mark.parametrize(
    ("provider", "config", "expected"),
    [
        ("calcom", {}, "no Cal.com event type id is configured"),
        ("calcom", {"event_type_id": ""}, "no Cal.com event type id is configured"),
        (
            "calcom",
            {"event_type_id": "abc"},
            "the configured event type id abc is not a positive whole number",
        ),
        (
            "calcom",
            {"event_type_id": -3},
            "the configured event type id -3 is not a positive whole number",
        ),
        ("retell", {}, "no Retell agent id is configured"),
        ("retell", {"agent_id": "  "}, "no Retell agent id is configured"),
        ("retell", {"agent_id": 7}, "no Retell agent id is configured"),
    ],
)
def test_missing_configuration_is_a_failed_result_without_a_call(
    fake, company, logs, provider, config, expected
):
    integration = fp.make_integration(company, provider, config=config)

    result = connection_tests.test_connection(integration=integration)

    assert result.status == "unhealthy" and result.message == expected
    assert health(integration)["health_status"] == "unhealthy"
    assert health(integration)["last_error"] == expected
    assert fake.counts() == {}


def test_event_type_id_as_text_is_accepted(fake, company):
    integration = fp.make_integration(company, "calcom", config={"event_type_id": "4711"})

    assert connection_tests.test_connection(integration=integration).ok


def test_missing_key_and_missing_config_are_both_named(fake, company):
    integration = fp.make_integration(company, "retell", config={}, api_key="")

    result = connection_tests.test_connection(integration=integration)

    assert result.message == "no API key is stored; no Retell agent id is configured"


def test_without_gateway_app_key_nothing_is_judged_or_written(fake, company, settings, logs):
    integration = fp.make_integration(company, "calcom")
    settings.GATEWAY_APP_KEY = ""

    result = connection_tests.test_connection(integration=integration)

    assert result.status == "unknown" and not result.ok and not result.recorded
    assert "GATEWAY_APP_KEY is not set" in result.message
    assert health(integration) == HEALTH_UNTOUCHED
    assert fake.counts() == {}


def test_providers_without_a_connection_test_are_not_judged(fake, company):
    integration = fp.make_integration(company, "calcom", provider="webhook", type="webhook")

    result = connection_tests.test_connection(integration=integration)

    assert result.status == "unknown" and not result.recorded
    assert result.message == "connection tests exist for Cal.com and Retell AI only"
    assert health(integration) == HEALTH_UNTOUCHED
    assert fake.counts() == {}


def test_the_change_is_recorded_in_the_history_without_the_key(fake, company):
    integration = fp.make_integration(company, "calcom")
    fake.calcom.answer("/v2/me", status=401, json={"message": f"bad key {fp.CAL_CANARY}"})

    connection_tests.test_connection(integration=integration)

    change = Change.objects.filter(table="integrations", object_pk=str(integration.pk)).first()
    assert change.action == Change.Action.UPDATE
    # Named after the integration it tested, not after who asked.
    assert change.operation.source == Source.CONNECTION_TEST
    assert change.operation.name == str(integration) == f"Cal.com · {company.name}"
    assert (change.before["health_status"], change.after["health_status"]) == (
        "unknown",
        "unhealthy",
    )
    assert (change.before["error_count"], change.after["error_count"]) == (0, 1)
    assert "last_error" in change.after
    assert set(change.columns) <= set(connection_tests.HEALTH_FIELDS)
    assert "api_key" not in change.columns and "updated_at" not in change.columns
    fp.assert_no_secret(json.dumps(change.before), json.dumps(change.after), change.object_repr)


def test_other_columns_are_left_alone(fake, company):
    integration = fp.make_integration(company, "calcom", status="error", description="kept")
    stored_key = integration.api_key
    Integration.objects.filter(pk=integration.pk).update(name="renamed elsewhere")

    connection_tests.test_connection(integration=integration)  # holds the old name

    row = Integration.objects.get(pk=integration.pk)
    assert (row.name, row.status, row.description) == ("renamed elsewhere", "error", "kept")
    assert row.api_key == stored_key and row.config == {"event_type_id": fp.EVENT_TYPE_ID}


def test_many_at_once_one_call_set_each_and_a_fixed_number_of_queries(fake):
    numbers = [f"+4930300000{i}" for i in range(4)]
    for i, number in enumerate(numbers):
        company = fp.make_company(f"Firma {i}")
        fp.make_numbers(company, [number])
        fp.make_integration(company, "calcom")
        fp.make_integration(company, "retell")
    fp.retell_ok(fake.retell, numbers=numbers)

    def queries(company_count):
        queryset = Integration.objects.filter(
            company__name__in=[f"Firma {i}" for i in range(company_count)]
        )
        with CaptureQueriesContext(connection) as ctx:
            results = connection_tests.test_connections(queryset=queryset)
        assert len(results) == 2 * company_count
        return [q["sql"] for q in ctx.captured_queries], results

    two, _ = queries(2)
    before = fake.counts()
    four, results = queries(4)
    after = fake.counts() - before

    assert all(r.ok for r in results), [r.message for r in results]
    # One request per endpoint and integration; the Retell companies' numbers in one query.
    assert after == {
        "/v2/me": 4,
        f"/v2/event-types/{fp.EVENT_TYPE_ID}": 4,
        f"/get-agent/{fp.AGENT_ID}": 4,
        "/v2/list-phone-numbers": 4,
    }
    for sql in (two, four):
        plain = [q.replace('"', "").replace("`", "") for q in sql]
        selects = [q for q in plain if q.lstrip().upper().startswith("SELECT")]
        # The reads for the whole set: the integrations with their companies, the numbers.
        assert sum("phone_numbers" in q for q in selects) == 1
        assert not [q for q in selects if "WHERE integrations.id = " in q]  # nothing per row
    # One recorded bulk write for every outcome: twice the integrations, the same queries.
    assert len(four) == len(two)
    operations = Operation.objects.filter(source=Source.CONNECTION_TEST)
    assert operations.count() == 2  # one per run
    assert [o.changes.count() for o in operations.order_by("pk")] == [4, 8]


def test_an_integration_removed_meanwhile_is_not_recreated(fake, company):
    integration = fp.make_integration(company, "calcom")
    Integration.objects.filter(pk=integration.pk).delete()

    result = connection_tests.test_connection(integration=integration)

    assert result.ok and not result.recorded
    assert not Integration.objects.filter(pk=integration.pk).exists()


def test_the_service_functions_are_not_collected_as_tests():
    assert connection_tests.test_connection.__test__ is False
    assert connection_tests.test_connections.__test__ is False


@pytest.mark.django_db(transaction=True)
def test_concurrent_tests_do_not_lose_a_count(mysql_only, transactional_db, fake):
    integration = fp.make_integration(fp.make_company(), "calcom")
    fake.calcom.answer(f"/v2/event-types/{fp.EVENT_TYPE_ID}", json=fp.EVENT_TYPE, delay=0.2)
    failures = []

    def worker():
        try:
            row = Integration.objects.get(pk=integration.pk)
            failures.extend([] if connection_tests.test_connection(integration=row).ok else [row])
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    row = Integration.objects.get(pk=integration.pk)
    assert (row.success_count, row.error_count) == (6, 0)
    updates = Change.objects.filter(table="integrations", object_pk=str(row.pk), action="update")
    assert updates.count() == 6
    assert sorted(c.after["success_count"] for c in updates) == [1, 2, 3, 4, 5, 6]
