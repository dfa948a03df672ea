"""The record of every phone-number import: who, when, which file, what it found and wrote.

Read only: a record is written by the import itself. Its page lists the rows the import wrote
with before and after, a hundred at a time, from the one change store (the rows of its
operation), and links to the operation's page.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integrations_app.admin.base import ViewOnly
from integrations_app.admin.history import change_rows
from integrations_app.admin.labelled import LabelledValues
from integrations_app.models import PhoneImport, PhoneNumber

ROWS_PER_PAGE = 100


@admin.register(PhoneImport)
class PhoneImportAdmin(LabelledValues, ViewOnly, admin.ModelAdmin):
    # LabelledValues: the source by its label (labels.IMPORT_SOURCES), in the list and filter.
    list_display = (
        "imported_at",
        "file_name",
        "imported_by",
        "source",
        "outcome",
        "row_count",
        "new_count",
        "updated_count",
        "unchanged_count",
        "error_count",
    )
    list_select_related = ("imported_by",)
    list_filter = ("outcome", "source", "imported_at")
    search_fields = ("file_name", "checksum", "reason")
    ordering = ("-imported_at", "-id")
    show_full_result_count = False
    fields = (
        "imported_at",
        "imported_by",
        "source_label",
        "file_name",
        "checksum",
        "region",
        "outcome",
        ("row_count", "new_count", "updated_count", "unchanged_count", "error_count"),
        "reason",
        "operation_link",
    )
    readonly_fields = (*fields[:7], *fields[7], "reason", "operation_link")

    @admin.display(description=_("operation"))
    def operation_link(self, obj):
        if obj.operation_id is None:
            return "—"
        url = reverse(
            "admin:changelog_operation_change",
            args=[obj.operation_id],
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">{}</a>', url, obj.operation)

    def changelist_view(self, request, extra_context=None):
        """With a "New import" button for whoever may import (the phone-number import page)."""
        numbers = self.admin_site._registry.get(PhoneNumber)
        can_import = numbers is not None and numbers.has_import_permission(request)
        extra = {"phone_import_url": numbers._import_url("phone_import") if can_import else ""}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, object_id)
        extra = {}
        if record is not None:
            changes = record.written_changes().select_related("operation")
            page = Paginator(changes, ROWS_PER_PAGE).get_page(request.GET.get("rows"))
            extra = {
                "written_rows": change_rows(list(page.object_list), user=request.user),
                "written_page": page,
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
