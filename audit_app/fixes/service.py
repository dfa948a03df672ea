"""Previewing and applying a fix: one transaction, idempotent, safe when two people click."""

from django.db import transaction
from django.utils.translation import gettext as _

from audit_app.fixes.base import Plan, get_fix
from audit_app.models import FixLock, FixRecord
from changelog.recording import operation_from_label
from integrations_app.locks import hold_row_lock


class FixError(Exception):
    """Nothing was written; `message` says why, in the user's language."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class UnknownFix(FixError):
    pass


class NothingToDo(FixError):
    pass


class StalePlan(FixError):
    """The data changed since the preview: `plan` is the new preview to show instead."""

    def __init__(self, plan: Plan):
        self.plan = plan
        super().__init__(_("The data changed since the preview: check the new preview."))


def preview(fix_id: str) -> Plan:
    fix = get_fix(fix_id)
    if fix is None:
        raise UnknownFix(_("There is no fix %(id)s.") % {"id": fix_id})
    return fix.plan()


ALL_FIXES = "*"  # the one FixLock row every fix holds while it applies


def apply_fix(*, fix_id: str, digest: str, user=None, source: str = "dashboard") -> FixRecord:
    """Apply what the preview with `digest` showed; else UnknownFix, NothingToDo or StalePlan."""
    fix = get_fix(fix_id)
    if fix is None:
        raise UnknownFix(_("There is no fix %(id)s.") % {"id": fix_id})
    with operation_from_label(f"fix:{fix_id}", user=user), transaction.atomic():
        # Fixes one after the other, all of them: different fixes write the same rows (the
        # Cal.com placeholder and the moved plain-text keys both create integrations).
        hold_row_lock(FixLock, fix_id=ALL_FIXES)
        plan = fix.plan()  # again, under the lock: what another run wrote is seen now
        if plan.empty:
            raise NothingToDo(_("Nothing to do: %(title)s is already done.") % {"title": fix.title})
        if plan.digest != digest:
            raise StalePlan(plan)
        changes = fix.write(plan)
        return FixRecord.objects.create(
            check_id=fix.check_id,
            fix_id=fix.id,
            applied_by=user if getattr(user, "pk", None) else None,
            source=source,
            summary=str(fix.title)[:255],
            created_count=sum(1 for c in changes if c.get("action") == "create"),
            changed_count=sum(1 for c in changes if c.get("action") == "update"),
            changes=changes,
        )


__all__ = ["FixError", "NothingToDo", "StalePlan", "UnknownFix", "apply_fix", "preview"]
