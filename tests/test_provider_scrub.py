"""A provider that echoes the key (whole, without its prefix, or a part of it) never gets it into
a ProviderError, a connection test or a stored reconciliation: against the real local fake
providers (tests/fake_providers.py)."""

import pytest

from audit_app.models import ProviderReconciliation
from integrations_app import reconcile_calcom as rc
from integrations_app import reconcile_retell as rr
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.models import RetellAgent
from integrations_app.providers.calcom import CalcomClient
from integrations_app.providers.errors import KEY_FRAGMENT_CHARS, ProviderError, redact_key, scrub
from integrations_app.providers.retell import RetellClient
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CAL_KEY = "cal_test_9f8e7d6c5b4a3f2e1d0c"
RETELL_KEY = "key_test_7a6b5c4d3e2f1a0b9c8d"
TEAM = 900
TEAM_PATH = f"/v2/teams/{TEAM}/event-types"
LIST = "/v2/list-phone-numbers"


def echoes(key: str) -> dict[str, str]:
    """The three forms a provider may echo: whole, without prefix, a 10-character slice."""
    return {"whole": key, "unprefixed": key.split("_", 1)[1], "slice": key[12:22]}


def assert_no_key(text: str, key: str) -> None:
    text = text.lower()
    for i in range(len(key) - KEY_FRAGMENT_CHARS + 1):
        assert key[i : i + KEY_FRAGMENT_CHARS].lower() not in text, (key, text)


@pytest.fixture
def providers(settings, gateway_key):
    with fp.serving(settings) as served:
        yield served


# -- the one place: redact_key / scrub -------------------------------------------------------


@pytest.mark.parametrize("form", ["whole", "unprefixed", "slice"])
def test_redact_key_removes_every_form(form):
    echoed = echoes(CAL_KEY)[form]
    for text in (
        f"The API key {echoed} is not valid",
        f'token "{echoed}…"',
        f"{echoed.upper()} refused",  # case does not hide it
        f"a{echoed}b and again {echoed}",
    ):
        redacted = redact_key(text, CAL_KEY)
        assert "[redacted]" in redacted
        assert_no_key(redacted, CAL_KEY)


def test_redact_key_leaves_other_text_and_short_overlaps_alone():
    text = "event type 4711 not found; cal_ is a prefix, test_9f is short"
    assert redact_key(text, CAL_KEY) == text
    assert redact_key("", CAL_KEY) == "" and redact_key("text", "") == "text"
    assert redact_key("The API key 9f8e7d6c5b4a3f2e1d0c is not valid", CAL_KEY) == (
        "The API key [redacted] is not valid"
    )


def test_scrub_keeps_the_generic_patterns():
    assert scrub("Authorization: Bearer abc.def", "") == "Authorization: [redacted]"
    assert scrub("api_key=whatever", "") == "api_key=[redacted]"
    assert scrub("sk_live_abcdef", "") == "[redacted]"
    assert_no_key(scrub(f"api key {echoes(CAL_KEY)['slice']}", CAL_KEY), CAL_KEY)


def test_a_long_text_is_scrubbed_in_bounded_time():
    text = ("x" * 9 + " ") * 50_000 + CAL_KEY[4:]
    assert_no_key(redact_key(text, CAL_KEY), CAL_KEY)


# -- the clients against the fake providers --------------------------------------------------


@pytest.mark.parametrize("form", ["whole", "unprefixed", "slice"])
@pytest.mark.parametrize("shape", ["error_object", "message", "html"])
def test_calcom_error_body_echoing_the_key(providers, form, shape):
    echoed = echoes(CAL_KEY)[form]
    text = f'The API key {echoed} is not valid (token "{echoed}")'
    if shape == "html":
        providers.calcom.answer(
            TEAM_PATH, status=401, body=f"<p>{text}</p>", content_type="text/html"
        )
    elif shape == "message":
        providers.calcom.answer(TEAM_PATH, status=401, json={"message": text})
    else:
        providers.calcom.answer(TEAM_PATH, status=401, json={"error": {"message": text}})

    with CalcomClient(api_key=CAL_KEY) as client, pytest.raises(ProviderError) as error:
        client.event_types(team_id=TEAM)

    assert error.value.message.startswith("Cal.com answered 401: the API key was refused")
    assert "the provider says: The API key [redacted] is not valid" in error.value.message
    assert_no_key(error.value.message, CAL_KEY)
    assert_no_key(str(error.value), CAL_KEY)


