"""The undo pages of an operation: a preview of the reverse writes, then confirm (Manager's)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from changelog.models import Operation
from integrations_app.admin.history import (
    MODELS_BY_TABLE,
    column_label,
    foreign_keys,
    related_names,
    table_label,
    value_of,
)
from integrations_app.models import Company
from integrations_app.services.undo import (
    REMOVE,
    StaleUndo,
    UndoError,
    apply_undo,
    plan_undo,
)

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
    writes, refused = plan.writes[:SHOWN], plan.refused[:SHOWN]
    names = _names([*writes, *refused])
    context = {
        **model_admin.admin_site.each_context(request),
        "writes": [_shown(step, names) for step in writes],
        "refused": [_shown(step, names) for step in refused],
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


def _names(steps) -> dict:
    """{(model, key): name} of the rows the steps' values point to and of the steps' companies:
    one query per related table for the whole page, never one per row."""
    names = related_names(steps)
    wanted = {s.company_id for s in steps if s.company_id is not None}
    missing = [pk for pk in wanted if (Company, str(pk)) not in names]
    if missing:
        rows = Company._base_manager.filter(pk__in=missing).values_list("pk", "name")
        names |= {(Company, str(pk)): name for pk, name in rows}
    return names


def _shown(step, names: dict) -> dict:
    """A step for people: the table's and columns' labels, its company by name, and the values:
    those it writes back, or for a row it removes, the values the operation had written."""
    model = MODELS_BY_TABLE.get(step.table)
    keys = foreign_keys(model)
    values = step.after if step.kind != REMOVE else step.before
    company = step.company_id
    return {
        "table": table_label(step.table),
        "label": step.label,
        "company": names.get((Company, str(company)), str(company)) if company else "",
        "kind": step.kind,
        "refused": step.refused,
        "values": [
            (column_label(model, column), value_of(model, column, value, keys, names))
            for column, value in values.items()
            if column not in (model.SECRET_COLUMNS if model else {})
            # a removed row by what it holds: not its key (the object) nor its empty columns
            and (step.kind != REMOVE or (value not in (None, "") and column != _pk(model)))
        ],
    }


def _pk(model) -> str:
    return model._meta.pk.attname if model is not None else ""


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
