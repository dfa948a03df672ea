"""Previewing and applying a fix: one transaction, idempotent, safe when two people click."""

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from audit_app.fixes.base import Plan, get_fix
from audit_app.models import FixLock, FixRecord
from changelog.models import Change, Operation, Source
from changelog.recording import operation
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


class ReasonRequired(FixError):
    pass


class CompaniesRefused(FixError):
    """The companies to keep are not a choice among the preview's (a changed form)."""


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


def clean_reason(reason) -> str:
    """The reason as the store keeps it (one line, at most 255 characters); refused when the
    settings require one (``CHANGE_REASON_REQUIRED``) and it is blank."""
    reason = " ".join(str(reason or "").split())[:255]
    if not reason and settings.CHANGE_REASON_REQUIRED:
        raise ReasonRequired(
            _("A reason is required: say why this fix is applied. Nothing was written.")
        )
    return reason


def apply_fix(
    *,
    fix_id: str,
    digest: str,
    user=None,
    source: str = "dashboard",
    reason: str = "",
    companies=None,
) -> FixRecord:
    """Apply what the preview with `digest` showed; else UnknownFix, ReasonRequired,
    NothingToDo or StalePlan, and nothing is written. A fix whose write() returns a message was
    carried out only in part: the record's summary is that message, and so is ``record.partial``
    (empty when the fix was applied in full).

    ``companies``: the ids (as the form sends them, strings) of the companies to apply the
    plan for, when the fix works company by company (Fix.per_company) and the user left some
    out in the preview; None applies it for all. ``digest`` is the whole preview's: the data is
    what the user saw, and what is written is exactly that preview's rows of these companies
    (Plan.only). A company the preview did not list, or none at all, is refused
    (CompaniesRefused) and nothing is written.

    Everything the fix writes is one operation of the change store (source "fix", the fix's
    id, the user, the reason); the record links to it and counts its rows.
    """
    fix = get_fix(fix_id)
    if fix is None:
        raise UnknownFix(_("There is no fix %(id)s.") % {"id": fix_id})
    reason = clean_reason(reason)
    user = user if getattr(user, "pk", None) else None
    with (
        operation(source=Source.FIX, name=fix.id, user=user, reason=reason) as current,
        transaction.atomic(),
    ):
        # Fixes one after the other, all of them: different fixes write the same rows (the
        # Cal.com placeholder and the moved plain-text keys both create integrations).
        hold_row_lock(FixLock, fix_id=ALL_FIXES)
        plan = fix.plan()  # again, under the lock: what another run wrote is seen now
        if plan.empty:
            raise NothingToDo(_("Nothing to do: %(title)s is already done.") % {"title": fix.title})
        if plan.digest != digest:
            raise StalePlan(plan)
        if companies is not None:
            plan = _for_companies(fix, plan, companies)
        # None, or a message saying the fix was carried out only in part (a write to an external
        # system that failed half-way: what did happen stays recorded, nothing claims success).
        partial = fix.write(plan)
        written = Operation.objects.filter(cid=current.cid).first()
        counts = {}
        if written is not None:
            counts = dict(
                Change.objects.filter(operation=written)
                .order_by()
                .values_list("action")
                .annotate(n=Count("id"))
            )
        record = FixRecord.objects.create(
            check_id=fix.check_id,
            fix_id=fix.id,
            applied_by=user,
            source=source,
            reason=reason,
            summary=str(partial or fix.title)[:255],
            created_count=counts.get(Change.Action.CREATE, 0),
            changed_count=counts.get(Change.Action.UPDATE, 0),
            operation=written,
        )
        record.partial = str(partial or "")  # not stored: the summary keeps it
        return record


def _for_companies(fix, plan: Plan, companies) -> Plan:
    """``plan`` for the chosen companies only; CompaniesRefused unless they are a non-empty
    choice among the plan's companies (ids compared as the form sends them)."""
    listed = {str(pk): pk for pk, _name in plan.companies}
    chosen = {str(pk).strip() for pk in companies}
    if not fix.per_company or not chosen or not chosen <= set(listed):
        raise CompaniesRefused(
            _(
                "The companies chosen do not match the preview: choose at least one of the "
                "companies it lists. Nothing was written."
            )
        )
    kept = plan.only(listed[pk] for pk in chosen)
    if kept.empty:  # every write of the plan is for some company, and one was chosen
        raise CompaniesRefused(_("Nothing to write for the companies chosen. Nothing was written."))
    return kept


__all__ = [
    "CompaniesRefused",
    "FixError",
    "NothingToDo",
    "ReasonRequired",
    "StalePlan",
    "UnknownFix",
    "apply_fix",
    "clean_reason",
    "preview",
]
