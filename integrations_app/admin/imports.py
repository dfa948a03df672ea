"""The record of every phone-number import: who, when, which file, what it found and wrote.

Read only: a record is written by the import itself. Its page lists the rows the import wrote
with before and after, a hundred at a time.
"""

from django.contrib import admin

from integrations_app.admin.base import ViewOnly
from integrations_app.models import PhoneImport
from integrations_app.phone_import.records import written_rows_page

ROWS_PER_PAGE = 100


@admin.register(PhoneImport)
class PhoneImportAdmin(ViewOnly, admin.ModelAdmin):
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
        "written_at",
    )
    readonly_fields = fields[:7] + fields[7] + ("written_at",)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, object_id)
        extra = {}
        if record is not None:
            try:
                page = int(request.GET.get("rows", 1))
            except ValueError:
                page = 1
            rows, pages = written_rows_page(record, page, ROWS_PER_PAGE)
            extra = {
                "written_rows": rows,
                "written_page": min(max(1, page), pages),
                "written_pages": pages,
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
