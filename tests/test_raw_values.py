"""Every value in the reader's language (issue 12, point 3): the gateway's raw values by their
labels in lists, filters, records and history; one time zone; plurals; German quotes."""

import ast
import datetime
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.utils import timezone, translation

from audit_app.models import FixRecord
from changelog.models import Change, Operation, Source
from changelog.recording import operation
from integrations_app import labels, roles, services
from integrations_app.admin.history import column_label, shown_value
from integrations_app.models import Call, Company, Customer, CustomerInteraction, Integration
from tests.admin_rows import admin_url, changelist_url

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# 03:25 UTC is 04:25 in Berlin (winter time): a page in one time zone shows only the latter.
MOMENT = datetime.datetime(2026, 1, 15, 3, 25, tzinfo=UTC)


@pytest.fixture
def company():
    return Company.objects.create(name="Praxis Sonnenschein", slug="sonnenschein")


@pytest.fixture
def calls(company):
    customer = Customer.objects.create(company=company, name="Ada Muster")
    return [
        Call.objects.create(
            company=company,
            customer=customer,
            retell_call_id=f"call_raw_{n}",
            direction=direction,
            status=status,
            start_timestamp=MOMENT,
        )
        for n, (direction, status) in enumerate(
            [("inbound", "completed"), ("outbound", "completed"), ("sideways", "warped")]
        )
    ]


def page(client, url, language="de"):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html)]


# --- the one declaration ------------------------------------------------------------------------


def test_a_declared_value_has_its_label_and_an_unknown_one_stays_as_it_is():
    with translation.override("de"):
        assert labels.label_of("calls", "direction", "inbound") == "Eingehend"
        assert labels.label_of("customers", "journey_status", "appointment_scheduled") == (
            "Termin vereinbart"
        )
        assert labels.shown("trial", "companies", "billing_status") == "Testphase"
        assert labels.shown("production", "integrations", "environment") == "Produktion"
        assert labels.shown("calcom", "integrations", "provider") == "Cal.com"
        assert labels.label_of("calls", "direction", "sideways") is None
        assert labels.shown("sideways", "calls", "direction") == "sideways"
        assert labels.shown(None) == labels.EMPTY and labels.shown("") == labels.EMPTY
        assert (labels.shown(True), labels.shown(False)) == ("Ja", "Nein")
        assert labels.shown({"event_type_id": 7, "team": {"slug": "a", "ids": [1, 2]}}) == (
            "event_type_id: 7, team: (slug: a, ids: (1, 2))"
        )
    with translation.override("en"):
        assert labels.shown("inbound", "calls", "direction") == "Inbound"
        assert labels.shown(False) == "No"


def test_english_labels_of_values_and_columns_start_with_a_capital():
    with translation.override("en"):
        for values in labels.VALUES.values():
            for label in values.values():
                assert str(label)[:1].isupper(), label
        for label in labels.COLUMN_LABELS.values():
            assert str(label)[:1].isupper(), label
        assert column_label(Integration, "api_key") == "API key"  # not "Api key"
        assert column_label(Integration, "environment") == "Environment"
        assert column_label(Call, "branch_id") == "Branch"


# --- list column, filter, record ----------------------------------------------------------------


def test_the_call_list_shows_labels_and_unknown_values_as_they_are(admin_client, calls):
    shown = cells(page(admin_client, changelist_url(Call)))
    assert {"Eingehend", "Ausgehend", "Abgeschlossen", "sideways", "warped"} <= set(shown)
    assert not {"inbound", "outbound", "completed"} & set(shown)
    english = cells(page(admin_client, changelist_url(Call), "en"))
    assert {"Inbound", "Outbound", "Completed"} <= set(english)


def test_a_filter_shows_the_label_and_filters_on_the_raw_value(admin_client, calls):
    html = page(admin_client, changelist_url(Call))
    assert re.search(r'<a href="\?direction=inbound"[^>]*>\s*Eingehend\s*</a>', html)
    assert re.search(r'<a href="\?direction=sideways"[^>]*>\s*sideways\s*</a>', html)
    assert not re.search(r">\s*inbound\s*</a>", html)
    filtered = page(admin_client, changelist_url(Call) + "?direction=inbound")
    assert "call_raw_0" in filtered and "call_raw_1" not in filtered


def test_an_enum_filter_and_column_show_labels(admin_client, company):
    company.billing_status = "trial"
    services.save_record(instance=company, fields=["billing_status"])
    html = page(admin_client, changelist_url(Company), "en")
    assert re.search(r'<a href="\?billing_status__exact=trial"[^>]*>\s*Trial\s*</a>', html)
    assert "Trial" in cells(html) and "trial" not in cells(html)


