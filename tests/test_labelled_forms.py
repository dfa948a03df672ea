"""Walkthrough 2: a form shows a free-text column with declared labels (labels.py) as a select
of its labels, keeps a value nobody declared, and names things as the rest of the console."""

import json
import re
from html import unescape

import pytest
from django.utils import translation

from changelog.models import Source
from changelog.recording import operation
from integrations_app import labels, services
from integrations_app.admin.history import column_label
from integrations_app.models import Company, Customer, Integration, PhoneNumber
from tests.admin_rows import admin_url, changelist_url
from tests.test_admin_writes import management_forms

pytestmark = pytest.mark.django_db


def page(client, url, language="de"):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def select(html: str, name: str) -> dict[str, str]:
    """The options of the select ``name``: {value: text}; the chosen one marked with a *."""
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found, f"{name} is no select"
    return {
        value + ("*" if chosen else ""): text.strip()
        for value, chosen, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', found.group(1)
        )
    }


def company_form(company, **changes) -> dict:
    data = {
        "name": company.name,
        "slug": company.slug,
        "country": company.country,
        "timezone": company.timezone,
        "default_language": company.default_language,
        "industry": company.industry or "",
        "is_active": "on",
        "active": "on",
        "billing_status": company.billing_status,
        **management_forms(branches=0, phone_numbers=0),
    }
    return data | changes


