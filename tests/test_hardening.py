"""Findings of the security review: each with the request, command or write that showed it.

1. error pages and mails hide posted secrets wherever the failure happens;
2. provider texts are scrubbed of anything key-like before they are shown or stored;
3. plain JSON config refuses secrets by name, at any depth;
4. changelist URLs cannot run regexes, overflowing numbers or huge searches;
5. view-only and hostile URLs give pages, not 500s;
6. set_credentials refuses unreadable, NUL-holding or multi-line input;
7. every write checks its columns' limits (SQLite enforces none).
"""

import io
import logging
import sys
from unittest import mock

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from audit_app.snapshots import record as record_snapshot
from changelog.models import Change
from integrations_app import roles, services
from integrations_app.crypto.key_like import secret_name
from integrations_app.models import Company, Integration, NotificationTemplate, PhoneNumber
from integrations_app.providers.errors import redact_key
from tests import admin_rows
from tests import audit_rows as r
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CAL_KEY = "cal_test_0b1c2d3e4f5a6b7f3a9c"
POSTED_KEY = "cal_test_posted_5e6f7a8b9c0d"
POSTED_PASSWORD = "pw_test_posted_1a2b3c"


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def login(client, role: str) -> User:
    call_command("setup_roles", stdout=io.StringIO())
    user = User.objects.create_user(f"user-{role}", password="x-test-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


# -- 1. error pages and mails ------------------------------------------------------------------


class FailingMiddleware:
    """Fails after reading the POST, before any view (and its @sensitive_post_parameters)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        posted = request.POST  # a frame variable holding the key, as the page lists them
        api_key = posted.get("api_key")  # noqa: F841 (shown by the page unless hidden)
        raise RuntimeError("failed before the view")


def test_the_debug_page_hides_posted_secrets_when_a_middleware_fails(admin_user):
    middleware = [*settings.MIDDLEWARE, "tests.test_hardening.FailingMiddleware"]
    with override_settings(DEBUG=True, MIDDLEWARE=middleware):
        client = Client(raise_request_exception=False)
        client.force_login(admin_user)
        response = client.post(
            "/admin/integrations_app/integration/add/",
            {"api_key": POSTED_KEY, "new_api_key": POSTED_KEY, "password": POSTED_PASSWORD,
             "name": "visible-name"},
        )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 500 and "failed before the view" in page  # the debug page
    assert "visible-name" in page  # the other parameters are still shown
    assert POSTED_KEY not in page and POSTED_PASSWORD not in page


def test_error_mails_hide_posted_secrets_without_a_decorated_view():
    request = RequestFactory().post("/admin/", {"api_key": POSTED_KEY, "note": "visible-note"})
    try:
        raise RuntimeError("failed")
    except RuntimeError:
        exc_info = sys.exc_info()
    log_record = logging.LogRecord("django.request", logging.ERROR, "", 0, "500", (), exc_info)
    log_record.request = request
    with override_settings(ADMINS=[("Ops", "ops@example.test")], DEBUG=False):
        AdminEmailHandler(include_html=True).emit(log_record)
    (message,) = mail.outbox
    texts = [message.body, *(content for content, _type in message.alternatives)]
    assert any("visible-note" in text for text in texts)
    for text in texts:
        assert POSTED_KEY not in text


@pytest.mark.parametrize(
    ("name", "secret"),
    [("api_key", True), ("new_api_key", True), ("password2", True), ("X-Api-Key", True),
     ("clientSecret", True), ("Authorization", True), ("credentials", True), ("key", True),
     ("token_url", False), ("token_type", False), ("key_id", False), ("event_type_id", False),
     ("monkey", False), ("author", False)],
)  # fmt: skip
def test_names_of_secrets(name, secret):
    assert secret_name(name) is secret


# -- 2. provider texts -------------------------------------------------------------------------

ECHOES = {
    "masked": ("Key cal_****7f3a9c is not valid", "7f3a9c"),
    "ellipsis": ("key key_…3c6a8d was revoked", "3c6a8d"),
    "masked_bare": ("the key ****7f3a9c is not valid", "7f3a9c"),
    "hex": ("request 0123456789abcdef0123456789abcdef failed", "0123456789abcdef"),
    "base64": ("token AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd== refused", "AbCdEfGhIjKlMnOp"),
    "bearer": ("sent Authorization: Bearer zz_test_value_123", "zz_test_value_123"),
    "basic": ('{"authorization": "Basic dXNlcjp0ZXN0"}', "dXNlcjp0ZXN0"),
}


@pytest.mark.parametrize("echo", ECHOES)
def test_key_like_provider_texts_are_scrubbed_before_they_are_stored(fake, logs, echo):
    text, fragment = ECHOES[echo]
    integration = fp.make_integration(fp.make_company(), "calcom", secret=CAL_KEY)
    fake.calcom.answer("/v2/me", status=401, json={"message": text})

    result, row = fp.run_connection_test(integration, logs)

    assert not result.ok and "401" in row.last_error and "[redacted]" in row.last_error
    for shown in (row.last_error, result.message):
        assert fragment not in shown


def test_redaction_leaves_ordinary_provider_text_alone():
    for text in (
        "Cal.com answered 404 for /v2/teams/900/event-types: check the base URL in the "
        "environment variable CALCOM_API_BASE_URL",
        "event type 4711 not found; agent agent_test_0001 is unknown",
        "Retell answered 404: agent oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD not found for this key",
    ):
        assert redact_key(text) == text


# -- 3. secrets in the plain config -------------------------------------------------------------

PLAIN_SECRETS = [
    {"password": "hunter2-test"},
    {"client_secret": "short"},
    {"headers": {"Authorization": "Basic dXNlcjp0ZXN0"}},
    {"api_key": "AKIATESTEXAMPLE"},
    {"oauth": [{"refresh_token": None}]},
    {"apiKey": 12345},
]


@pytest.mark.parametrize("config", PLAIN_SECRETS)
def test_the_generic_form_refuses_secret_names_in_config(gateway_key, admin_client, config):
    import json

    company = fp.make_company()
    url = reverse("admin:integrations_app_integration_add") + "?provider=webhook"
    data = {"company": company.pk, "name": "Hook", "type": "webhook", "provider": "webhook",
            "status": "active", "is_active": "on", "environment": "production",
            "config": json.dumps(config)}  # fmt: skip
    response = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "named like a secret" in errors and "config." in errors
    assert not Integration.objects.exists()


def test_the_generic_form_keeps_names_that_only_describe_a_secret(gateway_key, admin_client):
    company = fp.make_company()
    url = reverse("admin:integrations_app_integration_add") + "?provider=oauth2"
    config = '{"token_url": "https://auth.example.test/token", "token_type": "Bearer"}'
    data = {"company": company.pk, "name": "OAuth", "type": "oauth2", "provider": "oauth2",
            "status": "active", "is_active": "on", "environment": "production",
            "config": config}  # fmt: skip
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert Integration.objects.get().config["token_url"].startswith("https://")


@pytest.mark.parametrize("config", PLAIN_SECRETS)
def test_the_service_refuses_secrets_in_config(config):
    company = fp.make_company()
    new = Integration(company=company, name="Hook", type="webhook", provider="webhook")
    new.config = config
    with pytest.raises(services.InvalidValueError, match="integrations.config: config."):
        services.save_record(instance=new)
    row = Integration.objects.create(company=company, name="Hook", type="webhook")
    with pytest.raises(services.InvalidValueError, match="named like a secret"):
        services.update_rows(model=Integration, values={row.pk: {"config": config}})
    assert Integration.objects.get().config is None and not Change.objects.exists()


def test_a_secret_already_stored_does_not_block_other_writes():
    # The gateway put it there; the audit reports it. Renaming the row must still work.
    row = Integration.objects.create(name="Hook", type="webhook", config={"password": "legacy"})
    row.name = "Hook 2"
    services.save_record(instance=row, fields=["name"])
    services.update_rows(
        model=Integration, values={row.pk: {"config": {"password": "legacy", "a": 1}}}
    )
    assert Integration.objects.get().config == {"password": "legacy", "a": 1}


def test_the_audit_reports_secret_names_in_config():
    c = r.company()
    named = r.integration(c, "api", type="api", config={"auth": {"password": "hunter2-test"}})
    empty = r.integration(c, "api", type="api", config={"password": ""})
    found = r.rows("AUD-SEC-002")
    assert named.pk in found and empty.pk not in found
    assert "auth" in found[named.pk].detail  # where the key-like value is, by its name
    assert "hunter2" not in found[named.pk].detail


# -- 4. changelist URLs -------------------------------------------------------------------------


def _every_changelist():
    return [changelist(model) for model in admin.site._registry]


@pytest.mark.parametrize(
    "query",
    [
        "name__regex=(",
        "name__iregex=%5E(.*.*)*Z%24",
        "id__regex=1",
        "company__name__regex=x",
        "id__range=1,9",
        "config__contains=1",
        "config__password__startswith=a",
        "q=" + "+".join(f"w{i}" for i in range(300)),
    ],
)
def test_changelists_refuse_regexes_and_huge_searches(gateway_key, admin_client, query):
    admin_rows.one_of_each()
    for url in _every_changelist():
        response = admin_client.get(f"{url}?{query}")
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].endswith("?e=1"), url


@pytest.mark.parametrize(
    "query",
    [
        "id__in=99999999999999999999999",
        "pk__in=1,99999999999999999999999",
        "id=-99999999999999999999999",
    ],
)
def test_changelists_refuse_numbers_beyond_a_bigint(gateway_key, admin_client, query):
    admin_rows.one_of_each()
    for url in _every_changelist():  # tables keyed by a UUID just find nothing
        assert admin_client.get(f"{url}?{query}").status_code in (200, 302), url
    response = admin_client.get(f"{changelist(Company)}?{query}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("document", ["[" * 5000 + "]" * 5000, '{"a":' * 40 + "1" + "}" * 40])
def test_json_nested_too_deep_is_a_form_error(gateway_key, admin_client, document):
    company = fp.make_company()
    url = reverse("admin:integrations_app_notificationtemplate_add")
    data = {"company": company.pk, "key": "appointment_confirmation", "channel": "email",
            "name": "Bestätigung", "type": "email", "translations": document,
            "priority": "5"}  # fmt: skip
    response = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "nested more than 32 levels" in str(response.context["adminform"].form.errors)
    assert not NotificationTemplate.objects.exists()


def test_ordinary_filters_still_work(gateway_key, admin_client):
    admin_rows.one_of_each()
    url = changelist(Company)
    assert admin_client.get(f"{url}?name__icontains=Firma&id__in=1,2").status_code == 200
    assert admin_client.get(f"{url}?q=Firma+Berlin").status_code == 200


@pytest.mark.django_db
def test_login_logs_filter_by_date_without_a_date_hierarchy(admin_client):
    """axes' own admins come with a date hierarchy, which converts time zones in SQL: a 500 on a
    MariaDB without time zone tables. Every admin of the site filters dates in Python instead."""
    assert not [m for m, a in admin.site._registry.items() if a.date_hierarchy]
    AccessLog.objects.create(username="someone", ip_address="127.0.0.1", user_agent="test")
    for model in (AccessLog, AccessAttempt):
        url = reverse(f"admin:axes_{model._meta.model_name}_changelist")
        response = admin_client.get(f"{url}?attempt_time__gte=2026-01-01")
        assert response.status_code == 200
    assert "someone" in admin_client.get(reverse("admin:axes_accesslog_changelist")).text


# -- 5. view-only pages and hostile URLs ----------------------------------------------------------


def test_a_read_only_account_opens_a_calcom_integration(gateway_key, client):
    login(client, roles.READ_ONLY)
    integration = fp.make_integration(fp.make_company(), "calcom")
    url = reverse("admin:integrations_app_integration_change", args=[integration.pk])
    page = client.get(url)
    assert page.status_code == 200 and str(fp.EVENT_TYPE_ID) in page.text
    assert 'name="new_api_key"' not in page.text
    assert client.post(url, {"environment": "test"}).status_code == 403


@pytest.mark.parametrize("config", [["not", "an", "object"], "a string", 42])
def test_an_integration_whose_config_is_no_object_opens_and_saves(
    gateway_key, admin_client, client, config
):
    integration = fp.make_integration(fp.make_company(), "calcom")
    Integration.objects.filter(pk=integration.pk).update(config=config)
    url = reverse("admin:integrations_app_integration_change", args=[integration.pk])
    assert admin_client.get(url).status_code == 200
    login(client, roles.READ_ONLY)
    assert client.get(url).status_code == 200
    saved = admin_client.post(url, {"environment": "production", "is_active": "on",
                                    "event_type_id": "4711", "description": ""})  # fmt: skip
    assert saved.status_code == 302
    assert Integration.objects.get().config["event_type_id"] == 4711


@pytest.mark.parametrize("object_id", ["abc", "99999999999999999999999", "1.5", "²"])
def test_custom_admin_urls_with_ids_that_are_no_ids(gateway_key, admin_client, object_id):
    record_snapshot(user=None, source="test")
    test_url = f"/admin/integrations_app/integration/{object_id}/test-connection/"
    assert admin_client.post(test_url).status_code == 404
    undo = admin_client.get(f"/admin/changelog/operation/{object_id}/undo/")
    assert undo.status_code == 302
    for url in (
        f"/admin/audit_app/fixrecord/compare/?a={object_id}&b={object_id}",
        f"/admin/audit_app/fixrecord/dashboard/?new_since={object_id}",
        f"/admin/changelog/change/?company={object_id}",
        f"/admin/changelog/operation/?company={object_id}",
    ):
        assert admin_client.get(url).status_code == 200, url
    for url in (
        f"/admin/integrations_app/integration/?company={object_id}",
        f"/admin/integrations_app/company/?id__in={object_id}",
    ):
        assert admin_client.get(url).status_code in (200, 302), url


# -- 6. set_credentials and its standard input -----------------------------------------------------


def _set_credentials(company, stdin: bytes, *options):
    piped = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")  # as a process's stdin
    with mock.patch("sys.stdin", piped):
        call_command(
            "set_credentials", "--company", str(company.pk), "--provider", "calcom",
            "--event-type", "4711", *options, stdout=io.StringIO(),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"cal_test_\xff\xfe_latin\n", "not valid UTF-8"),
        (b"cal_test_with\x00nul_1234\n", "control characters"),
        (b"cal_test_first_line_1234\ncal_test_second_line_5678\n", "more than one line"),
        (b"cal_test_first_line_1234\r\n\r\n", "more than one line"),
        (b"cal_test_" + b"a" * 5000, "more than 4096 bytes"),
    ],
)
def test_set_credentials_refuses_unusable_input(gateway_key, stdin, message):
    company = fp.make_company()
    with pytest.raises(CommandError, match=message) as refused:
        _set_credentials(company, stdin)
    assert "\n" not in str(refused.value)
    assert not Integration.objects.exists() and not Change.objects.exists()
    assert Company.objects.get(pk=company.pk).calcom_api_key is None


def test_set_credentials_takes_one_line_with_its_line_break(gateway_key):
    company = fp.make_company()
    _set_credentials(company, b"cal_test_single_line_1234\r\n")
    assert Integration.objects.get().api_key


@pytest.mark.parametrize("company", ["²", "99999999999999999999999", "-1"])
def test_set_credentials_refuses_a_company_that_is_no_id(gateway_key, company):
    with pytest.raises(CommandError, match="whole number"):
        call_command("set_credentials", "--company", company, "--provider", "calcom")


# -- 7. column limits in the services ------------------------------------------------------------


def test_set_credentials_refuses_an_environment_longer_than_the_column(gateway_key):
    company = fp.make_company()
    with pytest.raises(CommandError, match="integrations.environment: .*at most 255 characters"):
        _set_credentials(company, b"cal_test_single_line_1234\n", "--environment", "e" * 300)
    assert not Integration.objects.exists() and not Change.objects.exists()
    assert Company.objects.get(pk=company.pk).calcom_api_key is None


def test_the_services_check_every_limit_before_writing():
    company = fp.make_company()
    too_long = Integration(company=company, name="n" * 256, type="webhook")
    with pytest.raises(services.InvalidValueError, match="integrations.name"):
        services.save_record(instance=too_long)
    with pytest.raises(services.InvalidValueError, match="companies.name"):
        services.create_rows(rows=[Company(name="c" * 300, slug="long")])
    with pytest.raises(services.InvalidValueError, match="less than or equal to 2147483647"):
        services.update_rows(model=Company, values={company.pk: {"calcom_team_id": 2**40}})
    number = PhoneNumber(company=company, number="+49301234567", type="mobile")
    with pytest.raises(services.InvalidValueError, match="phone_numbers.type: mobile is not one"):
        services.save_phone_number(instance=number)
    with pytest.raises(services.InvalidValueError, match="65535 bytes"):
        services.update_rows(model=Company, values={company.pk: {"address": "ä" * 40000}})
    assert Company.objects.count() == 1 and not Integration.objects.exists()
    assert not Change.objects.exists()


def test_a_form_shows_a_limit_the_database_would_not_enforce(gateway_key, admin_client):
    company = fp.make_company()
    url = reverse("admin:integrations_app_notificationtemplate_add")
    data = {"company": company.pk, "key": "appointment_confirmation", "channel": "email",
            "name": "Bestätigung", "type": "email", "translations": "{}",
            "is_active": "on", "priority": "3000000000"}  # fmt: skip
    response = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "less than or equal to 2147483647" in str(response.context["adminform"].form.errors)
    assert not NotificationTemplate.objects.exists()
