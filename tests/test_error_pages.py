"""403 and 404 pages in the admin's look and the user's language, not Django's bare English."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.test_roles import READ_ONLY, SUPPORT, login

IMPORT = "admin:integrations_app_phonenumber_phone_import"


@pytest.fixture
def read_only(client, db):
    call_command("setup_roles", stdout=io.StringIO())
    login(client, READ_ONLY)  # the role test's own login, a staff user in the group
    return client


@pytest.mark.parametrize(
    ("language", "title", "advice"),
    [
        ("en", "Not allowed", "Your role does not allow this page or action"),
        ("de", "Nicht erlaubt", "Ihre Rolle erlaubt diese Seite oder Aktion nicht"),
    ],
)
def test_a_refused_page_explains_in_the_users_language(read_only, language, title, advice):
    response = read_only.get(reverse(IMPORT), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 403
    text = response.content.decode()
    assert title in text and advice in text
    assert "AskPro Console" in text  # the admin's header, logged-in user links included
    assert "403 Forbidden" not in text


def test_the_advice_names_only_the_roles_the_user_lacks(client, db):
    call_command("setup_roles", stdout=io.StringIO())
    login(client, SUPPORT)
    response = client.get(
        reverse("admin:changelog_operation_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 403
    text = response.content.decode()
    assert "Your role: Support." in text
    assert "a role that allows it (Manager)" in text and "(Support" not in text


def test_a_missing_page_has_the_console_look(admin_client):
    response = admin_client.get("/admin/nothing-here/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Seite nicht gefunden" in text and "AskPro Console" in text


def test_a_missing_page_outside_the_admin_needs_no_login(client, db):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
