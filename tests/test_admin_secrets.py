"""A secret in the database shows on no admin page, history entry, search or filter."""

import pytest
from django.urls import reverse

from changelog.models import Change, Operation
from integrations_app.models import (
    GATEWAY_MODELS,
    Branch,
    Company,
    Integration,
    PhoneNumber,
    Staff,
)
from tests import admin_rows
from tests.admin_rows import CANARY, admin_url, changelist_url

pytestmark = pytest.mark.django_db

# Distinctive parts of the canary too: no page may show even a piece of it.
PIECES = (CANARY, "canary_123456", "cal_test_canary")


@pytest.fixture
def secrets_planted():
    rows = admin_rows.one_of_each()
    encrypted = "eyJpdiI6" + CANARY  # shaped like a Laravel payload (CHECK constraint)
    Company.objects.update(
        calcom_api_key=encrypted,
        calcom_v2_api_key=CANARY,
        retell_api_key=encrypted,
        webhook_signing_secret=CANARY,
        google_calendar_credentials=f'{{"refresh_token": "{CANARY}"}}',
    )
    Branch.objects.update(calcom_api_key=CANARY)
    Staff.objects.update(
        google_calendar_token=CANARY,
        google_refresh_token=CANARY,
        outlook_access_token=CANARY,
        outlook_refresh_token=CANARY,
    )
    Integration.objects.update(
        api_key=CANARY,
        api_secret=CANARY,
        access_token=CANARY,
        refresh_token=CANARY,
        webhook_secret=CANARY,
        credentials={"api_key": CANARY},
    )
    return rows


def assert_no_secret(response, where):
    assert response.status_code in (200, 302), (where, response.status_code)
    text = response.content.decode()
    for piece in PIECES:
        assert piece not in text, f"{piece!r} shown on {where}"


def make_history(client, rows):
    """Changes of every kind through the admin, so the history has entries to show."""
    company = rows[Company]
    staff = rows[Staff]
    client.post(admin_url(staff), {"name": "Neu", "company": company.pk, "branch": staff.branch_id})
    Staff.objects.filter(pk=staff.pk).update(name="Umbenannt")
    client.post(admin_url(rows[Branch], "delete"), {"post": "yes"})
    client.post(admin_url(rows[Integration], "delete"), {"post": "yes"})
    client.post(
        changelist_url(PhoneNumber),
        {"action": "delete_selected", "_selected_action": [rows[PhoneNumber].pk], "post": "yes"},
    )


def test_secrets_appear_on_no_admin_page(admin_client, secrets_planted):
    rows = secrets_planted
    make_history(admin_client, rows)
    assert Change.objects.count() >= 4

    pages = [reverse("admin:index")]
    for model in GATEWAY_MODELS:
        pages.append(changelist_url(model))
        obj = rows[model]
        if model._default_manager.filter(pk=obj.pk).exists():
            pages += [admin_url(obj), admin_url(obj, "history")]
            if model._meta.model_name in ("company", "staff", "branch"):
                pages.append(admin_url(obj, "delete"))
    pages.append(reverse("admin:changelog_operation_changelist"))
    pages.append(reverse("admin:changelog_change_changelist"))
    pages += [
        reverse("admin:changelog_operation_change", args=[o.pk]) for o in Operation.objects.all()
    ]
    pages += [reverse("admin:changelog_change_change", args=[c.pk]) for c in Change.objects.all()]
    for page in pages:
        assert_no_secret(admin_client.get(page), page)


def test_history_records_hold_no_secret(admin_client, secrets_planted):
    make_history(admin_client, secrets_planted)
    changes = list(Change.objects.all())
    assert {c.action for c in changes} >= {"update", "delete"}
    for change in changes:
        stored = f"{change.before} {change.after} {change.object_repr}"
        for piece in PIECES:
            assert piece not in stored, change


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (Company, "calcom_v2_api_key"),
        (Company, "webhook_signing_secret"),
        (Staff, "google_refresh_token"),
        (Integration, "api_key"),
        (Integration, "credentials"),
        (Branch, "company__calcom_api_key"),
        (PhoneNumber, "company__retell_api_key"),
    ],
)
def test_secrets_cannot_be_probed_through_list_lookups(
    admin_client, secrets_planted, model, column
):
    url = f"{changelist_url(model)}?{column}__startswith=cal_test"
    assert admin_client.get(url).status_code == 400


def test_search_does_not_look_into_secrets(admin_client, secrets_planted):
    for model in GATEWAY_MODELS:
        response = admin_client.get(changelist_url(model), {"q": "canary_123456"})
        assert response.status_code == 200
        assert response.context["cl"].result_count == 0, model
    for name in ("operation", "change"):
        response = admin_client.get(
            reverse(f"admin:changelog_{name}_changelist"), {"q": "canary_123456"}
        )
        assert response.context["cl"].result_count == 0
