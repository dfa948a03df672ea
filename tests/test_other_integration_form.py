"""The form of the other kinds (webhook, API, OAuth 2), reached by "Add another kind": the
same environment choices as the Cal.com form, no "null" for no configuration, a type that says
what it is, and a secret refused from the configuration with words that fit this form and
without drawing the secret again (walkthrough of the German demo)."""

import json
import re

import pytest
from django.urls import reverse

from integrations_app.models import Integration
from tests import fake_providers as fp

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_client):
    """The admin's pages in English (the tiers run in German)."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


ADD_URL = reverse("admin:integrations_app_integration_add")
SECRET = "geheim-canary-4711"


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


def config_textarea(html: str) -> str:
    return re.search(r'<textarea name="config"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def typed(company, **changes):
    return {"company": company.pk, "name": "Mein Hook", "type": "webhook",
            "provider": "webhook", "status": "active", "is_active": "on",
            "environment": "staging", "config": ""} | changes  # fmt: skip


def test_the_other_kinds_form_offers_what_the_calcom_form_offers(admin_client):
    page = admin_client.get(f"{ADD_URL}?provider=webhook").text
    environments = options(page, "environment")
    assert environments == options(
        admin_client.get(f"{ADD_URL}?provider=calcom").text, "environment"
    )
    assert [value for value, _label in environments] == ["production", "staging", "test"]
    assert ("production", "Production") in environments
    assert '<option value="production" selected>' in page
    assert config_textarea(page).strip() == ""  # no configuration is no "null"
    assert "What kind of service this is" in page  # the type says what it is


def test_a_row_the_gateway_wrote_with_another_environment_keeps_it(admin_client):
    row = Integration.objects.create(
        company=fp.make_company(), name="Hook", type="webhook", provider="webhook",
        environment="sandbox", config={"url_path": "/hook"},
    )  # fmt: skip
    page = admin_client.get(reverse("admin:integrations_app_integration_change", args=[row.pk]))
    assert '<option value="sandbox" selected>Sandbox</option>' in page.text
    assert "url_path" in config_textarea(page.text)


def test_a_secret_in_the_configuration_is_refused_and_not_drawn_again(admin_client):
    company = fp.make_company()
    config = json.dumps({"api_key": SECRET, "region": "eu"})
    response = admin_client.post(f"{ADD_URL}?provider=webhook", typed(company, config=config))
    assert response.status_code == 200 and not Integration.objects.exists()
    assert SECRET not in response.content.decode()  # nowhere in the page, not in the field
    assert config_textarea(response.text).strip() == ""
    errors = " ".join(response.context["adminform"].form.errors["config"])
    assert "config.api_key" in errors and "no key field" in errors
    assert "gateway's environment" in errors
    assert "key field instead" not in errors  # this form has none
    assert 'name="name" value="Mein Hook"' in response.text  # the rest is kept
    assert '<option value="staging" selected>' in response.text

    saved = admin_client.post(f"{ADD_URL}?provider=webhook", typed(company, config=""))
    assert saved.status_code == 302
    row = Integration.objects.get()
    assert (row.environment, row.config) == ("staging", None)
