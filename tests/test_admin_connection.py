"""The connection test from the admin: a button on the integration and a bulk action."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from changelog.models import Operation, Source
from integrations_app.models import Integration
from tests import fake_providers as fp

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    company = fp.make_company()
    fp.make_numbers(company)
    return company


def test_the_button_tests_and_shows_the_result(fake, admin_client, company):
    integration = fp.make_integration(company, "calcom")
    change_url = reverse("admin:integrations_app_integration_change", args=[integration.pk])
    page = admin_client.get(change_url, HTTP_ACCEPT_LANGUAGE="en")
    test_url = reverse("admin:integrations_app_integration_test", args=[integration.pk])
    assert test_url in page.text and "Test the connection" in page.text

    assert admin_client.get(test_url).status_code == 405  # a GET never calls a provider
    assert not fake.calcom.received

    response = admin_client.post(test_url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[-1][0] == change_url
    integration.refresh_from_db()
    assert integration.health_status == "healthy" and integration.success_count == 1
    assert "the API key works" in response.text
    operation = Operation.objects.get(source=Source.CONNECTION_TEST)  # the admin's user
    assert operation.user.username == "admin" and operation.changes.count() == 1
    fp.assert_no_secret(response.text)


def test_the_button_reports_a_refused_key(fake, admin_client, company):
    fake.calcom.answer("/v2/me", status=401, json={"error": "unauthorized"})
    integration = fp.make_integration(company, "calcom")
    url = reverse("admin:integrations_app_integration_test", args=[integration.pk])
    response = admin_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    integration.refresh_from_db()
    assert integration.health_status == "unhealthy" and integration.error_count == 1
    assert "401" in response.text and "refused" in response.text
    # Named as every page names it ("Cal.com · <company>"), not "<company> · Cal.com".
    assert escape(f"Cal.com · {company.name}: ") in response.text
    assert escape(f"{company.name} · Cal.com") not in response.text
    fp.assert_no_secret(response.text, integration.last_error)


def test_the_bulk_action_tests_the_selected_integrations(fake, admin_client, company):
    calcom = fp.make_integration(company, "calcom")
    retell = fp.make_integration(company, "retell")
    response = admin_client.post(
        reverse("admin:integrations_app_integration_changelist"),
        {"action": "test_selected_connections", "_selected_action": [calcom.pk, retell.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    statuses = set(Integration.objects.values_list("health_status", flat=True))
    assert statuses == {"healthy"}
    assert len(fake.calcom.requests_to("/v2/me")) == 1
    fp.assert_no_secret(response.text)


def test_the_button_needs_the_change_permission(fake, client, django_user_model, company):
    integration = fp.make_integration(company, "calcom")
    viewer = django_user_model.objects.create_user(
        "viewer", password="x-test-pass-1", is_staff=True
    )
    client.force_login(viewer)
    url = reverse("admin:integrations_app_integration_test", args=[integration.pk])
    assert client.post(url).status_code == 403
    assert not fake.calcom.received
