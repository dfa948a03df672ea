"""Every row a fix writes is in that row's history: one operation (source "fix") per run.

On the demo data, each fix that has something to do is applied (in rounds, as a person would:
a number can be attached only once its company has a branch); then the admin history page of
every row it wrote shows the change: the fix's operation, its reason and the new values.
"""

from io import StringIO

import pytest
from django.contrib.admin.utils import quote
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from audit_app.fixes import service
from audit_app.fixes.base import all_fixes
from audit_app.models import FixRecord
from changelog.models import Change, Operation, Source
from integrations_app.admin.history import MODELS_BY_TABLE, shown_value
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import Branch, Company

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def reason_for(fix_id: str) -> str:
    return f"Readiness review: {fix_id}"


def apply_every_fix(user) -> dict[str, FixRecord]:
    """Apply each fix with something to do, in rounds, until none has anything left."""
    records = {}
    for _round in range(3):
        applied = False
        for fix in all_fixes():
            plan = service.preview(fix.id)
            if plan.empty:
                continue
            records[f"{fix.id}#{_round}"] = service.apply_fix(
                fix_id=fix.id, digest=plan.digest, user=user, reason=reason_for(fix.id)
            )
            applied = True
        if not applied:
            break
    assert all(service.preview(fix.id).empty for fix in all_fixes())
    return records


def history_url(change: Change) -> str:
    model = MODELS_BY_TABLE[change.table]
    meta = model._meta
    return reverse(
        f"admin:{meta.app_label}_{meta.model_name}_history", args=[quote(change.object_pk)]
    )


def test_every_row_a_fix_wrote_shows_the_fix_in_its_history(admin_client, admin_user, gateway_key):
    call_command("seed_demo", stdout=StringIO())
    records = apply_every_fix(admin_user)
    applied = {record.fix_id for record in records.values()}
    assert applied >= {
        "create-main-branch",
        "normalize-numbers",
        "attach-numbers-to-branch",
        "attach-staff-to-branch",
        "calcom-placeholder",
        "retell-placeholder",
        "default-templates",
        "first-contact-interactions",
    }

    checked = 0
    for record in records.values():
        operation = record.operation
        # The operation: who, why, where from; the record counts its rows.
        assert operation is not None
        assert (operation.source, operation.name) == (Source.FIX, record.fix_id)
        assert operation.user == admin_user and record.applied_by == admin_user
        assert operation.reason == record.reason == reason_for(record.fix_id)
        changes = list(Change.objects.filter(operation=operation).order_by("id"))
        assert len(changes) == record.created_count + record.changed_count > 0
        assert {c.action for c in changes} <= {"create", "update"}

        for change in changes:
            response = admin_client.get(history_url(change))
            assert response.status_code == 200, (record.fix_id, change)
            page = response.text
            # The fix's operation, linked, with its reason and the user.
            operation_url = reverse("admin:changelog_operation_change", args=[operation.pk])
            assert f'href="{operation_url}"' in page
            assert escape(str(operation)) in page  # "Audit fix: <fix id>"
            assert escape(operation.reason) in page
            assert admin_user.get_username() in page
            # A value the fix wrote, as the page shows it.
            model = MODELS_BY_TABLE[change.table]
            column, value = next(
                (c, v)
                for c, v in change.after.items()
                if c not in model.SECRET_COLUMNS and v not in (None, "", {}, [])
            )
            field = next(f for f in model._meta.concrete_fields if f.attname == column)
            if field.is_relation:  # a key to another row shows as that row's name
                shown = str(field.related_model._base_manager.get(pk=value))
            else:
                shown = shown_value(model, column, value)
            assert escape(shown) in page, (change.table, column)
            checked += 1
    assert checked == Change.objects.filter(operation__source=Source.FIX).count()
    assert checked == sum(r.created_count + r.changed_count for r in records.values())


def test_each_run_is_one_operation_and_a_refused_run_none(admin_user):
    call_command("seed_demo", stdout=StringIO())
    plan = service.preview("create-main-branch")
    service.apply_fix(fix_id="create-main-branch", digest=plan.digest, user=admin_user)
    with pytest.raises(service.NothingToDo):
        service.apply_fix(fix_id="create-main-branch", digest=plan.digest, user=admin_user)
    operations = Operation.objects.filter(source=Source.FIX)
    assert operations.count() == 1
    operation = operations.get()
    assert operation.fix_record.fix_id == "create-main-branch"
    assert operation.reason == "" and operation.user == admin_user


def test_the_moved_keys_show_in_the_history_by_fingerprint_only(
    admin_client, admin_user, gateway_key
):
    key = "cal_test_history_canary_0001"
    company = Company.objects.create(name="Praxis Klartext")
    Company.all_objects.filter(pk=company.pk).update(calcom_v2_api_key=key)
    branch = Branch.objects.create(company=company, name="Mitte")
    Branch.all_objects.filter(pk=branch.pk).update(calcom_api_key=key)
    plan = service.preview("move-plaintext-secrets")
    record = service.apply_fix(
        fix_id="move-plaintext-secrets",
        digest=plan.digest,
        user=admin_user,
        reason=reason_for("move-plaintext-secrets"),
    )
    operation = record.operation
    assert (operation.source, operation.user, operation.reason) == (
        Source.FIX,
        admin_user,
        reason_for("move-plaintext-secrets"),
    )
    changes = list(Change.objects.filter(operation=operation))
    assert {(c.table, c.action) for c in changes} == {
        ("integrations", "create"),
        ("companies", "update"),
        ("branches", "update"),
    }
    for change in changes:
        page = admin_client.get(history_url(change)).text
        assert escape(str(operation)) in page and escape(operation.reason) in page
        assert fingerprint(key) in page  # "set · fingerprint …" before or after
        assert key not in page
