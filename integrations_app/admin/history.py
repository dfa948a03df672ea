"""The change history (django-auditlog's LogEntry admin), with the source of each change.

Secret columns are excluded when the models are registered with django-auditlog
(``integrations_app.history``), so no entry holds one and this admin cannot show one.
"""

import auditlog.admin  # noqa: F401  (registers LogEntryAdmin before it is replaced here)
from auditlog import get_logentry_model
from auditlog.admin import LogEntryAdmin
from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.utils.translation import gettext_lazy as _

LogEntry = get_logentry_model()


class ChangeHistoryAdmin(LogEntryAdmin):
    list_display = [*LogEntryAdmin.list_display[:4], "source", *LogEntryAdmin.list_display[4:]]
    # No date hierarchy: it converts time zones in SQL (CONVERT_TZ), which returns NULL (and the
    # page fails) on a MariaDB without time zone tables. A date filter compares plain ranges.
    date_hierarchy = None
    list_filter = [("timestamp", DateFieldListFilter), *LogEntryAdmin.list_filter]
    show_full_result_count = False

    @admin.display(description=_("source"))
    def source(self, obj):
        return (obj.additional_data or {}).get("source", "")


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, ChangeHistoryAdmin)
