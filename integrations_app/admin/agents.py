"""The Retell agents the gateway routes calls by (semantics.md §3a)."""

from django.contrib import admin

from integrations_app.admin.base import GatewayAdmin
from integrations_app.admin.tenancy import COMPANY_FILTER
from integrations_app.models import RetellAgent


@admin.register(RetellAgent)
class RetellAgentAdmin(GatewayAdmin):
    list_display = ("agent_id", "name", "company", "is_active", "sync_status", "last_synced_at")
    list_select_related = ("company",)
    list_filter = ("is_active", "sync_status", COMPANY_FILTER)
    search_fields = ("=agent_id", "name", "company__name")
    fields = ("agent_id", "name", "company", "phone_number", "is_active", "sync_status")
    raw_id_fields = ("phone_number",)
