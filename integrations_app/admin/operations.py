"""The global history: every operation (a request, an import, a fix run, an undo, a rotation,
a connection test, a command) and every row it wrote, read from the one change store."""

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from changelog.models import Change, Operation
from changelog.selectors import operation_changes
from integrations_app.admin.base import ViewOnly
from integrations_app.admin.history import change_rows
from integrations_app.admin.undo import undo_view
from integrations_app.services.undo import UNDOABLE


@admin.register(Operation)
class OperationAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ("started_at", "user", "source", "name", "reason")
    list_filter = ("source", ("started_at", DateFieldListFilter), "user")
    list_select_related = ("user",)
    search_fields = ("name", "reason", "cid")
    show_full_result_count = False
    change_form_template = "admin/changelog/operation.html"

    def get_urls(self):
        from django.urls import path

        undo = self.admin_site.admin_view(
            lambda request, object_id: undo_view(self, request, object_id)
        )
        return [
            path("<path:object_id>/undo/", undo, name="changelog_operation_undo"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        operation = self.get_object(request, object_id)
        if operation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, operation):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changes = operation_changes(operation=operation).select_related("operation")
        page = self.get_paginator(request, changes, 200).get_page(request.GET.get("p", 1))
        context = {
            **self.admin_site.each_context(request),
            "title": str(operation),
            "opts": self.opts,
            "operation": operation,
            "rows": change_rows(list(page), user=request.user),
            "page_obj": page,
            "can_undo": operation.source in UNDOABLE
            and request.user.has_perm("changelog.undo_operation")
            and not Operation.objects.filter(undo_of=operation).exists(),
            "undone_by": Operation.objects.filter(undo_of=operation).first(),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)


@admin.register(Change)
class ChangeAdmin(ViewOnly, admin.ModelAdmin):
    list_display = (
        "operation_time",
        "operation_user",
        "operation",
        "table",
        "object_repr",
        "action",
    )
    list_filter = (
        "operation__source",
        ("operation__started_at", DateFieldListFilter),
        "operation__user",
        "table",
        "action",
    )
    list_select_related = ("operation", "operation__user")
    search_fields = ("=object_pk", "object_repr", "=company_id")
    show_full_result_count = False

    @admin.display(description=_("time"), ordering="operation__started_at")
    def operation_time(self, obj):
        return obj.operation.started_at

    @admin.display(description=_("user"))
    def operation_user(self, obj):
        return obj.operation.user
