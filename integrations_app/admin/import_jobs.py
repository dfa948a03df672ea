"""A large import's write in a worker: queued from the confirm, followed on its own page.

``PhoneImportAdminMixin`` (phone_import.py) hands a confirmed preview of more than
``PHONE_IMPORT_BACKGROUND_ROWS`` rows to ``queue_import``; the page of the job shows waiting,
running, done (with the import's counts and a link to its record) or failed (nothing written,
and why), read from the job row: the same after a reload and on any machine.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from integrations_app import jobs
from integrations_app.models import BackgroundJob
from integrations_app.phone_import import background

RELOAD_SECONDS = 3


class PhoneImportJobMixin:
    import_job_template = "admin/integrations_app/phonenumber/import_job.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/jobs/<int:job_id>/",
                self.admin_site.admin_view(self.phone_import_job_view),
                name="{}_{}_phone_import_job".format(*info),
            ),
            *super().get_urls(),
        ]

    def runs_in_background(self, stored: dict) -> bool:
        return stored.get("rows", 0) > settings.PHONE_IMPORT_BACKGROUND_ROWS

    def queue_import(self, request, stored: dict, reason: str) -> HttpResponseRedirect:
        """Queue the confirmed preview's write; the preview is used up, as after a write."""
        job = background.queue(
            data=stored["data"],
            file_name=stored["file_name"],
            region=stored["region"],
            reason=reason,
            digest=stored["digest"],
            rows=stored.get("rows", 0),
            user=request.user,
        )
        self._forget(request, stored)
        messages.success(
            request,
            gettext(
                "The import of “%(file)s” (%(rows)d rows) is queued; a worker "
                "(manage.py db_worker) writes it, all rows or none. This page shows its state."
            )
            % {"file": stored["file_name"], "rows": job.total},
        )
        return HttpResponseRedirect(self._import_url("phone_import_job", job.pk))

    def phone_import_job_view(self, request, job_id: int):
        self._check_import_permission(request)
        jobs.expire_stale()
        job = (
            BackgroundJob.objects.filter(pk=job_id, kind=BackgroundJob.Kind.PHONE_IMPORT)
            .defer("payload")
            .select_related("phone_import", "created_by")
            .first()
        )
        if job is None:
            raise Http404
        record = job.phone_import
        can_see_record = record is not None and request.user.has_perm(
            "integrations_app.view_phoneimport"
        )
        request.current_app = self.admin_site.name
        context = self._context(
            request,
            gettext("Import of “%(file)s”") % {"file": job.params.get("file_name", "")},
            job=job,
            record=record,
            record_url=reverse(
                "admin:integrations_app_phoneimport_change",
                args=[record.pk],
                current_app=self.admin_site.name,
            )
            if can_see_record
            else "",
            error=jobs.error_text(job),
            reload_seconds=None if job.finished else RELOAD_SECONDS,
            changelist_url=reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            ),
        )
        return TemplateResponse(request, self.import_job_template, context)
