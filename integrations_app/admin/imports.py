"""The record of every phone-number import: who, when, which file, what it found and changed.

Read only: a record is written by the import itself. Each imported row's before and after are
in the change history, one entry per row under the import's correlation id; the list links to
them.
"""

from auditlog import get_logentry_model
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from integrations_app.models import PhoneImport


@admin.register(PhoneImport)
class PhoneImportAdmin(admin.ModelAdmin):
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
        "history_link",
    )
    list_select_related = ("imported_by",)
    list_filter = ("outcome", "source", "imported_at")
    search_fields = ("file_name", "checksum")
    ordering = ("-imported_at", "-id")
    show_full_result_count = False
    fields = (
        "imported_at",
        "imported_by",
        "source",
        "file_name",
        "checksum",
        "region",
        "outcome",
        ("row_count", "new_count", "updated_count", "unchanged_count", "error_count"),
        "history_link",
    )
    readonly_fields = fields[:7] + fields[7] + ("history_link",)

    @admin.display(description=_("rows written"))
    def history_link(self, obj):
        written = obj.new_count + obj.updated_count if obj.outcome == "imported" else 0
        if not written:
            return "—"
        opts = get_logentry_model()._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return format_html(
            '<a href="{}?{}">{}</a>',
            url,
            urlencode({"cid": obj.cid}),
            _("%(count)d in the history") % {"count": written},
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
