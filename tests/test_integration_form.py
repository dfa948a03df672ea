"""The Cal.com and Retell integration page: a refused form keeps what was typed (never the key),
a missing gateway key says what to set and where, and an integration is named with its company
("Cal.com · <company>") everywhere."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changelog.models import Change
from integrations_app import credentials, services
from integrations_app.models import Company, Integration

pytestmark = pytest.mark.django_db
CAL_KEY = "cal_test_canary_0123456789abcdef"
ADD_URL = reverse("admin:integrations_app_integration_add")


@pytest.fixture
def admin_client(admin_client):
    """The admin's pages in English (the tiers run in German)."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


@pytest.fixture
def company():
    return Company.objects.create(name="Praxis Dr. Titel")


def typed(company, **changes):
    return {"company": company.pk, "new_api_key": CAL_KEY, "event_type_id": "4711",
            "team_slug": "praxis-team", "team_id": "815", "environment": "staging",
            "is_active": "on", "description": "Termine der Praxis"} | changes  # fmt: skip


def assert_kept_except_the_key(page, company):
    """Everything typed is drawn again; the key field comes back empty."""
    text = page.text
    assert CAL_KEY not in text and CAL_KEY[-8:] not in text
    assert re.search(r'<input type="password" name="new_api_key"(?![^>]*value=)', text)
    assert 'name="event_type_id" value="4711"' in text
    assert 'name="team_slug" value="praxis-team"' in text
    assert 'name="team_id" value="815"' in text
    assert '<option value="staging" selected>' in text
    assert "Termine der Praxis</textarea>" in text
    assert f'<option value="{company.pk}" selected>' in text


def save(company, name=None):
    return credentials.save_core_integration(
        company_id=company.pk,
        provider="calcom",
        api_key=CAL_KEY,
        settings=credentials.IntegrationSettings(event_type_id=4711),
    )


def test_a_missing_key_says_what_to_set_where_and_keeps_the_input(
    settings, admin_client, company, english
):
    settings.GATEWAY_APP_KEY = ""
    url = f"{ADD_URL}?provider=calcom"
    page = admin_client.get(url)  # said before anything is typed
    assert "Keys cannot be saved: GATEWAY_APP_KEY is not set" in page.text
    response = admin_client.post(url, typed(company))
    assert response.status_code == 200  # refused, drawn again
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert "GATEWAY_APP_KEY is not set" in errors[0]
    assert "environment or in the .env file" in errors[0] and "restart" in errors[0]
    assert response.text.count("GATEWAY_APP_KEY is not set") == 1  # once, above the form
    assert_kept_except_the_key(response, company)
    assert not Integration.objects.exists()


def test_the_missing_key_is_said_in_german(settings, admin_client, company):
    settings.GATEWAY_APP_KEY = ""
    data = typed(company)
    response = admin_client.post(f"{ADD_URL}?provider=calcom", data, HTTP_ACCEPT_LANGUAGE="de")
    assert "GATEWAY_APP_KEY ist nicht gesetzt" in response.text
    assert "in der Datei .env neben manage.py" in response.text and "neu starten" in response.text


def test_a_refusal_at_saving_keeps_the_input(gateway_key, admin_client, company, english):
    save(company)  # the company has its active Cal.com integration already
    response = admin_client.post(f"{ADD_URL}?provider=calcom", typed(company))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already has an active Cal.com integration" in str(errors)
    assert_kept_except_the_key(response, company)
    assert Integration.objects.count() == 1


def test_a_refused_event_type_id_gets_its_own_error_only(gateway_key, admin_client, company):
    url = f"{ADD_URL}?provider=calcom"
    refused = admin_client.post(url, typed(company, event_type_id="-5"), HTTP_ACCEPT_LANGUAGE="de")
    errors = refused.context["adminform"].form.errors["event_type_id"]
    assert errors == ["Dieser Wert muss größer oder gleich 1 sein."]  # not "… braucht die …-ID"
    empty = admin_client.post(url, typed(company, event_type_id=""))
    assert empty.context["adminform"].form.errors["event_type_id"] == [
        "Cal.com needs the event type id to book."
    ]
    assert not Integration.objects.exists()


def test_a_refused_form_asks_for_the_typed_key_again(gateway_key, admin_client, company):
    url = f"{ADD_URL}?provider=calcom"
    note = "Aus Sicherheitsgründen neu eingeben"
    german = admin_client.post(url, typed(company, event_type_id="-5"), HTTP_ACCEPT_LANGUAGE="de")
    assert note in german.text
    assert CAL_KEY not in german.text and CAL_KEY[-8:] not in german.text
    english = admin_client.post(url, typed(company, event_type_id="-5"))
    assert "Enter the key again (it is never sent back to the page)." in english.text
    assert re.search(r'<input type="password" name="new_api_key"(?![^>]*value=)', english.text)
    # No key typed: nothing to type again (the missing key has its own error).
    untyped = admin_client.post(url, typed(company, new_api_key=""), HTTP_ACCEPT_LANGUAGE="de")
    assert untyped.status_code == 200 and note not in untyped.text
    assert note not in admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").text


