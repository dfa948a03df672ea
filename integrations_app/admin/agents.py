"""The Retell agents the gateway routes calls by (semantics.md §3a)."""

from django import forms
from django.contrib import admin

from integrations_app.admin.base import GatewayAdmin
from integrations_app.admin.scale import PrefixSearch, RelatedByPrefetch
from integrations_app.admin.tenancy import COMPANY_FILTER
from integrations_app.models import RetellAgent
from integrations_app.services.agents import agent_id_problem


class RetellAgentForm(forms.ModelForm):
    class Meta:
        model = RetellAgent
        fields = ("agent_id", "name", "company", "phone_number", "is_active", "sync_status")

    def clean_agent_id(self):
        agent_id = self.cleaned_data.get("agent_id")
        problem = agent_id_problem(agent_id)
        if problem:
            raise forms.ValidationError(problem)
        return agent_id


@admin.register(RetellAgent)
class RetellAgentAdmin(RelatedByPrefetch, PrefixSearch, GatewayAdmin):
    form = RetellAgentForm
    list_display = ("agent_id", "name", "company", "is_active", "sync_status", "last_synced_at")
    prefetch = ("company",)
    list_filter = ("is_active", "sync_status", COMPANY_FILTER)
    search_fields = ("=agent_id", "name", "company__name")
    fields = ("agent_id", "name", "company", "phone_number", "is_active", "sync_status")
    raw_id_fields = ("phone_number",)
