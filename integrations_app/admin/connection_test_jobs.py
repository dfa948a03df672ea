"""Pages of the background connection tests: start one, and follow it.

The changelist's bulk action (more than ``CONNECTION_TEST_SYNC_MAX`` integrations) and the
"test all" form here create a job (``connection_test_jobs.enqueue``) and redirect to its page.
That page reads the job row only: state, done/total, counts and the outcomes that need a look,
so it shows the same after a reload and on any machine, and reloads itself while the job runs.
Both pages need the test-connection permission (roles.py).
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from integrations_app import connection_test_jobs, jobs, labels
from integrations_app.models import BackgroundJob, Company, Integration
from integrations_app.models.integrations import integration_title

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


class StartForm(forms.Form):
    """Whose integrations to test: one company, chosen by searching its name (the admin's
    autocomplete, CompanyAdmin's search: never a list of every company), or all of them."""

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"] = forms.ModelChoiceField(
            queryset=Company.objects.all(),
            required=False,
            label=gettext_lazy("Company"),
            help_text=gettext_lazy("Type to search by name; leave empty to test every company."),
            widget=AutocompleteSelect(Integration._meta.get_field("company"), admin_site),
        )


def jobs_view(model_admin, request):
    """The recent background tests, and (POST) a test of all integrations or one company's."""
    _check(model_admin, request)
    site = model_admin.admin_site
    if request.method == "POST":
        form = StartForm(request.POST, admin_site=site)
        if not form.is_valid():
            raw = str(request.POST.get("company", ""))[:20]
            messages.error(request, _("There is no company with the id “%(id)s”.") % {"id": raw})
            return HttpResponseRedirect(request.path)
        company = form.cleaned_data["company"]
        return start_job(model_admin, request, company_id=company.pk if company else None)
    jobs.expire_stale()
    recent = BackgroundJob.objects.filter(kind=BackgroundJob.Kind.CONNECTION_TEST).defer(
        "params", "payload"
    )[:JOBS_SHOWN]
    form = StartForm(admin_site=site)
    context = _context(
        model_admin,
        request,
        _("Background connection tests"),
        form=form,
        media=model_admin.media + form.media,
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
    _name_outcomes(page.object_list)
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


def _name_outcomes(outcomes) -> None:
    """Each outcome's health in words and its integration's title ("Cal.com · <company>", as
    every page names it): the page's integrations and their companies in one query, never one
    per row. An integration deleted since keeps the names the test stored, without a link."""
    outcomes = list(outcomes)
    found = Integration.objects.filter(
        pk__in={outcome.integration_id for outcome in outcomes}
    ).select_related("company")
    titles = {integration.pk: str(integration) for integration in found}
    for outcome in outcomes:
        outcome.status_label = str(HEALTH_LABELS.get(outcome.status, outcome.status))
        outcome.exists = outcome.integration_id in titles
        outcome.title = titles.get(outcome.integration_id) or integration_title(
            outcome.provider, "", outcome.company_name or "–"
        )


def _context(model_admin, request, title, **extra) -> dict:
    request.current_app = model_admin.admin_site.name
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        **extra,
    }