def test_the_history_filters_actions_by_capitalised_labels(admin_client, company):
    company.name = "Umbenannt"
    services.save_record(instance=company, fields=["name"])
    html = page(admin_client, changelist_url(Change), "en")
    assert re.search(r'<a href="\?action__exact=update"[^>]*>\s*Changed\s*</a>', html)
    assert not re.search(r">\s*changed\s*</a>", html)
    filtered = page(admin_client, changelist_url(Change) + "?action__exact=delete", "en")
    assert "Umbenannt" in cells(
        page(admin_client, changelist_url(Change) + "?action__exact=update")
    )
    assert "Umbenannt" not in cells(filtered)


def test_a_read_only_record_shows_labels(admin_client, calls):
    html = page(admin_client, admin_url(calls[0]))
    readonly = re.findall(r'<div class="readonly">(.*?)</div>', html, re.S)
    assert "Eingehend" in readonly and "Abgeschlossen" in readonly
    assert "inbound" not in readonly


def test_the_read_only_role_sees_an_integration_by_its_labels(client, company):
    call_command("setup_roles", stdout=io.StringIO())
    user = User.objects.create_user("reader", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.READ_ONLY))
    client.force_login(user)
    integration = services.save_record(
        instance=Integration(
            company=company,
            name="Hook",
            type="webhook",
            provider="webhook",
            status="pending",
            environment="sandbox",
        )
    )
    readonly = re.findall(
        r'<div class="readonly">(.*?)</div>', page(client, admin_url(integration))
    )
    assert {"Ausstehend", "Sandbox", "Webhook"} <= set(readonly)
    assert "pending" not in readonly and "sandbox" not in readonly


# --- history ------------------------------------------------------------------------------------


def test_the_history_shows_labels_readable_json_and_local_times(admin_client, company):
    with operation(source=Source.COMMAND, name="test"):
        integration = services.save_record(
            instance=Integration(
                company=company,
                name="Cal.com",
                type="calendar",
                provider="calcom",
                status="active",
                config={"event_type_id": 123},
            )
        )
    integration.status, integration.config = "suspended", {"event_type_id": 456, "team": "a"}
    integration.last_sync_at = MOMENT
    services.save_record(instance=integration, fields=["status", "config"])
    html = page(admin_client, admin_url(integration, "history"))
    assert "Aktiv</del> → <ins>Ausgesetzt" in html
    # The keys the console writes by their labels; another key as it is.
    assert "<ins>Ereignistyp-ID: 456, team: a</ins>" in html
    assert "{&quot;" not in html and "{'" not in html
    assert '<th scope="row">Konfiguration</th>' in html
    with translation.override("de"):
        # A time the store holds as text, in the console's one time zone.
        assert shown_value(Integration, "last_sync_at", MOMENT.isoformat()) == "15.01.2026 04:25"


def test_the_change_record_shows_names_not_keys_and_json(admin_client, company):
    op = Operation.objects.create(cid="raw-values", source=Source.IMPORT, name="numbers.csv")
    change = Change.objects.create(
        operation=op,
        table="companies",
        object_pk=str(company.pk),
        action="update",
        company_id=company.pk,
        object_repr=company.name,
        before={"billing_status": "trial", "is_active": False},
        after={"billing_status": "active", "is_active": True},
    )
    html = page(admin_client, admin_url(change))
    readonly = re.findall(r'<div class="readonly">(.*?)</div>', html, re.S)
    assert "Praxis Sonnenschein" in readonly  # the company's name, not its key
    assert "Firma" in readonly  # the table by its model's name, not `companies`
    assert "Testphase</del> → <ins>Aktiv" in html and "Nein</del> → <ins>Ja" in html
    assert "billing_status" not in html and "companies" not in readonly
    assert "Firma Praxis Sonnenschein: geändert" in html  # the title


def test_an_admin_operation_is_named_by_its_page_not_its_path(company):
    op = Operation(
        source=Source.ADMIN, name=f"/admin/integrations_app/company/{company.pk}/change/"
    )
    with translation.override("en"):
        assert str(op) == "Admin: Company changed"
        assert Operation(source=Source.ADMIN, name="/elsewhere/").display_name == "/elsewhere/"
    with translation.override("de"):
        assert str(op) == "Admin: Firma geändert"


# --- one time zone ------------------------------------------------------------------------------


