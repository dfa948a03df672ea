"""Secrets never leak: a canary key set through the real write path appears on no page or log."""

import logging

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from integrations_app import credentials
from integrations_app.models import Company, Integration

pytestmark = pytest.mark.django_db
CANARIES = ("cal_test_canary_5f3a9c1e7b2d4", "key_test_canary_8e6d4b2a0c9f1")


def admin_pages(rows):
    """Every admin page of the console: index, changelists, add, change, history, delete."""
    yield reverse("admin:index")
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        yield reverse(f"{base}_changelist")
        yield reverse(f"{base}_changelist") + "?q=canary"
        if model_admin.has_add_permission(_Request()):
            yield reverse(f"{base}_add")
        for obj in rows.get(model, []):
            for view in ("change", "history", "delete"):
                try:
                    yield reverse(f"{base}_{view}", args=[obj.pk])
                except NoReverseMatch:
                    continue


class _Request:
    class user:  # noqa: N801 (a stand-in for request.user)
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(*args, **kwargs):
            return True


def test_the_canary_appears_on_no_page_and_in_no_log(gateway_key, admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    company = Company.objects.create(name="Praxis Kanarienvogel")
    calcom = credentials.save_core_integration(
        company_id=company.pk, provider="calcom", api_key=CANARIES[0],
        settings=credentials.IntegrationSettings(event_type_id=4711),
    )  # fmt: skip
    retell = credentials.save_core_integration(
        company_id=company.pk, provider="retell", api_key=CANARIES[1],
        settings=credentials.IntegrationSettings(agent_id="agent_test_canary"),
    )  # fmt: skip
    company.refresh_from_db()
    stored = [calcom.api_key, retell.api_key, company.calcom_api_key, company.retell_api_key]
    rows = {
        Company: [company],
        Integration: [calcom, retell],
        LogEntry: list(LogEntry.objects.all()),
    }
    pages = 0
    for url in admin_pages(rows):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 403), (url, response.status_code)
        body = response.content.decode()
        for canary in CANARIES:
            assert canary not in body and canary[-10:] not in body, url
        for ciphertext in stored:
            assert ciphertext[:40] not in body, url  # not even the encrypted form
        pages += 1
    assert pages > 40
    for canary in CANARIES:
        assert canary not in caplog.text and canary[-10:] not in caplog.text