def test_the_company_form_offers_industry_language_and_country_by_their_labels(admin_client):
    """07-company-2.png: „Branche: beauty“, „Standardsprache: de“, „Land: DE“ as free text."""
    company = Company.objects.create(name="Salon Haarmonie", slug="haarmonie", industry="beauty")
    html = page(admin_client, admin_url(company))
    industry = select(html, "industry")
    assert industry["beauty*"] == "Schönheit und Kosmetik"
    assert industry[""] == "---------" and industry["dental"] == "Zahnarztpraxis"
    assert select(html, "default_language") == {"de*": "Deutsch", "en": "Englisch"}
    assert select(html, "country") == {"DE*": "Deutschland", "AT": "Österreich", "CH": "Schweiz"}
    with translation.override("en"):
        assert select(page(admin_client, admin_url(company), "en"), "country")["DE*"] == "Germany"

    response = admin_client.post(admin_url(company), company_form(company, industry="dental"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Company.objects.get(pk=company.pk).industry == "dental"
    response = admin_client.post(admin_url(company), company_form(company, country="XX"))
    assert response.status_code == 200  # a value neither declared nor stored: refused
    assert "country" in response.context["adminform"].form.errors


def test_a_value_nobody_declared_stays_selectable_and_is_saved_unchanged(admin_client):
    company = Company.objects.create(name="Bäckerei Korn", slug="korn")
    with operation(source=Source.COMMAND, name="test"):
        company.industry, company.country, company.default_language = "bakery", "FR", "fr"
        services.save_record(instance=company, fields=["industry", "country", "default_language"])
    html = page(admin_client, admin_url(company))
    assert select(html, "industry")["bakery*"] == "bakery"  # shown as it is
    assert select(html, "country")["FR*"] == "FR"
    assert select(html, "default_language")["fr*"] == "fr"
    response = admin_client.post(admin_url(company), company_form(company, name="Bäckerei K."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = Company.objects.get(pk=company.pk)
    assert (saved.name, saved.industry, saved.country, saved.default_language) == (
        "Bäckerei K.",
        "bakery",
        "FR",
        "fr",
    )


def test_a_new_company_starts_with_the_gateways_defaults_chosen(admin_client):
    html = page(admin_client, "/admin/integrations_app/company/add/")
    assert select(html, "country")["DE*"] == "Deutschland"
    assert select(html, "default_language")["de*"] == "Deutsch"
    assert select(html, "industry")["*"] == "---------"  # no industry: allowed


# --- wording (walkthrough 2, point 3) ---------------------------------------------------------


def test_an_inline_adds_another_branch_in_lower_case_and_a_filiale_in_german(admin_client):
    company = Company.objects.create(name="Praxis Inline", slug="inline")
    english = add_texts(page(admin_client, admin_url(company), "en"))
    assert english == ["Add another branch", "Add another phone number"]
    assert add_texts(page(admin_client, admin_url(company))) == [
        "Filiale hinzufügen",
        "Telefonnummer hinzufügen",
    ]


def add_texts(html: str) -> list[str]:
    found = re.findall(r'data-inline-formset="([^"]*)"', html)
    return [json.loads(unescape(data))["options"]["addText"] for data in found]


def test_an_integration_names_its_tenant_id_like_its_other_ids(admin_client):
    company = Company.objects.create(name="Praxis Tenant", slug="tenant")
    with operation(source=Source.COMMAND, name="test"):
        integration = services.save_record(
            instance=Integration(
                company=company, name="Hook", type="webhook", provider="webhook", status="active"
            )
        )
    html = page(admin_client, admin_url(integration), "en")
    assert "Tenant ID:" in html and "Tenant id" not in html
    with translation.override("en"):
        assert column_label(Integration, "tenant_id") == "Tenant ID"


def test_a_number_whose_e164_form_is_missing_says_so_with_a_capital(admin_client):
    company = Company.objects.create(name="Praxis Lücke", slug="luecke")
    PhoneNumber.objects.create(company=company, number="+493099887766", number_normalized=None)
    html = page(admin_client, changelist_url(PhoneNumber), "en")
    assert '<span class="askpro-number-gap">Number (E.164): —</span>' in html


def test_german_date_filters_read_as_german(admin_client):
    html = page(admin_client, changelist_url(Integration))
    assert "Nach letzter Synchronisierung" in html and "Nach letzte " not in html
    assert "Nach letztem Anruf" in page(admin_client, changelist_url(Customer))
    english = page(admin_client, changelist_url(Integration), "en")
    assert "By last sync" in english


def test_a_team_slug_has_one_name_in_the_form_the_history_and_the_company_page(admin_client):
    from integrations_app.admin.credential_forms import CoreIntegrationForm

    fields = CoreIntegrationForm.base_fields
    for key, label in labels.KEYS[("integrations", "config")].items():
        assert fields[key].label is label
    with translation.override("de"):
        assert str(fields["team_slug"].label) == "Team-Slug"
        assert str(fields["new_api_key"].label) == "Neuer API-Schlüssel"
        company_label = str(Company._meta.get_field("calcom_team_slug").verbose_name)
        assert company_label == "Cal.com-Team-Slug"


def test_english_form_labels_start_with_a_capital(rf, admin_user):
    """Django capitalises list headers and read-only labels, not a form field's own label."""
    from django.contrib import admin

    from integrations_app.admin.credential_forms import CoreIntegrationForm

    request = rf.get("/")
    request.user = admin_user
    lower = []
    with translation.override("en"):
        forms = [("CoreIntegrationForm", CoreIntegrationForm)]
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label in ("integrations_app", "audit_app", "changelog"):
                forms.append((model.__name__, model_admin.get_form(request, None)))
        for name, form in forms:
            for field_name, field in form.base_fields.items():
                label = str(field.label or "")
                if label and not label[:1].isupper():
                    lower.append(f"{name}.{field_name}: {label}")
        for label in labels.CONFIG_KEYS.values():
            assert str(label)[:1].isupper(), label
    assert lower == []


def test_a_branchs_country_is_a_select_of_names_keeping_another_one(admin_client):
    from integrations_app.models import Branch

    company = Company.objects.create(name="Praxis Filiale", slug="filiale")
    branch = Branch.objects.create(company=company, name="Wien", country="Österreich")
    assert select(page(admin_client, admin_url(branch)), "country")["Österreich*"] == "Österreich"
    english = select(page(admin_client, admin_url(branch), "en"), "country")
    assert english == {"Deutschland": "Germany", "Österreich*": "Austria", "Schweiz": "Switzerland"}
    Branch.objects.filter(pk=branch.pk).update(country="Frankreich")
    assert select(page(admin_client, admin_url(branch)), "country")["Frankreich*"] == "Frankreich"