def test_a_fix_records_title_and_fields_show_the_same_local_time(admin_client, settings):
    assert settings.TIME_ZONE == "Europe/Berlin"
    record = FixRecord.objects.create(check_id="AUD-BRN-001", fix_id="x", summary="s")
    FixRecord.objects.filter(pk=record.pk).update(applied_at=MOMENT)
    record.refresh_from_db()
    with translation.override("de"):
        assert str(record) == "AUD-BRN-001 15.01.2026 04:25"
    html = page(admin_client, admin_url(record))
    assert "04:25" in html and "03:25" not in html


# One format per language for a moment shown to people (walkthrough: ISO in titles, "6. Dezember
# 2026 22:05" in lists, "05.12.2026 06:00" on the dashboard, "12/05/2026 6 a.m." in English).
SAME_MOMENT = {"de": "15.01.2026 04:25", "en": "2026-01-15 04:25"}


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_moment_reads_the_same_in_a_list_a_title_and_the_dashboard(admin_client, language):
    from audit_app.models import AuditSnapshot
    from integrations_app.models import PhoneImport

    shown = SAME_MOMENT[language]
    record = FixRecord.objects.create(check_id="AUD-BRN-001", fix_id="x", summary="s")
    FixRecord.objects.filter(pk=record.pk).update(applied_at=MOMENT)
    record.refresh_from_db()
    AuditSnapshot.objects.create(taken_at=MOMENT, source="command")
    imported = PhoneImport(file_name="imp1-fixed.csv", imported_at=MOMENT)
    with translation.override(language):
        assert str(record) == f"AUD-BRN-001 {shown}"  # the title of the record page
        assert str(imported) == f"imp1-fixed.csv {shown}"
        assert labels.local_time(MOMENT) == shown
        assert labels.local_time(MOMENT, "SHORT_DATETIME_FORMAT") == shown
    listed = page(admin_client, changelist_url(FixRecord), language)
    assert f">{shown}</a>" in listed  # the list's column
    title = page(admin_client, admin_url(record), language)
    assert f"AUD-BRN-001 {shown}</h2>" in title
    assert f'<div class="readonly">{shown}</div>' in title  # the record's "applied at" field
    dashboard = page(admin_client, "/admin/audit_app/fixrecord/dashboard/", language)
    assert dashboard.count(shown) >= 2  # the snapshot's time and the fix in its history
    for other in set(SAME_MOMENT.values()) - {shown}:
        assert other not in listed + title + dashboard
    for mixed in ("Januar", "January", "Jan.", "a.m.", "01/15/2026", "2026-01-15 04:25:00"):
        assert mixed not in listed + title + dashboard


def test_a_date_in_an_audit_finding_is_the_local_day_in_the_readers_format(company):
    from tests import audit_rows

    # 23:30 UTC on 14 January is 00:30 on 15 January in Berlin: the finding names the 15th.
    late = datetime.datetime(2026, 1, 14, 23, 30, tzinfo=UTC)
    number = audit_rows.number(company, audit_rows.line(1), deleted_at=late)
    for language, day in (("de", "15.01.2026"), ("en", "2026-01-15")):
        with translation.override(language):
            detail = audit_rows.rows("AUD-PHN-004")[number.pk].detail
        assert day in detail and "14" not in detail.split(",")[0], detail


def test_an_undone_operations_time_is_local(company):
    from integrations_app.services.undo import UndoError, check_undoable

    op = Operation.objects.create(cid="fix-1", source=Source.FIX, name="fix")
    undo = Operation.objects.create(cid="undo-1", source=Source.UNDO, undo_of=op)
    Operation.objects.filter(pk=undo.pk).update(started_at=MOMENT)
    with translation.override("de"), pytest.raises(UndoError) as refused:
        check_undoable(op)
    assert "04:25" in str(refused.value) and "03:25" not in str(refused.value)


# --- plurals ------------------------------------------------------------------------------------


def test_counted_rows_are_singular_for_one_and_plural_for_two():
    with translation.override("de"):
        assert labels.rows_changed(1) == "1 Zeile geändert"
        assert labels.rows_changed(2) == "2 Zeilen geändert"
        assert labels.rows_created(1) == "1 Zeile angelegt"
    with translation.override("en"):
        assert labels.rows_created(1) == "1 row created"
        assert labels.rows_created(2) == "2 rows created"


