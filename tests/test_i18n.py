"""German by default, English on request, and a switch in the admin header."""

import pytest

pytestmark = pytest.mark.django_db


def test_admin_speaks_german_by_default(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "Gateway-Daten" in page
    assert "Firmen" in page


def test_the_browser_may_ask_for_english(admin_client):
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Gateway data" in page
    assert "Companies" in page


def test_the_language_switch_changes_the_interface(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'name="language"' in page and "/i18n/setlang/" in page
    response = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    assert "Gateway data" in admin_client.get("/admin/").content.decode()
