"""The background tasks' results (django_tasks_db) read in German on a German page."""

import pytest

pytestmark = pytest.mark.django_db

DE = {"HTTP_ACCEPT_LANGUAGE": "de"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
RESULTS = "/admin/django_tasks_database/dbtaskresult/"


def test_the_index_names_the_task_app_in_german(admin_client):
    page = admin_client.get("/admin/", **DE).text
    assert "Hintergrundaufgaben" in page and "Aufgabenergebnisse" in page
    assert "Tasks Database Backend" not in page and "Task Results" not in page


def test_the_task_results_list_and_its_filters_are_german(admin_client):
    page = admin_client.get(RESULTS, **DE).text
    assert "Aufgabenergebnisse" in page or "Aufgabenergebnis" in page
    for text in ("Bereit", "Läuft", "Fehlgeschlagen", "Erfolgreich", "Warteschlange"):
        assert text in page, text
    assert "Task Result" not in page and "Successful" not in page


def test_in_english_the_names_start_with_a_capital(admin_client):
    page = admin_client.get("/admin/", **EN).text
    assert "Background tasks" in page and "Task Results" in page