def test_a_queued_connection_test_of_one_integration_is_singular(admin_client, company, settings):
    settings.CONNECTION_TEST_SYNC_MAX = 0  # even one goes to a worker
    integration = services.save_record(
        instance=Integration(company=company, name="Cal.com", type="calendar", provider="calcom")
    )
    response = admin_client.post(
        changelist_url(Integration),
        {"action": "test_selected_connections", "_selected_action": [integration.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="de",
    )
    html = response.content.decode()
    assert "Verbindungstest von 1 Integration ist eingereiht" in html
    assert "1 Integrationen" not in html


# --- German quotes ------------------------------------------------------------------------------

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/de/LC_MESSAGES/django.po"
# A straight double quote pair around words, as a quotation mark (not code such as s:NN:"...";).
STRAIGHT_PAIR = re.compile(r'(?<![\w:=])"[^"<>]+"(?![\w;])')


def german_texts() -> list[str]:
    """Every msgstr of the catalogue (plural forms too), obsolete entries left out."""
    texts, current = [], None
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgstr"):
            current = [line.split(" ", 1)[1]]
            texts.append(current)
        elif line.startswith('"') and current is not None:
            current.append(line)
        else:
            current = None
    return ["".join(ast.literal_eval(part) for part in parts) for parts in texts]


def test_no_german_text_quotes_with_straight_or_english_marks():
    wrong = []
    texts = german_texts()
    assert len(texts) > 1000
    for text in texts:
        text = re.sub(r"<[^>]*>", "", text)  # HTML attributes keep their quotes
        marks = re.findall(r"[„“]", text)
        paired = all(m == "„“"[i % 2] for i, m in enumerate(marks)) and len(marks) % 2 == 0
        if STRAIGHT_PAIR.search(text) or "”" in text or not paired:
            wrong.append(text)
    assert wrong == []


def test_quoted_uses_the_readers_marks():
    with translation.override("de"):
        assert labels.quoted("Firma") == "„Firma“"
    with translation.override("en"):
        assert labels.quoted("Firma") == "“Firma”"


def test_a_time_shown_in_a_list_is_local(admin_client, calls):
    html = page(admin_client, changelist_url(Call))
    assert "15.01.2026 04:25" in html and "03:25" not in html
    assert timezone.get_current_timezone_name() == "Europe/Berlin"


def test_an_interactions_title_names_its_type_and_its_local_day(company):
    customer = Customer.objects.create(company=company, name="Ada Muster")
    late = datetime.datetime(2026, 1, 14, 23, 30, tzinfo=UTC)  # already the 15th in Berlin
    interaction = CustomerInteraction(
        customer=customer, company=company, interaction_type="phone_call", interaction_at=late
    )
    with translation.override("de"):
        assert str(interaction) == "Anruf 15.01.2026"
    with translation.override("en"):
        assert str(interaction).startswith("Phone call ")


def test_a_companys_industry_and_country_and_the_config_keys_have_labels(admin_client, company):
    """The walkthrough read „Branche healthcare“, „Land DE“ and „event_type_id: 4210001, …“."""
    with operation(source=Source.COMMAND, name="test"):
        company.industry, company.country = "healthcare", "AT"
        services.save_record(instance=company, fields=["industry", "country"])
        services.save_record(
            instance=Integration(
                company=company,
                name="Cal.com",
                type="calendar",
                provider="calcom",
                status="active",
                config={"event_type_id": 4210001, "team_slug": "praxis", "team_id": None},
            )
        )
    html = page(admin_client, admin_url(company, "history"))
    assert "<ins>Gesundheitswesen</ins>" in html
    assert "<del>Deutschland</del> → <ins>Österreich</ins>" in html
    assert "healthcare" not in html
    change = Change.objects.filter(table="integrations", action="create").latest("pk")
    html = page(admin_client, admin_url(change))
    assert "Ereignistyp-ID: 4210001, Team-Slug: praxis, Team-ID: —" in html
    assert "event_type_id" not in html
    with translation.override("en"):
        assert labels.shown("DE", "companies", "country") == "Germany"
        assert labels.shown("beauty", "companies", "industry") == "Beauty and cosmetics"
        assert labels.shown("bakery", "companies", "industry") == "bakery"  # not declared


def test_the_import_records_name_their_source(admin_client):
    from integrations_app.models import PhoneImport

    PhoneImport.objects.create(file_name="numbers.csv", checksum="0" * 64, outcome="imported")
    PhoneImport.objects.create(
        file_name="cli.csv",
        checksum="1" * 64,
        outcome="imported",
        source="command:import_phone_numbers",
    )
    html = page(admin_client, changelist_url(PhoneImport))
    rows = cells(html)
    assert "Importseite" in rows and "Befehl import_phone_numbers" in rows
    assert "admin" not in rows
    record = PhoneImport.objects.get(file_name="numbers.csv")
    assert "Importseite" in page(admin_client, admin_url(record))
