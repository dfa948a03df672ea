"""Giving a company its Cal.com and Retell keys: what is written where, and what is refused."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation

from changelog.models import Change, Operation, Source
from integrations_app import credentials
from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import Company, Integration
from tests import support

pytestmark = pytest.mark.django_db
CAL_KEY = "cal_test_canary_0123456789abcdef"
RETELL_KEY = "key_test_canary_fedcba9876543210"


@pytest.fixture(autouse=True)
def english():
    """The tiers run in German; these tests read the English texts."""
    with translation.override("en"):
        yield


@pytest.fixture
def company():
    return Company.objects.create(name="Praxis Schlüssel")


def save(company, provider="calcom", api_key=CAL_KEY, **settings):
    defaults = {"event_type_id": 4711} if provider == "calcom" else {"agent_id": "agent_test_1"}
    return credentials.save_core_integration(
        company_id=company.pk,
        provider=provider,
        api_key=api_key,
        settings=credentials.IntegrationSettings(**(defaults | settings)),
    )


def raw_row(table, pk, *columns):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_calcom_key_lands_in_both_places_in_the_right_flavours(gateway_key, company):
    integration = save(company, team_slug="praxis-team", team_id=12)
    encrypter = Encrypter.from_settings()
    row = raw_row(
        "integrations", integration.pk, "provider", "type", "tenant_id", "status", "api_key",
        "credentials", "is_active",
    )  # fmt: skip
    assert (row["provider"], row["type"], row["status"]) == ("calcom", "calendar", "active")
    assert len(row["tenant_id"]) == 36 and row["credentials"] is None
    stored = encrypter.inspect(row["api_key"])
    assert (stored.value, stored.flavour) == (CAL_KEY, RAW)
    assert integration.config == {"event_type_id": 4711, "team_slug": "praxis-team", "team_id": 12}

    columns = raw_row(
        "companies", company.pk, "calcom_api_key", "calcom_v2_api_key", "calcom_team_slug",
        "calcom_team_id", "calcom_event_type_id", "webhook_signing_secret",
    )  # fmt: skip
    assert columns["calcom_api_key"].startswith("eyJ")  # passes the gateway's CHECK constraint
    assert encrypter.inspect(columns["calcom_api_key"]).flavour == SERIALIZED
    assert encrypter.decrypt(columns["calcom_api_key"]) == CAL_KEY
    assert columns["calcom_v2_api_key"] is None and columns["webhook_signing_secret"] is None
    assert (columns["calcom_team_slug"], columns["calcom_team_id"]) == ("praxis-team", 12)
    assert columns["calcom_event_type_id"] == "4711"


def test_retell_key_and_agent(gateway_key, company):
    integration = save(company, provider="retell", api_key=RETELL_KEY, agent_id="agent_test_7")
    encrypter = Encrypter.from_settings()
    assert encrypter.decrypt_string(integration.api_key) == RETELL_KEY
    company.refresh_from_db()
    assert encrypter.decrypt(company.retell_api_key) == RETELL_KEY
    assert company.retell_agent_id == "agent_test_7"
    assert integration.type == "telephony" and integration.config == {"agent_id": "agent_test_7"}


def test_blank_keeps_the_key_and_remove_clears_it(gateway_key, company):
    first = save(company)
    kept = credentials.save_core_integration(
        company_id=company.pk, provider="calcom", api_key=credentials.KEEP,
        settings=credentials.IntegrationSettings(event_type_id=99), integration_id=first.pk,
    )  # fmt: skip
    assert kept.api_key == first.api_key and kept.config["event_type_id"] == 99
    removed = credentials.save_core_integration(
        company_id=company.pk, provider="calcom", remove_key=True,
        settings=credentials.IntegrationSettings(event_type_id=99), integration_id=first.pk,
    )  # fmt: skip
    company.refresh_from_db()
    assert removed.api_key is None and company.calcom_api_key is None


def test_history_holds_fingerprints_never_the_key(gateway_key, company):
    integration = save(company)
    operation = Operation.objects.get()
    assert operation.source == Source.ADMIN  # the service's default, outside a request
    changes = Change.objects.filter(operation=operation)
    assert changes.count() == 2  # the integration row and the company row
    created = changes.get(table="integrations", object_pk=str(integration.pk))
    assert created.action == Change.Action.CREATE
    assert created.after["api_key"] == fingerprint(CAL_KEY)
    company_change = changes.get(table="companies", object_pk=str(company.pk))
    assert company_change.before["calcom_api_key"] is None
    assert company_change.after["calcom_api_key"] == fingerprint(CAL_KEY)

    credentials.save_core_integration(
        company_id=company.pk, provider="calcom", api_key="cal_test_other_key_42",
        settings=credentials.IntegrationSettings(event_type_id=4711),
        integration_id=integration.pk,
    )  # fmt: skip
    changed = Change.objects.filter(table="integrations", object_pk=str(integration.pk)).first()
    assert changed.action == Change.Action.UPDATE
    assert (changed.before["api_key"], changed.after["api_key"]) == (
        fingerprint(CAL_KEY),
        fingerprint("cal_test_other_key_42"),
    )
    stored = [integration.api_key, Company.objects.get(pk=company.pk).calcom_api_key]
    dump = "".join(f"{c.before} {c.after} {c.object_repr}" for c in Change.objects.all())
    for secret in (CAL_KEY, "cal_test_other_key_42"):
        assert secret not in dump and secret[-12:] not in dump
    for payload in stored:
        assert payload[:40] not in dump


@pytest.mark.parametrize(
    ("api_key", "expected"),
    [
        ("cal_test_with space", "spaces or line breaks"),
        ("cal_test_newline\n", "spaces or line breaks"),
        ("key_test_retell_key", "starts with cal_"),
    ],
)
def test_bad_keys_are_refused_and_nothing_is_written(gateway_key, company, api_key, expected):
    with pytest.raises(credentials.CredentialError, match=expected):
        save(company, api_key=api_key)
    assert not Integration.objects.exists()
    company.refresh_from_db()
    assert company.calcom_api_key is None


def test_missing_key_deleted_company_unknown_company_and_no_app_key(gateway_key, settings, company):
    with pytest.raises(credentials.CredentialError, match="Enter the API key"):
        save(company, api_key=credentials.KEEP)
    company.delete()
    with pytest.raises(credentials.CredentialError, match="does not exist or is deleted"):
        save(company)
    with pytest.raises(credentials.CredentialError, match="does not exist"):
        save(Company(pk=987654))
    settings.GATEWAY_APP_KEY = ""
    with pytest.raises(credentials.CredentialError, match="GATEWAY_APP_KEY"):
        save(Company.all_objects.get(pk=company.pk))
    assert not Integration.objects.exists()


def test_a_second_active_integration_is_refused(gateway_key, company):
    save(company)
    with pytest.raises(credentials.CredentialError, match="already has an active Cal.com"):
        save(company, api_key="cal_test_other_key")
    assert Integration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_create_exactly_one(mysql_only, gateway_key):
    company = Company.objects.create(name="Praxis Wettlauf")
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(key):
        try:
            barrier.wait(timeout=10)
            save(company, api_key=key)
            outcomes.append("saved")
        except credentials.CredentialError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(f"cal_test_race_{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "saved"]
    assert Integration.objects.filter(company=company, provider="calcom").count() == 1


def test_admin_form_saves_and_never_shows_the_key(gateway_key, admin_client, company):
    url = (
        reverse("admin:integrations_app_integration_add") + f"?company={company.pk}&provider=calcom"
    )
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and 'type="password"' in page.text
    response = admin_client.post(
        url,
        {"company": company.pk, "provider": "calcom", "new_api_key": CAL_KEY,
         "event_type_id": "4711", "environment": "production", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    integration = Integration.objects.get()
    operation = Operation.objects.get()  # the request's own: both rows, its user
    assert operation.source == Source.ADMIN and operation.user.username == "admin"
    assert operation.changes.count() == 2
    history = admin_client.get(
        reverse("admin:integrations_app_integration_history", args=[integration.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert history.status_code == 200 and fingerprint(CAL_KEY) in history.text
    assert CAL_KEY not in history.text and CAL_KEY[-8:] not in history.text
    change = admin_client.get(
        reverse("admin:integrations_app_integration_change", args=[integration.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert f"set · fingerprint {fingerprint(CAL_KEY)}" in change.text
    assert CAL_KEY not in change.text and CAL_KEY[-8:] not in change.text
    company_page = admin_client.get(
        reverse("admin:integrations_app_company_change", args=[company.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "CalcomV2Service" in company_page.text and fingerprint(CAL_KEY) in company_page.text
    assert CAL_KEY not in company_page.text


def test_admin_form_adds_retell_from_the_set_up_link(gateway_key, admin_client, company):
    url = (
        reverse("admin:integrations_app_integration_add") + f"?company={company.pk}&provider=retell"
    )
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert 'name="agent_id"' in page.text and 'name="event_type_id"' not in page.text
    data = {"company": company.pk, "new_api_key": RETELL_KEY, "agent_id": "agent_test_3",
            "environment": "production", "is_active": "on"}  # fmt: skip
    response = admin_client.post(url, data)  # the provider comes from the link, not the POST
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Integration.objects.get().provider == "retell"
    company.refresh_from_db()
    assert company.retell_agent_id == "agent_test_3"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("new_api_key", "cal_test_pasted with spaces", "spaces or line breaks"),
        ("event_type_id", "vier-sieben", "Enter a whole number"),
        ("new_api_key", "", "Enter the API key"),
    ],
)
def test_admin_form_refuses_bad_input(gateway_key, admin_client, company, field, value, message):
    data = {"company": company.pk, "provider": "calcom", "new_api_key": CAL_KEY,
            "event_type_id": "4711", "environment": "production", "is_active": "on"}  # fmt: skip
    url = reverse("admin:integrations_app_integration_add") + "?provider=calcom"
    response = admin_client.post(url, data | {field: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors)
    assert not Integration.objects.exists()


def test_admin_form_explains_when_it_cannot_save(settings, admin_client, company):
    settings.GATEWAY_APP_KEY = ""
    url = reverse("admin:integrations_app_integration_add") + "?provider=calcom"
    response = admin_client.post(
        url,
        {"company": company.pk, "provider": "calcom", "new_api_key": CAL_KEY,
         "event_type_id": "4711", "environment": "production", "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="en", follow=True,
    )  # fmt: skip
    assert "GATEWAY_APP_KEY" in response.text
    assert not Integration.objects.exists()


def test_a_corrupt_stored_key_is_reported_and_the_page_keeps_working(
    gateway_key, admin_client, company
):
    integration = save(company)
    Integration.objects.filter(pk=integration.pk).update(api_key="eyJub3QiOiJ2YWxpZCJ9")
    Company.objects.filter(pk=company.pk).update(calcom_api_key="eyJicm9rZW4=")
    change = admin_client.get(
        reverse("admin:integrations_app_integration_change", args=[integration.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert change.status_code == 200
    assert "cannot be decrypted with the current keys" in change.text
    company_page = admin_client.get(
        reverse("admin:integrations_app_company_change", args=[company.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert company_page.status_code == 200 and "silently" in company_page.text


def test_set_credentials_command(gateway_key, company, capsys):
    from io import StringIO
    from unittest import mock

    from django.core.management import call_command

    out = StringIO()
    with mock.patch("sys.stdin", StringIO(CAL_KEY + "\n")):
        call_command("set_credentials", "--company", str(company.pk), "--provider", "calcom",
                     "--event-type", "4711", stdout=out)  # fmt: skip
    assert fingerprint(CAL_KEY) in out.getvalue() and CAL_KEY not in out.getvalue()
    company.refresh_from_db()
    assert Encrypter.from_settings().decrypt(company.calcom_api_key) == CAL_KEY
    operation = Operation.objects.get()
    assert (operation.source, operation.name) == (Source.COMMAND, "set_credentials")
    assert set(operation.changes.values_list("table", flat=True)) == {"companies", "integrations"}


@pytest.mark.django_db(transaction=True)
def test_set_credentials_as_a_process_on_good_and_bad_input(tmp_path, scratch_database_url):
    env = {"GATEWAY_APP_KEY": support.TEST_APP_KEY}
    url = scratch_database_url
    support.prepare_demo_database(url)

    good = support.run_manage(
        "set_credentials", "--company", "1", "--provider", "retell", "--agent-id", "agent_test_9",
        database_url=url, stdin=RETELL_KEY + "\n", extra_env=env,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert "fingerprint" in good.stdout and RETELL_KEY not in good.stdout + good.stderr

    for args, stdin, message in (
        (["--company", "999"], RETELL_KEY, "does not exist"),
        (["--company", "abc"], RETELL_KEY, "whole number"),
        (["--company", "1"], "", "No key on standard input"),
        (["--company", "1"], "key_test with space", "spaces or line breaks"),
    ):
        bad = support.run_manage(
            "set_credentials", *args, "--provider", "retell", "--agent-id", "agent_test_9",
            database_url=url, stdin=stdin, extra_env=env,
        )  # fmt: skip
        assert bad.returncode == 1, (args, bad.stderr)
        assert message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_laravel_decrypts_every_column_the_console_wrote(gateway_key, php, admin_client, company):
    """The gateway's own Encrypter reads each written column back as the key that was entered:
    integrations.api_key with decryptString, companies.*_api_key with decrypt (on the reference
    tier, in the gateway's real tables with their CHECK constraints)."""
    save(company)  # through the service, as set_credentials does
    url = (
        reverse("admin:integrations_app_integration_add") + f"?company={company.pk}&provider=retell"
    )
    response = admin_client.post(  # through the admin form
        url,
        {"company": company.pk, "new_api_key": RETELL_KEY, "agent_id": "agent_test_5",
         "environment": "production", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    calcom = Integration.objects.get(provider="calcom")
    retell = Integration.objects.get(provider="retell")
    columns = raw_row("companies", company.pk, "calcom_api_key", "retell_api_key")
    key = gateway_key.GATEWAY_APP_KEY
    results = php.run(
        [
            {"key": key, "action": "decryptString", "value": calcom.api_key},
            {"key": key, "action": "decryptString", "value": retell.api_key},
            {"key": key, "action": "decrypt", "value": columns["calcom_api_key"]},
            {"key": key, "action": "decrypt", "value": columns["retell_api_key"]},
        ]
    )
    assert [(r.ok, r.value) for r in results] == [
        (True, CAL_KEY), (True, RETELL_KEY), (True, CAL_KEY), (True, RETELL_KEY),
    ]  # fmt: skip


def test_refusals_speak_the_users_language(gateway_key, company):
    with translation.override("de"), pytest.raises(credentials.CredentialError) as refused:
        save(company, api_key="cal_test_mit leerzeichen")
    assert "Leerzeichen oder Zeilenumbrüche" in refused.value.message


def test_the_generic_form_never_creates_a_core_integration_or_stores_a_key(
    gateway_key, admin_client, company
):
    save(company)  # an active Cal.com integration exists
    url = reverse("admin:integrations_app_integration_add") + "?provider=webhook"
    base = {"company": company.pk, "name": "Hook", "type": "webhook", "status": "active",
            "is_active": "on", "environment": "production"}  # fmt: skip
    second = admin_client.post(url, base | {"provider": "calcom"}, HTTP_ACCEPT_LANGUAGE="en")
    assert second.status_code == 200 and "provider" in second.context["adminform"].form.errors
    plain = admin_client.post(
        url,
        base | {"provider": "webhook", "config": '{"api_key": "cal_test_plain_in_config_1234"}'},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert plain.status_code == 200
    assert "looks like a key" in str(plain.context["adminform"].form.errors)
    assert Integration.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("team_id", "3000000000", "less than or equal to 2147483647"),
        ("event_type_id", "99999999999999999999", "less than or equal to 2147483647"),
        ("agent_id", "a" * 300, "at most 255 characters"),
    ],
)
def test_values_the_columns_cannot_hold_are_form_errors(
    gateway_key, admin_client, company, field, value, message
):
    provider = "retell" if field == "agent_id" else "calcom"
    url = reverse("admin:integrations_app_integration_add") + f"?provider={provider}"
    data = {"company": company.pk, "environment": "production", "is_active": "on",
            "new_api_key": RETELL_KEY if provider == "retell" else CAL_KEY,
            "event_type_id": "4711", "agent_id": "agent_test_1"}  # fmt: skip
    response = admin_client.post(url, data | {field: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors)
    assert not Integration.objects.exists()


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"team_id": 3_000_000_000}, "from 1 to 2147483647"),
        ({"event_type_id": -5}, "from 1 to 2147483647"),
        ({"team_slug": "s" * 300}, "longer than 255"),
    ],
)
def test_the_service_refuses_what_the_form_refuses(gateway_key, company, settings_, message):
    with pytest.raises(credentials.CredentialError, match=message):
        save(company, **settings_)
    assert not Integration.objects.exists()
