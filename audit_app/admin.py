"""The readiness dashboard, the fix pages and the read-only record of applied fixes.

All three hang off the admin of :class:`FixRecord` (``get_urls``), wrapped in
``admin_site.admin_view``: staff login is required, and the views stay thin (the data comes from
:mod:`audit_app.dashboard`, the writes from :mod:`audit_app.fixes.service`).

- ``dashboard/``: measures, checks by severity with their rows, table inventory, fix history.
- ``fix/<fix_id>/``: the preview of one fix, with a confirm form for users who may apply it.
- ``fix/<fix_id>/apply/``: POST only; needs ``audit_app.apply_fix``; writes the plan whose
  digest the user confirmed, or shows the new preview when the data changed meanwhile.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from audit_app import dashboard, exports, snapshots, trends
from audit_app import measures as audit_measures
from audit_app.fixes import service
from audit_app.fixes.base import get_fix
from audit_app.models import AuditSnapshot, FixRecord
from audit_app.reconcile_views import reconcile_view
from audit_app.registry import CheckUnavailable, get_check
from changelog.selectors import operation_changes
from integrations_app.admin.base import ViewOnly
from integrations_app.admin.history import change_rows
from integrations_app.admin.labelled import LabelledValues
from integrations_app.ids import parse_id
from integrations_app.labels import rows_changed, rows_created
from integrations_app.roles import VIEW_DASHBOARD

APPLY_PERMISSION = "audit_app.apply_fix"
RECORD_PERMISSION = "audit_app.record_snapshot"
REASON_MAX = 255
# The record page lists this many of the operation's rows; its operation page has them all.
RECORD_ROWS_SHOWN = 200


@admin.register(FixRecord)
class FixRecordAdmin(LabelledValues, ViewOnly, admin.ModelAdmin):
    """The record of applied fixes: read only; the dashboard and fix pages live here too."""

    list_display = (
        "applied_at",
        "check_id",
        "fix_id",
        "summary",
        "applied_by",
        "source",
        "reason",
        "created_count",
        "changed_count",
    )
    list_display_links = ("applied_at", "check_id")
    list_select_related = ("applied_by",)
    list_filter = (("applied_at", DateFieldListFilter), "check_id", "fix_id", "source")
    search_fields = ("check_id", "fix_id", "summary", "reason", "applied_by__username")
    show_full_result_count = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("applied_at", "applied_by", "source"),
                    ("check_id", "fix_id"),
                    "summary",
                    "reason",
                    ("created_count", "changed_count"),
                    "operation_link",
                )
            },
        ),
    )
    readonly_fields = (
        "applied_at",
        "applied_by",
        "source",
        "check_id",
        "fix_id",
        "summary",
        "reason",
        "created_count",
        "changed_count",
        "operation_link",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("applied_by", "operation")

    def get_fieldsets(self, request, obj=None):
        # Where it was applied from by its label ("Übersicht"), not "dashboard".
        return self.labelled_fieldsets(request, obj, super().get_fieldsets(request, obj))

    @admin.display(description=_lazy("operation"))
    def operation_link(self, obj):
        if obj.operation_id is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:changelog_operation_change", args=[obj.operation_id]),
            obj.operation,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The rows the fix wrote, before → after, from the change store (one query), full
        # width below the fields; the operation page lists them all, page by page.
        if obj is not None:
            rows = []
            if obj.operation_id is not None:
                changes = operation_changes(operation=obj.operation).select_related("operation")
                rows = change_rows(list(changes[:RECORD_ROWS_SHOWN]), user=request.user)
            total = obj.created_count + obj.changed_count
            context["record_rows"] = rows
            context["record_more"] = max(0, total - len(rows))
            context["operation_url"] = (
                reverse("admin:changelog_operation_change", args=[obj.operation_id])
                if obj.operation_id is not None
                else ""
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- the dashboard and the fix pages ------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="audit_app_dashboard"),
            path("export.<str:fmt>", wrap(self.export_view), name="audit_app_export"),
            path(
                "check/<str:check_id>/export.<str:fmt>",
                wrap(self.export_view),
                name="audit_app_export_check",
            ),
            path("record/", wrap(self.record_view), name="audit_app_record_snapshot"),
            path("check/<str:check_id>/", wrap(self.check_view), name="audit_app_check"),
            path("compare/", wrap(self.compare_view), name="audit_app_compare"),
            path(
                "reconcile/",
                wrap(lambda request: reconcile_view(self, request)),
                name="audit_app_reconcile",
            ),
            path("fix/<str:fix_id>/", wrap(self.preview_view), name="audit_app_fix_preview"),
            path(
                "fix/<str:fix_id>/apply/",
                wrap(self.apply_view),
                name="audit_app_fix_apply",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": None,
            "dashboard_url": reverse("admin:audit_app_dashboard"),
            **extra,
        }

    def has_dashboard_permission(self, request) -> bool:
        """The dashboard and the fix previews (integrations_app/roles.py)."""
        return request.user.is_active and request.user.has_perm(VIEW_DASHBOARD)

    def _check_dashboard_permission(self, request) -> None:
        if not self.has_dashboard_permission(request):
            raise PermissionDenied

    def dashboard_view(self, request):
        self._check_dashboard_permission(request)
        data = dashboard.dashboard_data(new_since=request.GET.get("new_since"))
        context = self._context(
            request,
            _("Gateway readiness"),
            can_view_history=self.has_view_permission(request),
            can_view_operations=request.user.has_perm("changelog.view_operation"),
            can_apply=request.user.has_perm(APPLY_PERMISSION),
            can_record=request.user.has_perm(RECORD_PERMISSION),
            record_url=reverse("admin:audit_app_record_snapshot"),
            compare_url=reverse("admin:audit_app_compare"),
            **data,
        )
        return TemplateResponse(request, "admin/audit_app/dashboard.html", context)

    def check_view(self, request, check_id: str):
        """One check run now, its rows page by page (?page=N): the dashboard's "show the rows"."""
        self._check_dashboard_permission(request)
        check = get_check(check_id)
        if check is None:
            raise Http404
        data = dashboard.check_page(check, parse_id(request.GET.get("page", "")) or 1)
        context = self._context(request, f"{check.id} {check.title}", **data)
        return TemplateResponse(request, "admin/audit_app/check.html", context)

    def record_view(self, request):
        """POST only, with ``audit_app.record_snapshot``: store the audit as it is now."""
        if request.method != "POST":
            context = self._context(
                request,
                _("Nothing was recorded"),
                message=_(
                    "A snapshot is recorded only with the button on the dashboard. "
                    "Nothing was recorded."
                ),
            )
            response = TemplateResponse(
                request, "admin/audit_app/fix_error.html", context, status=405
            )
            response["Allow"] = "POST"
            return response
        if not request.user.has_perm(RECORD_PERMISSION):
            context = self._context(
                request,
                _("Not allowed"),
                message=_(
                    "You may not record snapshots: that needs the permission “%(permission)s”. "
                    "Nothing was recorded."
                )
                % {"permission": _("Can record an audit snapshot")},
            )
            return TemplateResponse(request, "admin/audit_app/fix_error.html", context, status=403)
        snapshot = snapshots.record(user=request.user, source="dashboard")
        snapshots.thin()  # the retention, as after every recorded snapshot
        messages.success(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Snapshot of %(when)s recorded.") % {"when": trends.when(snapshot.taken_at)},
                reverse("admin:audit_app_compare"),
                _("Compare it with the previous one"),
            ),
        )
        return HttpResponseRedirect(reverse("admin:audit_app_dashboard"))

    def compare_view(self, request):
        """Two snapshots side by side (?a=<older id>&b=<newer id>; default previous vs latest)."""
        self._check_dashboard_permission(request)
        default_a, default_b = trends.default_pair()
        chosen = {}
        for name, default in (("a", default_a), ("b", default_b)):
            value = parse_id(request.GET.get(name, ""))
            chosen[name] = default if value is None else value
        found = AuditSnapshot.objects.select_related("taken_by").in_bulk(
            [pk for pk in chosen.values() if pk is not None]
        )
        older, newer = found.get(chosen["a"]), found.get(chosen["b"])
        comparison = None
        if older is not None and newer is not None:
            labels = {key: str(m.label) for key, m in audit_measures.compute().items()}
            comparison = trends.compare(older, newer, labels)
        context = self._context(
            request,
            _("Compare audit snapshots"),
            choices=trends.snapshot_choices(),
            chosen_a=chosen["a"],
            chosen_b=chosen["b"],
            older=older,
            newer=newer,
            comparison=comparison,
            keys_shown=trends.KEYS_SHOWN,
        )
        return TemplateResponse(request, "admin/audit_app/compare.html", context)

    def export_view(self, request, fmt: str, check_id: str | None = None):
        """The findings of one check, or of the whole audit, as CSV or .xlsx (GET only)."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        self._check_dashboard_permission(request)
        check = None
        if check_id is not None:
            check = get_check(check_id)
            if check is None:
                message = _("There is no check %(id)s.") % {"id": check_id}
                return self._not_found(request, _("Unknown check"), message)
        if fmt not in exports.FORMATS:
            message = _("There is no export as %(format)s: CSV or xlsx only.") % {"format": fmt}
            return self._not_found(request, _("Unknown format"), message)
        made = exports.export(fmt, check)
        response = HttpResponse(made.content, content_type=made.content_type)
        response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
        return response

    def _not_found(self, request, title: str, message: str):
        context = self._context(request, title, message=message)
        return TemplateResponse(request, "admin/audit_app/fix_error.html", context, status=404)

    def _unknown_fix(self, request, fix_id: str):
        context = self._context(
            request,
            _("Unknown fix"),
            message=_("There is no fix %(id)s.") % {"id": fix_id},
        )
        return TemplateResponse(request, "admin/audit_app/fix_error.html", context, status=404)

    def _preview_response(self, request, fix, plan=None, error: str = "", status: int = 200):
        check = get_check(fix.check_id)
        can_apply = request.user.has_perm(APPLY_PERMISSION) and (
            not getattr(fix, "permission", "") or request.user.has_perm(fix.permission)
        )
        context = self._context(
            request,
            _("Preview: %(fix)s") % {"fix": fix.title},
            fix=fix,
            audit_check=check,
            plan=plan,
            writes=dashboard.plan_rows(plan) if plan is not None else [],
            # A fix working company by company, for several: one checkbox each (all ticked).
            companies=plan.companies
            if plan is not None and fix.per_company and len(plan.companies) > 1
            else [],
            needs_person=dashboard.affected_rows(plan.needs_person, None) if plan else [],
            error=error,
            can_apply=can_apply,
            apply_url=reverse("admin:audit_app_fix_apply", args=[fix.id]),
            reason_required=settings.CHANGE_REASON_REQUIRED,
            reason_max=REASON_MAX,
        )
        return TemplateResponse(request, "admin/audit_app/fix_preview.html", context, status=status)

    def preview_view(self, request, fix_id: str):
        self._check_dashboard_permission(request)
        fix = get_fix(fix_id)
        if fix is None:
            return self._unknown_fix(request, fix_id)
        try:
            plan = service.preview(fix_id)
        except service.FixError as failure:
            return self._preview_response(request, fix, error=failure.message)
        except CheckUnavailable as reason:
            return self._preview_response(request, fix, error=str(reason))
        return self._preview_response(request, fix, plan)

    def apply_view(self, request, fix_id: str):
        if request.method != "POST":
            # A link or a reload never writes: say so, and point to the preview's button.
            context = self._context(
                request,
                _("Nothing was written"),
                message=_(
                    "A fix is applied only with the confirm button on its preview. "
                    "Nothing was written."
                ),
                preview_url=reverse("admin:audit_app_fix_preview", args=[fix_id])
                if get_fix(fix_id)
                else "",
            )
            response = TemplateResponse(
                request, "admin/audit_app/fix_error.html", context, status=405
            )
            response["Allow"] = "POST"
            return response
        if not request.user.has_perm(APPLY_PERMISSION):
            context = self._context(
                request,
                _("Not allowed"),
                message=_(
                    "You may not apply fixes: that needs the permission “%(permission)s”. "
                    "Nothing was written."
                )
                % {"permission": _("Can apply audit fixes")},
            )
            return TemplateResponse(request, "admin/audit_app/fix_error.html", context, status=403)
        fix = get_fix(fix_id)
        if fix is None:
            return self._unknown_fix(request, fix_id)
        if getattr(fix, "permission", "") and not request.user.has_perm(fix.permission):
            # A fix that writes outside the database (Retell) needs its own permission too.
            context = self._context(
                request,
                _("Not allowed"),
                message=_(
                    "You may not apply this fix: it needs its own permission. Nothing was written."
                ),
            )
            return TemplateResponse(request, "admin/audit_app/fix_error.html", context, status=403)
        digest = request.POST.get("digest", "")
        reason = request.POST.get("reason", "").strip()
        if len(reason) > REASON_MAX:
            messages.error(
                request,
                _("The reason is too long: at most %(max)d characters. Nothing was written.")
                % {"max": REASON_MAX},
            )
            return HttpResponseRedirect(reverse("admin:audit_app_fix_preview", args=[fix_id]))
        try:
            record = service.apply_fix(
                fix_id=fix_id,
                digest=digest,
                user=request.user,
                source="dashboard",
                reason=reason,
                # The preview listed its companies with a checkbox each: those still ticked.
                companies=request.POST.getlist("company")
                if request.POST.get("companies_listed")
                else None,
            )
        except service.StalePlan as stale:
            messages.warning(request, stale.message)
            return self._preview_response(request, fix, stale.plan, status=409)
        except service.NothingToDo as nothing:
            messages.info(request, nothing.message)
            return HttpResponseRedirect(reverse("admin:audit_app_dashboard"))
        except service.UnknownFix:
            return self._unknown_fix(request, fix_id)
        except service.FixError as failure:
            messages.error(request, failure.message)
            return HttpResponseRedirect(reverse("admin:audit_app_fix_preview", args=[fix_id]))
        except CheckUnavailable as reason:
            messages.error(request, str(reason))
            return HttpResponseRedirect(reverse("admin:audit_app_fix_preview", args=[fix_id]))
        if getattr(record, "partial", ""):
            # Carried out only in part (Retell accepted some requests): never "applied".
            messages.error(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    record.partial,
                    reverse("admin:audit_app_fixrecord_change", args=[record.pk]),
                    _("Show the record"),
                ),
            )
            return HttpResponseRedirect(reverse("admin:audit_app_dashboard"))
        applied = _("%(fix)s applied: %(created)s, %(changed)s.") % {
            "fix": fix.title,
            "created": rows_created(record.created_count),
            "changed": rows_changed(record.changed_count),
        }
        if fix.leaves_open:
            # Its check's count does not drop: say so, or it reads as a fix that failed.
            applied = f"{applied} {fix.leaves_open}"
        messages.success(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                applied,
                reverse("admin:audit_app_fixrecord_change", args=[record.pk]),
                _("Show the record"),
            ),
        )
        return HttpResponseRedirect(reverse("admin:audit_app_dashboard"))
