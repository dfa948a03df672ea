"""Pages of the background connection tests: start one, and follow it.

The changelist's bulk action (more than ``CONNECTION_TEST_SYNC_MAX`` integrations) and the
"test all" form here create a job (``connection_test_jobs.enqueue``) and redirect to its page.
That page reads the job row only: state, done/total, counts and the outcomes that need a look,
so it shows the same after a reload and on any machine, and reloads itself while the job runs.
Both pages need the test-connection permission (roles.py).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations_app import connection_test_jobs, jobs, labels
from integrations_app.models import BackgroundJob, Company

OUTCOMES_PER_PAGE = 100
JOBS_SHOWN = 10
RELOAD_SECONDS = 5
HEALTH_LABELS = labels.VALUES[("integrations", "health_status")]


def job_url(model_admin, job: BackgroundJob) -> str:
    return reverse(
        "admin:integrations_app_integration_test_job",
        args=[job.pk],
        current_app=model_admin.admin_site.name,
    )


def start_job(model_admin, request, *, queryset=None, company_id=None) -> HttpResponseRedirect:
    job = connection_test_jobs.enqueue(user=request.user, queryset=queryset, company_id=company_id)
    model_admin.message_user(
        request,
        ngettext(
            "The connection test of %(count)d integration is queued; a worker "
            "(manage.py db_worker) runs it. This page shows its progress.",
            "The connection test of %(count)d integrations is queued; a worker "
            "(manage.py db_worker) runs it. This page shows its progress.",
            job.total,
        )
        % {"count": job.total},
        messages.SUCCESS,
    )
    return HttpResponseRedirect(job_url(model_admin, job))


def _check(model_admin, request) -> None:
    if not model_admin.has_test_connection_permission(request):
        raise PermissionDenied


def jobs_view(model_admin, request):
    """The recent background tests, and (POST) a test of all integrations or one company's."""
    _check(model_admin, request)
    if request.method == "POST":
        raw = (request.POST.get("company") or "").strip()
        company_id = None
        if raw:
            company = Company.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if company is None:
                messages.error(
                    request, _("There is no company with the id “%(id)s”.") % {"id": raw[:20]}
                )
                return HttpResponseRedirect(request.path)
            company_id = company.pk
        return start_job(model_admin, request, company_id=company_id)
    jobs.expire_stale()
    recent = BackgroundJob.objects.filter(kind=BackgroundJob.Kind.CONNECTION_TEST).defer(
        "params", "payload"
    )[:JOBS_SHOWN]
    context = _context(
        model_admin,
        request,
        _("Background connection tests"),
        jobs=[{"job": job, "url": job_url(model_admin, job)} for job in recent],
    )
    return TemplateResponse(request, "admin/integrations_app/integration/test_jobs.html", context)


def job_view(model_admin, request, job_id: int):
    """One test: its progress, counts and the integrations that are not healthy."""
    _check(model_admin, request)
    jobs.expire_stale()
    job = (
        BackgroundJob.objects.filter(pk=job_id, kind=BackgroundJob.Kind.CONNECTION_TEST)
        .defer("params", "payload")
        .select_related("created_by")
        .first()
    )
    if job is None:
        raise Http404
    page = Paginator(job.outcomes.order_by("id"), OUTCOMES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for outcome in page.object_list:
        outcome.status_label = str(HEALTH_LABELS.get(outcome.status, outcome.status))
    context = _context(
        model_admin,
        request,
        _("Connection test #%(id)d") % {"id": job.pk},
        job=job,
        error=jobs.error_text(job),
        page=page,
        reload_seconds=None if job.finished else RELOAD_SECONDS,
        jobs_url=reverse(
            "admin:integrations_app_integration_test_jobs", current_app=model_admin.admin_site.name
        ),
    )
    return TemplateResponse(request, "admin/integrations_app/integration/test_job.html", context)


def _context(model_admin, request, title, **extra) -> dict:
    request.current_app = model_admin.admin_site.name
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        **extra,
    }
