"""Logging in: lockout per account and address (django-axes), unlock, session length, and a
refused ?next= going to the console's start page."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tests import support

PASSWORD = "a-long-test-password-1"
LOGIN = "/admin/login/"


@pytest.fixture
def staff(db):
    return User.objects.create_user("support1", password=PASSWORD, is_staff=True)


def attempt(client, password, address="198.51.100.7", **extra):
    return client.post(
        LOGIN,
        {"username": "support1", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_after_too_many_wrong_ones_is_refused(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong").status_code == 200  # the form again, with its error
    locked = attempt(client, "wrong")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed logins for this account from this address" in text
    assert "locked for 30 minutes" in text
    assert "wrong" not in text
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)


def test_the_lockout_speaks_german(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            LOGIN, {"username": "support1", "password": "x"}, HTTP_ACCEPT_LANGUAGE="de"
        )
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldungen" in response.content.decode()


def test_the_lock_holds_one_account_from_one_address(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    # The same person from the office next door, and another account from the same address.
    assert attempt(client, PASSWORD, address="203.0.113.9").status_code == 302
    assert logged_in(client)
    client.logout()
    User.objects.create_user("support2", password=PASSWORD, is_staff=True)
    other = client.post(
        LOGIN, {"username": "support2", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert other.status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_lock(client, staff, settings):
    for number in range(settings.AXES_FAILURE_LIMIT + 1):
        response = attempt(client, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_client_address_counts(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    # Another client behind the same proxy is not locked out.
    ok = attempt(client, PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ok.status_code == 302


def test_an_administrator_unlocks_with_axes_reset_username(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "support1", stdout=io.StringIO())
    assert attempt(client, PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_successful_login_forgets_earlier_failures(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_a_refused_next_goes_to_the_admin_index(client, staff, target):
    response = client.post(LOGIN, {"username": "support1", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_session_lasts_a_working_day(client, staff, settings):
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    attempt(client, PASSWORD)
    assert client.cookies["sessionid"]["max-age"] == 10 * 3600


def test_a_session_can_end_with_the_browser(client, staff, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    attempt(client, PASSWORD)
    assert logged_in(client)
    assert client.cookies["sessionid"]["max-age"] == ""


def test_session_settings_come_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_AGE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.AXES_FAILURE_LIMIT)"
    )
    result = support.run_manage(
        "shell", "-c", code,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"SESSION_HOURS": "8", "SESSION_EXPIRE_AT_BROWSER_CLOSE": "yes",
                   "AXES_FAILURE_LIMIT": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["28800", "True", "3"]
