"""The history pages name things as a manager reads them, in the page's language (walkthrough
of the German demo): a fix run by its fix's title (never "create-main-branch"), an undo by what
it undid, a connection test by its integrations, rows by their company's name."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from audit_app.fixes import service
from changelog.models import Operation, Source
from integrations_app import connection_tests
from integrations_app.services.undo import apply_undo, plan_undo
from tests import audit_rows as r
from tests import fake_providers as fp

pytestmark = pytest.mark.django_db

FIX = "create-main-branch"
TITLE_DE = "Hauptfiliale für Firmen ohne Filiale anlegen"
DE = {"HTTP_ACCEPT_LANGUAGE": "de"}


def visible(html: str) -> str:
    """The page's text as people see it: no tags, no attributes (URLs keep raw keys)."""
    return re.sub(r"<[^>]*>", " ", html)


def companies(*names):
    return [r.company(name) for name in names]


def apply_main_branch(user) -> Operation:
    plan = service.preview(FIX)
    return service.apply_fix(fix_id=FIX, digest=plan.digest, user=user).operation


def test_a_fix_run_and_its_undo_are_named_by_the_fix_title(admin_client, admin_user):
    companies("Kanzlei Brandt & Oswald", "Optik Fernglanz")
    op = apply_main_branch(admin_user)
    assert op.name == FIX  # the database keeps the fix's id
    with translation.override("de"):
        assert str(op) == f"Korrektur: {TITLE_DE}"
    with translation.override("en"):
        assert str(op) == "Audit fix: Create a main branch for companies without one"

    page = admin_client.get(reverse("admin:changelog_operation_change", args=[op.pk]), **DE)
    assert escape(f"Korrektur: {TITLE_DE}") in page.text
    assert FIX not in visible(page.text)

    # The undo preview: its title, each row's company, the values the fix wrote.
    undo_url = reverse("admin:changelog_operation_undo", args=[op.pk])
    preview = admin_client.get(undo_url, **DE)
    text = visible(preview.text)
    assert f"Rückgängig machen: Korrektur: {TITLE_DE}" in text
    assert FIX not in text
    rows = re.findall(r'<tr class="undo-step">(.*?)</tr>', preview.text, re.S)
    assert len(rows) == 2
    for row, name in zip(rows, ("Kanzlei Brandt &amp; Oswald", "Optik Fernglanz"), strict=True):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        assert cells[2] == name  # the company column
        assert "Name: Hauptfiliale" in cells[4] and f"Firma: {name}" in cells[4]
        assert "ID:" not in cells[4] and "Kurzname" not in cells[4]  # no key, no empty column

    # Undone: the undo is named by what it undid, in the reader's language too.
    apply_undo(op_id=op.pk, digest=plan_undo(op=op).digest, user=admin_user)
    undo = Operation.objects.get(undo_of=op)
    with translation.override("de"):
        assert str(undo) == f"Rückgängig: Korrektur: {TITLE_DE}"
    with translation.override("en"):
        assert str(undo) == "Undo: Audit fix: Create a main branch for companies without one"
    page = admin_client.get(reverse("admin:changelog_operation_change", args=[op.pk]), **DE)
    assert escape(f"Rückgängig: Korrektur: {TITLE_DE}") in page.text
    assert FIX not in visible(page.text)
    listed = admin_client.get(reverse("admin:changelog_operation_changelist"), **DE)
    assert FIX not in visible(listed.text) and escape(TITLE_DE) in listed.text


def test_an_unknown_fix_id_or_undo_name_is_shown_as_it_is():
    with translation.override("de"):
        assert Operation(source=Source.FIX, name="retired-fix").display_name == "retired-fix"
        old_undo = Operation(source=Source.UNDO, name="Korrektur: retired-fix")
        assert old_undo.display_name == "Korrektur: retired-fix"
        assert Operation(source=Source.UNDO, name="import:nummern.csv").display_name == (
            "Import: nummern.csv"
        )


def test_the_applied_fixes_list_shows_titles_and_a_capitalised_title(admin_client, admin_user):
    companies("Fahrschule Grünpfeil")
    apply_main_branch(admin_user)
    page = admin_client.get(reverse("admin:audit_app_fixrecord_changelist"), **DE)
    assert "<h1>Angewendete Korrektur zum Ansehen auswählen</h1>" in page.text
    assert "<title>Angewendete Korrektur zum Ansehen auswählen |" in page.text
    text = visible(page.text)
    assert text.count(TITLE_DE) >= 2  # the column and the filter
    assert FIX not in text
    assert f"?fix_id={FIX}" in page.text  # the filter keeps the id in its URL


def preview_page(client):
    url = reverse("admin:audit_app_fix_preview", args=[FIX])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, **DE)
    assert page.status_code == 200
    return page, len(queries)


def test_the_fix_preview_names_each_row_by_its_company_in_bulk(admin_client):
    firms = companies("Kanzlei Brandt & Oswald", "Optik Fernglanz")
    preview_page(admin_client)  # warm caches
    page, few = preview_page(admin_client)
    text = visible(page.text)
    for firm in firms:
        assert f"Firma: {escape(firm.name)}" in " ".join(text.split())
        assert f"Neu: Filiale von {escape(firm.name)}" in text
        assert f"Firma: {firm.pk} " not in " ".join(text.split())
        assert f"branch-for-company-{firm.pk}" not in text
    # The digest is still that of what is written: the page's confirms the plan's.
    assert f'name="digest" value="{service.preview(FIX).digest}"' in page.text

    companies(*(f"Firma {n}" for n in range(8)))
    _page, many = preview_page(admin_client)
    assert many == few  # the names are read for all rows at once


def test_the_placeholder_preview_names_a_new_integration_as_its_pages_do(admin_client):
    firms = companies("Praxis Dr. Lindenberg", "Optik Fernglanz")
    url = reverse("admin:audit_app_fix_preview", args=["calcom-placeholder"])
    text = visible(admin_client.get(url, **DE).text)
    for firm in firms:
        assert f"Neu: Cal.com · {escape(firm.name)}" in text
        assert f"Neu: Integration von {escape(firm.name)}" not in text
    # Display only: the digest is that of what is written.
    plan = service.preview("calcom-placeholder")
    page = admin_client.get(url, **DE)
    assert f'name="digest" value="{plan.digest}"' in page.text


def test_the_change_list_shows_each_row_company(admin_client, admin_user):
    firms = companies("Kanzlei Brandt & Oswald", "Optik Fernglanz")
    apply_main_branch(admin_user)
    page = admin_client.get(reverse("admin:changelog_change_changelist"), **DE)
    assert '<th scope="col" class="column-company_name">' in page.text
    for firm in firms:
        assert f'<td class="field-company_name">{escape(firm.name)}</td>' in page.text


def test_a_connection_test_is_named_after_its_integrations(fake):
    first, second = fp.make_company("Praxis Dr. Lindenberg"), fp.make_company("Praxis Zwei")
    one = fp.make_integration(first, "calcom")
    connection_tests.test_connection(integration=one)
    single = Operation.objects.get(source=Source.CONNECTION_TEST)
    with translation.override("de"):
        assert str(single) == f"Verbindungstest: Cal.com · {first.name}"

    fp.make_integration(second, "calcom")
    queryset = connection_tests.testable_integrations()
    connection_tests.test_connections(queryset=queryset)
    bulk = Operation.objects.filter(source=Source.CONNECTION_TEST).exclude(pk=single.pk).get()
    with translation.override("de"):
        assert str(bulk) == "Verbindungstest: 2 Integrationen"
    with translation.override("en"):
        assert str(bulk) == "Connection test: 2 integrations"
