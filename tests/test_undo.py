"""Undo of an import or a fix run from the change store's before-images (issue 10, point 5)."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from changelog.models import Change, Operation, Source
from changelog.recording import operation
from integrations_app import services
from integrations_app.models import Branch, Company, PhoneNumber
from integrations_app.services.undo import StaleUndo, UndoError, apply_undo, plan_undo
from tests import admin_rows, support

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def world():
    return admin_rows.build(0, 3)


@pytest.fixture
def manager(db):
    user = User.objects.create_user("manager", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["undo_operation", "view_operation", "view_change"])
    )
    return user


def run_fix_like(user=None) -> Operation:
    """An operation as a fix writes it: one row created, one row changed."""
    company = Company.objects.order_by("pk").first()
    number = PhoneNumber.objects.order_by("pk").first()
    with operation(source=Source.FIX, name="test-fix", user=user, reason="test") as context:
        services.create_rows(rows=[Branch(company=company, name="Hauptfiliale")])
        services.update_rows(model=PhoneNumber, values={number.pk: {"description": "fixed"}})
    return Operation.objects.get(cid=context.cid)


def test_preview_lists_every_reverse_write(world):
    op = run_fix_like()
    plan = plan_undo(op=op)
    kinds = sorted((s.table, s.kind) for s in plan.writes)
    assert kinds == [("branches", "remove"), ("phone_numbers", "revert")]
    assert not plan.refused
    revert = next(s for s in plan.writes if s.kind == "revert")
    assert revert.after == {"description": None}
    assert revert.before == {"description": "fixed"}


def test_undo_restores_every_row_and_is_recorded(world, manager):
    op = run_fix_like()
    number = PhoneNumber.objects.order_by("pk").first()
    branch = Branch.objects.get(name="Hauptfiliale")
    undo = apply_undo(op_id=op.pk, digest=plan_undo(op=op).digest, user=manager, reason="wrong")
    number.refresh_from_db()
    assert number.description is None
    assert Branch.all_objects.get(pk=branch.pk).deleted_at is not None  # soft, as the gateway
    assert not Branch.objects.filter(pk=branch.pk).exists()
    assert (undo.source, undo.undo_of_id, undo.user, undo.reason) == (
        "undo",
        op.pk,
        manager,
        "wrong",
    )
    written = {(c.table, c.action) for c in Change.objects.filter(operation=undo)}
    assert written == {("branches", "delete"), ("phone_numbers", "update")}


def test_second_undo_is_refused_and_writes_nothing(world):
    op = run_fix_like()
    digest = plan_undo(op=op).digest
    apply_undo(op_id=op.pk, digest=digest)
    before = Change.objects.count()
    with pytest.raises(UndoError, match="already undone"):
        apply_undo(op_id=op.pk, digest=digest)
    assert Change.objects.count() == before


def test_a_row_changed_since_is_refused_and_the_rest_needs_confirmation(world):
    op = run_fix_like()
    number = PhoneNumber.objects.order_by("pk").first()
    services.update_rows(model=PhoneNumber, values={number.pk: {"description": "by hand"}})
    plan = plan_undo(op=op)
    (refused,) = plan.refused
    assert refused.table == "phone_numbers"
    assert "description" in refused.refused and "by hand" in refused.refused
    count = Change.objects.count()
    with pytest.raises(UndoError, match="confirm"):
        apply_undo(op_id=op.pk, digest=plan.digest)
    assert Change.objects.count() == count
    apply_undo(op_id=op.pk, digest=plan.digest, partial=True)
    number.refresh_from_db()
    assert number.description == "by hand"  # left as the person made it
    assert not Branch.objects.filter(name="Hauptfiliale").exists()


def test_every_row_changed_since_means_nothing_to_undo(world):
    op = run_fix_like()
    number = PhoneNumber.objects.order_by("pk").first()
    services.update_rows(model=PhoneNumber, values={number.pk: {"description": "by hand"}})
    services.delete_records(queryset=Branch.objects.filter(name="Hauptfiliale"))
    plan = plan_undo(op=op)
    assert not plan.writes
    with pytest.raises(UndoError, match="every row changed"):
        apply_undo(op_id=op.pk, digest=plan.digest, partial=True)


def test_a_stale_preview_is_shown_again(world):
    op = run_fix_like()
    digest = plan_undo(op=op).digest
    number = PhoneNumber.objects.order_by("pk").first()
    services.update_rows(model=PhoneNumber, values={number.pk: {"description": "meanwhile"}})
    with pytest.raises(StaleUndo):
        apply_undo(op_id=op.pk, digest=digest, partial=True)


def test_a_removed_row_comes_back(world):
    number = PhoneNumber.objects.order_by("pk").first()
    with operation(source=Source.IMPORT, name="x.csv") as context:
        services.delete_records(queryset=PhoneNumber.objects.filter(pk=number.pk))
    op = Operation.objects.get(cid=context.cid)
    apply_undo(op_id=op.pk, digest=plan_undo(op=op).digest)
    back = PhoneNumber.objects.get(pk=number.pk)
    assert (back.number, back.company_id, back.branch_id) == (
        number.number,
        number.company_id,
        number.branch_id,
    )


def test_only_imports_and_fix_runs_can_be_undone(world):
    company = Company.objects.first()
    with operation(source=Source.ADMIN) as context:
        services.update_rows(model=Company, values={company.pk: {"city": "Hamburg"}})
    with pytest.raises(UndoError):
        plan_undo(op=Operation.objects.get(cid=context.cid))


def test_reason_required_by_setting(world, settings):
    settings.CHANGE_REASON_REQUIRED = True
    op = run_fix_like()
    with pytest.raises(UndoError, match="reason"):
        apply_undo(op_id=op.pk, digest=plan_undo(op=op).digest)
    assert not Operation.objects.filter(undo_of=op).exists()


def test_undo_pages(client, world, manager):
    op = run_fix_like()
    client.force_login(manager)
    page = client.get(reverse("admin:changelog_operation_change", args=[op.pk]))
    assert page.status_code == 200
    undo_url = reverse("admin:changelog_operation_undo", args=[op.pk])
    assert undo_url in page.text
    preview = client.get(undo_url)
    assert preview.status_code == 200
    digest = preview.context["plan"].digest
    done = client.post(undo_url, {"digest": digest, "reason": "falsch"})
    assert done.status_code == 302
    assert Operation.objects.get(undo_of=op).reason == "falsch"
    again = client.post(undo_url, {"digest": digest})
    assert again.status_code in (302, 409)
    assert Operation.objects.filter(undo_of=op).count() == 1


def test_undo_without_permission_is_refused_and_writes_nothing(client, world):
    op = run_fix_like()
    user = User.objects.create_user("support", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_operation"))
    client.force_login(user)
    url = reverse("admin:changelog_operation_undo", args=[op.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"digest": plan_undo(op=op).digest}).status_code == 403
    assert not Operation.objects.filter(undo_of=op).exists()


@pytest.mark.django_db(transaction=True)
def test_two_undos_at_once_one_wins(mysql_only):
    admin_rows.build(0, 2)
    op = run_fix_like()
    digest = plan_undo(op=op).digest

    def undo():
        try:
            apply_undo(op_id=op.pk, digest=digest)
        except UndoError as refusal:
            return refusal.message
        return "done"

    outcomes = support.at_the_same_moment(undo, undo)
    assert len(outcomes) == 2 and outcomes.count("done") == 1, outcomes
    assert Operation.objects.filter(undo_of=op).count() == 1


def test_a_number_taken_since_is_not_put_back(world):
    """Undo follows the number rules: a number another row claims now stays with that row."""
    first, second = PhoneNumber.objects.order_by("pk")[:2]
    old = first.number
    with operation(source=Source.IMPORT, name="renumber.csv") as context:
        services.update_rows(
            model=PhoneNumber,
            values={first.pk: {"number": "+4930999888", "number_normalized": "+4930999888"}},
        )
    services.update_rows(
        model=PhoneNumber,
        values={second.pk: {"number": old, "number_normalized": old, "phone_number": old}},
    )
    plan = plan_undo(op=Operation.objects.get(cid=context.cid))
    (refused,) = plan.refused
    assert old in refused.refused and "another number" in refused.refused
    assert not plan.writes


def test_a_created_row_holding_a_key_is_not_removed(world, gateway_key):
    from integrations_app.crypto.encrypter import Encrypter
    from integrations_app.models import Integration

    company = Company.objects.order_by("pk").first()
    payload = Encrypter.from_settings().encrypt_string("cal_test_undo_key_123")
    with operation(source=Source.FIX, name="move-secrets") as context:
        services.create_rows(
            rows=[
                Integration(
                    company=company,
                    name="Cal.com",
                    type="calendar",
                    provider="calcom",
                    api_key=payload,
                )
            ],
            allow_secrets=True,
        )
    plan = plan_undo(op=Operation.objects.get(cid=context.cid))
    (refused,) = plan.refused
    assert "key" in refused.refused
    stored = Change.objects.get(operation__cid=context.cid)
    assert "cal_test_undo_key_123" not in str(stored.after)
    assert payload not in str(stored.after)


def test_the_same_instant_and_the_same_decimal_compare_equal():
    from integrations_app.models import Company as C
    from integrations_app.services.snapshots import same_value

    assert same_value(C, "created_at", "2025-09-22T10:00:00+00:00", "2025-09-22T12:00:00+02:00")
    assert not same_value(C, "created_at", "2025-09-22T10:00:00+00:00", "2025-09-22T10:00:01+00:00")
    assert same_value(C, "calcom_team_id", 5, "5")