def test_calcom_key_in_a_field_of_the_answer_is_redacted_too(providers):
    # A message built outside get_json, from a value of the answer: redacted on its way out.
    item = {**fp.cal_event_type(1, "Beratung", 30), "id": echoes(CAL_KEY)["unprefixed"]}
    providers.calcom.answer(TEAM_PATH, json={"status": "success", "data": [item]})

    with CalcomClient(api_key=CAL_KEY) as client, pytest.raises(ProviderError) as error:
        client.event_types(team_id=TEAM)

    assert "event type [redacted] in" in error.value.message
    assert_no_key(error.value.message, CAL_KEY)
    assert_no_key(str(error.value), CAL_KEY)


@pytest.mark.parametrize("form", ["whole", "unprefixed", "slice"])
def test_retell_error_body_echoing_the_key(providers, form):
    echoed = echoes(RETELL_KEY)[form]
    providers.retell.answer(
        LIST, status=403, json={"error": f"The API key {echoed} may not list numbers"}
    )

    with RetellClient(api_key=RETELL_KEY) as client, pytest.raises(ProviderError) as error:
        client.list_phone_numbers()

    assert "403" in error.value.message and "[redacted]" in error.value.message
    assert_no_key(error.value.message, RETELL_KEY)


# -- where the messages are stored -----------------------------------------------------------


@pytest.mark.parametrize("form", ["whole", "unprefixed", "slice"])
def test_calcom_reconciliation_stores_no_part_of_the_key(providers, form):
    encrypted = Encrypter.from_settings().encrypt(CAL_KEY)
    fp.make_company(calcom_api_key=encrypted, calcom_team_id=TEAM)
    echoed = echoes(CAL_KEY)[form]
    providers.calcom.answer(
        TEAM_PATH, status=401, json={"error": {"message": f"The API key {echoed} is not valid"}}
    )

    results = rc.reconcile()
    rc.store(results)

    (result,) = results
    assert not result.available and "401" in result.reason
    stored = ProviderReconciliation.objects.get(kind=rc.KIND)
    assert not stored.available and "[redacted]" in stored.reason
    assert_no_key(stored.reason, CAL_KEY)
    assert_no_key(str(rc.company_panel(stored.company_id)), CAL_KEY)


@pytest.mark.parametrize("form", ["whole", "unprefixed", "slice"])
def test_retell_reconciliation_stores_no_part_of_the_key(providers, form):
    company = fp.make_company()
    fp.make_numbers(company)
    fp.make_integration(company, "retell", secret=RETELL_KEY)
    RetellAgent.objects.create(agent_id=fp.AGENT_ID, name="Praxis Empfang", company=company)
    echoed = echoes(RETELL_KEY)[form]
    providers.retell.answer(LIST, status=401, json={"error": f'token "{echoed}" is not valid'})

    results = rr.reconcile()
    rr.save(results)

    stored = ProviderReconciliation.objects.get(kind=rr.KIND)
    assert not stored.available and "[redacted]" in stored.reason
    assert_no_key(stored.reason, RETELL_KEY)


@pytest.mark.parametrize("form", ["whole", "unprefixed", "slice"])
def test_connection_test_health_fields_hold_no_part_of_the_key(providers, logs, form):
    integration = fp.make_integration(fp.make_company(), "calcom", secret=CAL_KEY)
    echoed = echoes(CAL_KEY)[form]
    providers.calcom.answer(
        "/v2/me", status=401, json={"message": f"The API key {echoed} is not valid"}
    )

    result, row = fp.run_connection_test(integration, logs)

    assert not result.ok and "[redacted]" in result.message
    for text in (result.message, row.last_error, *(c.message for c in result.checks)):
        assert_no_key(text or "", CAL_KEY)