def test_add_another_kind_keeps_the_company(gateway_key, admin_client, company):
    page = admin_client.get(f"{ADD_URL}?provider=calcom&company={company.pk}")
    for provider in ("calcom", "retell", "webhook"):
        assert f'href="{ADD_URL}?provider={provider}&amp;company={company.pk}"' in page.text
    refused = admin_client.post(f"{ADD_URL}?provider=retell", {"company": company.pk})
    assert f'href="{ADD_URL}?provider=calcom&amp;company={company.pk}"' in refused.text
    other = admin_client.get(f"{ADD_URL}?provider=retell&company={company.pk}")
    assert f'<option value="{company.pk}" selected>' in other.text
    existing = save(company)  # its page offers the other kinds for its company
    change = admin_client.get(
        reverse("admin:integrations_app_integration_change", args=[existing.pk])
    )
    assert f'href="{ADD_URL}?provider=retell&amp;company={company.pk}"' in change.text


def test_only_a_stored_key_can_be_removed(gateway_key, admin_client, company):
    new = admin_client.get(f"{ADD_URL}?provider=calcom")
    assert 'name="new_api_key"' in new.text and 'name="remove_api_key"' not in new.text
    integration = save(company)
    change_url = reverse("admin:integrations_app_integration_change", args=[integration.pk])
    assert 'name="remove_api_key"' in admin_client.get(change_url).text
    # A row without a key (the placeholder an audit fix creates): nothing to remove.
    other = Company.objects.create(name="Platzhalter GmbH")
    keyless = Integration.objects.create(
        company=other, provider="calcom", name="Cal.com", type="calendar", status="pending",
        is_active=False,
    )  # fmt: skip
    keyless_url = reverse("admin:integrations_app_integration_change", args=[keyless.pk])
    page = admin_client.get(keyless_url)
    assert 'name="new_api_key"' in page.text and 'name="remove_api_key"' not in page.text
    assert "remove the stored key" not in page.text


def test_an_integration_is_named_with_its_company_everywhere(
    gateway_key, admin_client, company, english
):
    title = "Cal.com · Praxis Dr. Titel"
    response = admin_client.post(f"{ADD_URL}?provider=calcom", typed(company))
    assert response.status_code == 302
    integration = Integration.objects.get()
    assert str(integration) == title
    args = [integration.pk]
    pages = {
        "change": reverse("admin:integrations_app_integration_change", args=args),
        "history": reverse("admin:integrations_app_integration_history", args=args),
        "delete": reverse("admin:integrations_app_integration_delete", args=args),
    }
    texts = {name: admin_client.get(url).text for name, url in pages.items()}
    for name, text in texts.items():
        breadcrumbs = text.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0]
        assert title in breadcrumbs, name
    assert f"<title>{title} | Change integration" in texts["change"]
    assert f"<h2>{title}</h2>" in texts["change"]
    assert f"<h1>Change history: {title}</h1>" in texts["history"]
    assert f'delete the integration "{title}"?' in texts["delete"]
    assert f'Integration: <a href="{pages["change"]}">{title}</a>' in texts["delete"]
    listing = admin_client.get(reverse("admin:integrations_app_integration_changelist")).text
    assert f'<a href="{pages["change"]}">{title}</a>' in listing
    assert LogEntry.objects.get().object_repr == title  # the admin's own log
    assert set(
        Change.objects.filter(table="integrations").values_list("object_repr", flat=True)
    ) == {title}


def test_a_title_without_a_company_row_says_so(english):
    integration = Integration(company_id=987654, provider="retell", name="Retell", type="x")
    assert str(integration) == "Retell AI · missing (987654)"
    assert str(Integration(provider="webhook", name="CRM-Hook", type="webhook")).startswith(
        "CRM-Hook · "
    )


def test_bulk_writes_label_their_rows_in_a_fixed_number_of_queries(gateway_key):
    def rows(count):
        made = []
        for index in range(count):
            company = Company.objects.create(name=f"Firma {count}-{index}")
            made.append(save(company))
        return made

    def queries(integrations):
        values = {row.pk: {"description": "geprüft"} for row in integrations}
        with CaptureQueriesContext(connection) as captured:
            services.update_rows(model=Integration, values=values)
        return len(captured.captured_queries)

    few, more = rows(2), rows(6)
    assert queries(few) == queries(more)
    labels = Change.objects.filter(table="integrations", action="update").values_list(
        "object_repr", flat=True
    )
    assert sorted(labels) == sorted(
        f"Cal.com · Firma {n}-{i}" for n, i in [(2, 0), (2, 1)] + [(6, i) for i in range(6)]
    )


def test_audit_rows_name_an_integration_as_its_pages_do():
    from tests import audit_rows as r

    praxis = r.company("Praxis Audit")
    no_tenant = r.integration(praxis, "retell", tenant_id="")
    pasted = r.integration(praxis, "calcom", credentials={"api_key": "cal_live_0123456789abcdef"})
    hook = r.integration(
        None, "webhook", name="CRM-Hook", type="webhook", config={"token": "ab" * 20}
    )
    assert r.rows("AUD-INT-003")[no_tenant.pk].label == "Retell AI · Praxis Audit"
    secrets = r.rows("AUD-SEC-002")
    assert secrets[pasted.pk].label == "Cal.com · Praxis Audit" == str(pasted)
    assert secrets[hook.pk].label == str(hook) and secrets[hook.pk].label.startswith("CRM-Hook · ")
