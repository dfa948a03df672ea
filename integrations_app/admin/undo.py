"""The undo pages of an operation: a preview of the reverse writes, then confirm (Manager's)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from changelog.models import Operation
from integrations_app.admin.history import MODELS_BY_TABLE, column_label, shown_value, table_label
from integrations_app.services.undo import StaleUndo, UndoError, apply_undo, plan_undo

PERMISSION = "changelog.undo_operation"
REASON_MAX = 255
SHOWN = 200  # rows listed on the preview; the counts cover all


def undo_view(model_admin, request, object_id):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    op = Operation.objects.select_related("user").filter(pk=_int(object_id)).first()
    back = reverse("admin:changelog_operation_changelist")
    if op is None:
        messages.error(request, _("There is no such operation."))
        return redirect(back)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    page = reverse("admin:changelog_operation_change", args=[op.pk])
    plan, error = None, ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")[:REASON_MAX]
        try:
            undo = apply_undo(
                op_id=op.pk,
                digest=request.POST.get("digest", ""),
                user=request.user,
                reason=reason,
                partial=request.POST.get("partial") == "1",
            )
        except StaleUndo as stale:
            plan, error = stale.plan, stale.message
        except UndoError as refusal:
            error = refusal.message
        else:
            messages.success(request, _("Undone: %(operation)s.") % {"operation": op})
            return redirect(reverse("admin:changelog_operation_change", args=[undo.pk]))
    if plan is None:
        try:
            plan = plan_undo(op=op)
        except UndoError as refusal:
            messages.error(request, error or refusal.message)
            return redirect(page)
    context = {
        **model_admin.admin_site.each_context(request),
        "writes": [_shown(step) for step in plan.writes[:SHOWN]],
        "refused": [_shown(step) for step in plan.refused[:SHOWN]],
        "title": _("Undo: %(operation)s") % {"operation": op},
        "opts": model_admin.opts,
        "operation": op,
        "plan": plan,
        "error": error,
        "reason_max": REASON_MAX,
    }
    request.current_app = model_admin.admin_site.name
    status = 409 if error else 200
    return TemplateResponse(request, "admin/changelog/undo.html", context, status=status)


def _shown(step) -> dict:
    """A step for people: the table's and columns' labels, values as the history shows them."""
    model = MODELS_BY_TABLE.get(step.table)
    return {
        "table": table_label(step.table),
        "label": step.label,
        "kind": step.kind,
        "refused": step.refused,
        "values": [
            (column_label(model, column), shown_value(model, column, value))
            for column, value in step.after.items()
            if column not in (model.SECRET_COLUMNS if model else {})
        ],
    }


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
