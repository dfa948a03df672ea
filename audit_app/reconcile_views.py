"""The provider reconciliation page: what was last compared, the runs, and a start button.

Starting enqueues ``audit_app.tasks.reconcile_providers`` for a worker; the page lists the
last runs from the task store (waiting, running, done, failed) and the stored results per
provider, so it shows progress after a reload and on any machine. It never calls a provider
itself, and shows no traceback (a failed run names only its exception's class).
"""

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks_db.models import DBTaskResult

from audit_app.models import ProviderReconciliation
from audit_app.tasks import KINDS, reconcile_providers

VIEW = "audit_app.view_dashboard"
RUN = "audit_app.add_providerreconciliation"
TASK_PATH = f"{reconcile_providers.func.__module__}.{reconcile_providers.func.__qualname__}"
RUNS_SHOWN = 10
BUSY = ("READY", "RUNNING")
STORED_KIND = {"calcom": "calcom_event_types", "retell": "retell_phone_numbers"}
# The task store's states in the console's words (django-tasks ships no German).
STATES = {
    "READY": gettext_lazy("waiting for a worker"),
    "RUNNING": gettext_lazy("running"),
    "SUCCESSFUL": gettext_lazy("done"),
    "FAILED": gettext_lazy("failed"),
}


def reconcile_view(model_admin, request):
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    if request.method == "POST":
        if not request.user.has_perm(RUN):
            raise PermissionDenied
        if DBTaskResult.objects.filter(task_path=TASK_PATH, status__in=BUSY).exists():
            messages.warning(request, _("A run is waiting or running: nothing new was queued."))
            return redirect(reverse("admin:audit_app_reconcile"))
        kinds = [k for k in request.POST.getlist("kind") if k in KINDS] or list(KINDS)
        reconcile_providers.enqueue(kinds)
        messages.success(
            request,
            _(
                "The reconciliation is queued; a worker (manage.py db_worker) runs it. This page "
                "shows its state."
            ),
        )
        return redirect(reverse("admin:audit_app_reconcile"))
    runs = list(
        DBTaskResult.objects.filter(task_path=TASK_PATH)
        .order_by("-enqueued_at")
        .only(
            "id",
            "status",
            "enqueued_at",
            "started_at",
            "finished_at",
            "return_value",
            "exception_class_path",
            "args_kwargs",
        )[:RUNS_SHOWN]
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Reconciliation with Cal.com and Retell"),
        "runs": [_run_row(run) for run in runs],
        "stored": _stored(),
        "can_run": request.user.has_perm(RUN),
        "kinds": KINDS,
        "busy": any(run.status in BUSY for run in runs),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/audit_app/reconcile.html", context)


def _run_row(run) -> dict:
    return {
        "status": run.status,
        "status_label": STATES.get(run.status, run.status),
        "enqueued_at": run.enqueued_at,
        "finished_at": run.finished_at,
        "kinds": (run.args_kwargs or {}).get("args", [[]])[0],
        "summary": run.return_value or {},
        "error": run.exception_class_path.rsplit(".", 1)[-1] if run.exception_class_path else "",
    }


def _stored() -> list[dict]:
    """Per provider: companies compared, not available, findings, when (one query)."""
    rows = ProviderReconciliation.objects.values_list("kind", "available", "findings", "checked_at")
    companies, unavailable, findings, latest = Counter(), Counter(), Counter(), {}
    for kind, available, found, checked_at in rows:
        companies[kind] += 1
        unavailable[kind] += not available
        findings[kind] += len(found or ())
        latest[kind] = max(latest.get(kind, checked_at), checked_at)
    return [
        {
            "kind": name,
            "companies": companies[stored],
            "unavailable": unavailable[stored],
            "findings": findings[stored],
            "checked_at": latest.get(stored),
        }
        for name, stored in STORED_KIND.items()
    ]
