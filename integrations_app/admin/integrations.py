"""Admin of provider integrations and notification templates.

An integration's secret columns (api_key, api_secret, access_token, refresh_token,
webhook_secret, credentials) are not editable here: they get their own write-only forms that
encrypt in the gateway's format. This admin edits the other columns.
"""

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.utils.translation import gettext_lazy as _

from integrations_app.admin.base import GatewayAdmin, related_or_missing
from integrations_app.admin.forms import IntegrationForm, NotificationTemplateForm
from integrations_app.admin.tenancy import COMPANY_FILTER
from integrations_app.models import Integration, NotificationTemplate


@admin.register(Integration)
class IntegrationAdmin(GatewayAdmin):
    form = IntegrationForm
    list_display = (
        "name",
        "company_column",
        "provider",
        "type",
        "status",
        "is_active",
        "environment",
        "health_status",
        "last_sync_at",
    )
    # integrations.company_id has no foreign key: a LEFT JOIN keeps rows whose company is gone.
    list_select_related = ("company",)
    list_filter = (
        "provider",
        "status",
        "is_active",
        "health_status",
        "environment",
        ("last_sync_at", DateFieldListFilter),
        COMPANY_FILTER,
    )
    search_fields = ("name", "provider", "type", "external_id", "company__name")
    ordering = ("company__name", "provider", "name")
    fieldsets = (
        (None, {"fields": ("company", "name", "type", "provider", "status", "is_active")}),
        (
            _("Connection"),
            {"fields": ("environment", "external_id", "webhook_url", "config", "description")},
        ),
        (
            _("Health (written by the gateway)"),
            {
                "fields": (
                    "tenant_id",
                    ("health_status", "health_score"),
                    ("success_count", "error_count"),
                    ("last_success_at", "last_error_at", "last_sync_at"),
                    "last_error",
                )
            },
        ),
    )
    readonly_fields = (
        "tenant_id",
        "health_status",
        "health_score",
        "success_count",
        "error_count",
        "last_success_at",
        "last_error_at",
        "last_sync_at",
        "last_error",
    )

    @admin.display(description=_("company"), ordering="company__name")
    def company_column(self, obj):
        return related_or_missing(obj, "company")


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(GatewayAdmin):
    form = NotificationTemplateForm
    list_display = ("key", "channel", "company", "name", "type", "is_active", "priority")
    list_select_related = ("company",)
    list_filter = ("channel", "key", "is_active", "is_system", COMPANY_FILTER)
    search_fields = ("key", "name", "type", "company__name")
    ordering = ("company__name", "key", "channel")
    fieldsets = (
        (None, {"fields": ("company", "key", "channel", "name", "type", "description")}),
        (_("Texts"), {"fields": ("subject", "content", "translations", "variables")}),
        (_("State"), {"fields": ("is_active", "is_system", "priority")}),
    )
