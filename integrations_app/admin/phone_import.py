"""The phone-number import pages of the admin: upload, stored preview, errors CSV, confirm.

Thin views over the django-import-export resource of phone numbers (``PhoneNumberResource``,
the one import path, shared with the ``import_phone_numbers`` command). The preview is stored
server-side (the uploaded bytes in ``PhoneImportUpload``, the digest of the plan shown in the
session): Confirm imports exactly those bytes and only if the plan is still the one the user
saw; otherwise the new preview is shown and nothing is written. A re-upload is never trusted
for a confirm. django-import-export's own import pages are not used: their confirm imports the
file again without checking that it would still do what the preview showed.
"""

import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms.utils import ErrorDict
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from integrations_app.admin.import_jobs import PhoneImportJobMixin
from integrations_app.admin.import_template import PhoneImportTemplateMixin
from integrations_app.phone_import import ImportFileError, error_csv, uploads
from integrations_app.phone_import.errors import ImportConflict, ReasonRequired
from integrations_app.phone_import.help import column_words, file_help
from integrations_app.phone_import.plan import ERROR, NEW, UNCHANGED, UPDATE
from integrations_app.phone_import.preview import preview_rows, visible_headers
from integrations_app.phone_import.resource import PhoneNumberResource
from integrations_app.phone_import.service import reason_required_message
from integrations_app.roles import IMPORT_PHONE_NUMBERS

SESSION_KEY = "askpro_phone_import"
PREVIEW_ROWS_PER_PAGE = 100
PREVIEW_ERRORS_SHOWN = 200  # all of them are in the errors CSV
STATUS_LABELS = {
    NEW: _("new"),
    UPDATE: _("update"),
    UNCHANGED: _("unchanged"),
    ERROR: _("error"),
}
# The summary counts rows: "rows with errors", not "errors" (a row may have several).
SUMMARY_LABELS = {**STATUS_LABELS, ERROR: _("rows with errors")}


class PhoneImportForm(forms.Form):
    file = forms.FileField(label=_("File"))
    region = forms.CharField(
        label=_("Default region"),
        initial="DE",
        max_length=2,
        help_text=_("For numbers without a country code, e.g. DE, AT or CH."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=255,
        help_text=_("Why these numbers are imported (one line; shown in their history)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = file_help()
        if settings.CHANGE_REASON_REQUIRED:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = reason_required_message()

    def clean_reason(self) -> str:
        return " ".join(self.cleaned_data.get("reason", "").split())


class PhoneImportAdminMixin(PhoneImportTemplateMixin, PhoneImportJobMixin):
    """Import pages for the PhoneNumber admin (add and change permission needed); a large
    file's write goes to a worker (import_jobs.py), its template is import_template.py's."""

    import_upload_template = "admin/integrations_app/phonenumber/import_upload.html"
    import_preview_template = "admin/integrations_app/phonenumber/import_preview.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.phone_import_view), name="{}_{}_phone_import".format(*info)),
            path(
                "import/preview/",
                view(self.phone_import_preview_view),
                name="{}_{}_phone_import_preview".format(*info),
            ),
            path(
                "import/errors.csv",
                view(self.phone_import_errors_view),
                name="{}_{}_phone_import_errors".format(*info),
            ),
            path(
                "import/confirm/",
                view(require_POST(self.phone_import_confirm_view)),
                name="{}_{}_phone_import_confirm".format(*info),
            ),
            *super().get_urls(),
        ]

    # --- helpers -------------------------------------------------------------------------
    def has_import_permission(self, request) -> bool:
        return (
            request.user.has_perm(IMPORT_PHONE_NUMBERS)
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def _check_import_permission(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied

    def _import_url(self, name: str, *args) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse(
            f"admin:%s_%s_{name}" % info,
            args=args or None,
            current_app=self.admin_site.name,
        )

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "has_view_permission": self.has_view_permission(request),
            **extra,
        }

    def _stored(self, request) -> dict | None:
        """The stored preview, when its file is still kept."""
        stored = request.session.get(SESSION_KEY)
        if not isinstance(stored, dict) or "upload" not in stored:
            return None
        data = uploads.load(stored["upload"], request.user)
        return None if data is None else {**stored, "data": data}

    def _store(
        self, request, *, stored=None, data=None, file_name="", region="", reason="", plan
    ) -> dict:
        """A preview to confirm: a new upload (``data``) or a new plan of the same one, with a
        new token (a confirm form of an older plan no longer matches)."""
        if stored is not None:
            data, upload = stored["data"], stored["upload"]
            file_name, region = stored["file_name"], stored["region"]
            reason = stored.get("reason", "")
        else:
            upload = uploads.keep(data, request.user)
        session = {
            "token": secrets.token_urlsafe(16),
            "upload": upload,
            "file_name": file_name,
            "region": region,
            "reason": reason,
            "digest": plan.digest,
            "has_errors": plan.has_errors,
            "rows": len(plan.rows),
        }
        request.session[SESSION_KEY] = session
        return {**session, "data": data}

    def _forget(self, request, stored) -> None:
        uploads.discard(stored["upload"])
        request.session.pop(SESSION_KEY, None)

    def _upload_page(self, request, form):
        request.current_app = self.admin_site.name
        context = self._context(
            request,
            gettext("Import phone numbers"),
            form=form,
            max_rows=settings.PHONE_IMPORT_MAX_ROWS,
            template_urls=self.template_urls(),
            words=column_words(get_language()),
        )
        return TemplateResponse(request, self.import_upload_template, context)

    def _preview_page(self, request, stored: dict, plan):
        """The summary, the first errors and one page of rows (``?page=``, ``?status=``)."""
        status = request.GET.get("status")
        status = status if status in STATUS_LABELS else None
        chosen = plan.rows if status is None else plan.rows_with(status)
        page = Paginator(chosen, PREVIEW_ROWS_PER_PAGE).get_page(request.GET.get("page"))
        rows = preview_rows(plan, list(page.object_list))
        for row in rows:
            row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
        counts = plan.counts
        summary = [
            (status_key, SUMMARY_LABELS[status_key], counts[status_key])
            for status_key in (NEW, UPDATE, UNCHANGED, ERROR)
        ]
        request.current_app = self.admin_site.name
        context = self._context(
            request,
            gettext("Preview of the import of “%(file)s”") % {"file": stored["file_name"]},
            stored=stored,
            plan=plan,
            headers=visible_headers(plan),
            rows=rows,
            page=page,
            status=status,
            errors=list(plan.iter_errors(PREVIEW_ERRORS_SHOWN)),
            error_count=plan.error_count,
            error_rows=counts[ERROR],
            errors_counted=ngettext("%(count)d error", "%(count)d errors", plan.error_count)
            % {"count": plan.error_count},
            more_errors=max(0, plan.error_count - PREVIEW_ERRORS_SHOWN),
            warnings=list(plan.iter_warnings(PREVIEW_ERRORS_SHOWN)),
            warning_count=plan.warning_count,
            summary=summary,
            preview_url=self._import_url("phone_import_preview"),
            has_errors=plan.has_errors,
            nothing_to_write=not plan.has_errors and not (counts[NEW] or counts[UPDATE]),
            errors_url=self._import_url("phone_import_errors"),
            confirm_url=self._import_url("phone_import_confirm"),
            reason_required=settings.CHANGE_REASON_REQUIRED,
            upload_url=self._import_url("phone_import"),
        )
        return TemplateResponse(request, self.import_preview_template, context)

    # --- views ---------------------------------------------------------------------------
    def phone_import_view(self, request):
        """The upload form; a readable file is checked and its preview stored and shown."""
        self._check_import_permission(request)
        if request.method != "POST":
            return self._upload_page(request, PhoneImportForm())
        form = PhoneImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._upload_page(request, form)
        upload = form.cleaned_data["file"]
        # One byte over the limit is enough for the reader to say the file is too large.
        data = upload.read(settings.PHONE_IMPORT_MAX_BYTES + 1)
        region = form.cleaned_data["region"]
        try:
            plan = PhoneNumberResource().preview_file(data=data, region=region)
        except ImportFileError as error:
            form.add_error(None, str(error))
            return self._upload_page(request, form)
        stored = self._store(
            request,
            data=data,
            file_name=upload.name,
            region=plan.region,
            reason=form.cleaned_data["reason"],
            plan=plan,
        )
        return self._preview_page(request, stored, plan)

    def _replan_stored(self, request):
        """(stored preview, its plan as the database is now, None) or (None, None, a page)."""
        self._check_import_permission(request)
        stored = self._stored(request)
        if stored is None:
            return None, None, self._no_preview(request)
        try:
            plan = PhoneNumberResource().preview_file(data=stored["data"], region=stored["region"])
        except ImportFileError as error:
            return None, None, self._upload_page(request, self._form_with_error(str(error)))
        return stored, plan, None

    def phone_import_preview_view(self, request):
        """The stored preview again (as the database is now)."""
        stored, plan, page = self._replan_stored(request)
        if page is not None:
            return page
        if plan.digest != stored["digest"]:
            messages.warning(
                request,
                gettext(
                    "The phone numbers changed since the preview was made. This is the new "
                    "preview: check it before you confirm."
                ),
            )
            stored = self._store(request, stored=stored, plan=plan)
        return self._preview_page(request, stored, plan)

    def phone_import_errors_view(self, request):
        """The errors of the stored preview as a CSV beside the original rows."""
        stored, plan, page = self._replan_stored(request)
        if page is not None:
            return page
        stem = stored["file_name"].rsplit(".", 1)[0] or "import"
        name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:80]
        response = HttpResponse(error_csv(plan), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-errors.csv"'
        return response

    def phone_import_confirm_view(self, request):
        """Import exactly the stored preview, or show the new one if the database changed."""
        self._check_import_permission(request)
        stored = self._stored(request)
        if stored is None or request.POST.get("token") != stored.get("token"):
            messages.error(
                request,
                gettext("This preview is no longer current: check the preview and confirm again."),
            )
            if stored is None:
                return HttpResponseRedirect(self._import_url("phone_import"))
            return HttpResponseRedirect(self._import_url("phone_import_preview"))
        if stored.get("has_errors"):
            messages.error(
                request,
                gettext(
                    "The file has errors, so nothing was imported: correct the file and upload "
                    "it again."
                ),
            )
            return HttpResponseRedirect(self._import_url("phone_import_preview"))
        reason = " ".join(request.POST.get("reason", stored.get("reason", "")).split())[:255]
        if reason != stored.get("reason", ""):
            request.session[SESSION_KEY] = {**request.session[SESSION_KEY], "reason": reason}
        if not reason and settings.CHANGE_REASON_REQUIRED:
            messages.error(request, reason_required_message())
            return HttpResponseRedirect(self._import_url("phone_import_preview"))
        if self.runs_in_background(stored):
            return self.queue_import(request, stored, reason)
        try:
            result = PhoneNumberResource().import_file(
                data=stored["data"],
                file_name=stored["file_name"],
                region=stored["region"],
                user=request.user,
                source="admin",
                reason=reason,
                expected_digest=stored["digest"],
            )
        except ReasonRequired as error:  # nothing written
            messages.error(request, str(error))
            return HttpResponseRedirect(self._import_url("phone_import_preview"))
        except ImportConflict as error:  # nothing written: the preview again, as it is now
            messages.error(request, str(error))
            return HttpResponseRedirect(self._import_url("phone_import_preview"))
        except ImportFileError as error:
            self._forget(request, stored)
            return self._upload_page(request, self._form_with_error(str(error)))
        if result.record is None:
            stored = self._store(request, stored=stored, plan=result.plan)
            messages.warning(
                request,
                gettext(
                    "The phone numbers changed since the preview, so nothing was imported. "
                    "This is the new preview: check it and confirm again."
                ),
            )
            return self._preview_page(request, stored, result.plan)
        self._forget(request, stored)
        record = result.record
        if record.outcome != "imported":  # errors appeared with the same digest: not possible
            messages.error(request, gettext("The file has errors, so nothing was imported."))
            return HttpResponseRedirect(self._import_url("phone_import"))
        messages.success(
            request,
            gettext(
                "Imported “%(file)s”: %(new)d new, %(updated)d updated, %(unchanged)d unchanged."
            )
            % {
                "file": record.file_name,
                "new": record.new_count,
                "updated": record.updated_count,
                "unchanged": record.unchanged_count,
            },
        )
        return HttpResponseRedirect(
            reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            )
        )

    def _no_preview(self, request):
        messages.warning(request, gettext("There is no preview: upload a file first."))
        return HttpResponseRedirect(self._import_url("phone_import"))

    def _form_with_error(self, message: str) -> PhoneImportForm:
        form = PhoneImportForm()
        form.is_bound = True
        form.cleaned_data = {}
        form._errors = ErrorDict()
        form.add_error(None, message)
        return form

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
            "phone_import_url": self._import_url("phone_import"),
        }
        return super().changelist_view(request, extra_context)
