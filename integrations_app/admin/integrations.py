"""Admin of provider integrations and notification templates.

An integration's secret columns (api_key, api_secret, access_token, refresh_token,
webhook_secret, credentials) are not editable here: they get their own write-only forms that
encrypt in the gateway's format. This admin edits the other columns.
"""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from integrations_app import connection_tests, credentials, labels, roles
from integrations_app.admin import connection_test_jobs as test_jobs
from integrations_app.admin.base import GatewayAdmin, related_or_missing
from integrations_app.admin.credential_forms import CoreIntegrationForm, stored_key_state
from integrations_app.admin.forms import IntegrationForm, NotificationTemplateForm
from integrations_app.admin.scale import IndexedValuesFilter, PrefixSearch, RelatedByPrefetch
from integrations_app.admin.tenancy import COMPANY_FILTER
from integrations_app.integration_kinds import (
    CALCOM,
    CONFIG_AGENT_ID,
    CONFIG_EVENT_TYPE_ID,
    CONFIG_TEAM_ID,
    CONFIG_TEAM_SLUG,
    RETELL,
)
from integrations_app.models import Integration, NotificationTemplate

CORE = (CALCOM.provider, RETELL.provider)


def _core_provider(request, obj) -> str | None:
    """calcom/retell when the page edits a core integration, from the row or the add link."""
    provider = obj.provider if obj is not None else request.GET.get("provider", CALCOM.provider)
    return provider if provider in CORE else None


@admin.register(Integration)
class IntegrationAdmin(RelatedByPrefetch, PrefixSearch, GatewayAdmin):
    form = IntegrationForm
    list_display = (
        "title",
        "company_column",
        "provider",
        "type",
        "status",
        "is_active",
        "environment",
        "health_status",
        "last_sync_at",
    )
    # integrations.company_id has no foreign key: prefetched (no join), a company that is gone
    # shows as missing.
    prefetch = ("company",)
    list_filter = (
        "provider",
        "status",
        "is_active",
        "health_status",
        "environment",
        ("last_sync_at", DateFieldListFilter),
        COMPANY_FILTER,
    )
    search_fields = ("name", "provider", "type", "=external_id", "company__name")
    ordering = ("company_id", "provider", "name", "id")
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
                    "tenant",
                    ("health_status", "health_score"),
                    ("success_count", "error_count"),
                    ("last_success_at", "last_error_at", "last_sync_at"),
                    "last_error",
                )
            },
        ),
    )
    readonly_fields = (
        "tenant",
        "health_status",
        "health_score",
        "success_count",
        "error_count",
        "last_success_at",
        "last_error_at",
        "last_sync_at",
        "last_error",
    )

    @admin.display(description=_("integration"), ordering="name")
    def title(self, obj):
        """The link to the row: "Cal.com · <company>" (the companies are prefetched)."""
        return str(obj)

    @admin.display(description=_("company"), ordering="company__name")
    def company_column(self, obj):
        return related_or_missing(obj, "company")

    actions = ["test_selected_connections"]

    # --- connection tests: a button on the row, a bulk action, background jobs ------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "connection-tests/",
                view(partial(test_jobs.jobs_view, self)),
                name="integrations_app_integration_test_jobs",
            ),
            path(
                "connection-tests/<int:job_id>/",
                view(partial(test_jobs.job_view, self)),
                name="integrations_app_integration_test_job",
            ),
            path(
                "<path:object_id>/test-connection/",
                view(require_POST(self.test_connection_view)),
                name="integrations_app_integration_test",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_test_connections": self.has_test_connection_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def test_connection_view(self, request, object_id):
        integration = self.get_object(request, object_id)  # None for a key that is no number
        if integration is None:
            raise Http404
        if not self.has_test_connection_permission(request, integration):
            raise PermissionDenied
        self._report(request, [connection_tests.test_connection(integration=integration)])
        # Back to the page the button was on (the company page's buttons name it), if it is ours.
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("admin:integrations_app_integration_change", args=[integration.pk])
        return HttpResponseRedirect(back)

    def has_test_connection_permission(self, request, obj=None) -> bool:
        """Testing writes the row's health: it needs its own permission (roles.py)."""
        return self.has_view_permission(request, obj) and request.user.has_perm(
            roles.TEST_CONNECTION
        )

    def has_set_credentials_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(roles.SET_CREDENTIALS) and (
            self.has_change_permission(request, obj)
            if obj is not None
            else self.has_add_permission(request)
        )

    @admin.action(description=_("Test the connection"), permissions=["test_connection"])
    def test_selected_connections(self, request, queryset):
        """A few in the request (each may wait for two provider timeouts); more in a worker."""
        queryset = queryset.filter(provider__in=connection_tests.TESTABLE_PROVIDERS)
        if queryset.count() > settings.CONNECTION_TEST_SYNC_MAX:
            return test_jobs.start_job(self, request, queryset=queryset)
        self._report(request, connection_tests.test_connections(queryset=queryset))
        return None

    def _report(self, request, results):
        if not results:
            self.message_user(request, _("Connection tests exist for Cal.com and Retell AI only."))
        for result in results:
            level = (
                messages.SUCCESS if result.ok
                else messages.WARNING if result.status == "degraded"
                else messages.ERROR
            )  # fmt: skip
            self.message_user(request, f"{result.title}: {result.message}", level)

    @admin.display(description=_("API key"))
    def key_state(self, obj):
        return stored_key_state(obj.api_key if obj else None)

    # --- Cal.com and Retell: write-only keys through the credentials service ----------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        provider = _core_provider(request, obj)
        if provider:
            attrs = {"fixed_provider": provider}
            if not self.has_set_credentials_permission(request, obj):
                # Without the permission the key fields take no input: the stored key is kept.
                attrs["new_api_key"] = forms.CharField(required=False, disabled=True)
                attrs["remove_api_key"] = forms.BooleanField(required=False, disabled=True)
            # What the save refused for this input, shown on the form drawn again (below).
            attrs["refusal"] = getattr(request, "_credential_refusal", None)
            kwargs["form"] = type("CoreIntegrationForm", (CoreIntegrationForm,), attrs)
            kwargs["fields"] = None  # the form's own fields
            if obj is not None and not self.has_change_permission(request, obj):
                # View only: the page shows every field read only and refuses a POST. Django
                # would exclude the named `fields` from the form (None there is a 500).
                change = False
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=labels.COLUMN_LABELS["tenant_id"])  # not "Tenant id"
    def tenant(self, obj):
        return obj.tenant_id if obj is not None else None

    # What a view-only page shows for the core form's fields that are not columns.
    def _config_value(self, obj, key: str):
        value = obj.config_object.get(key) if obj is not None else None
        return self.get_empty_value_display() if value in (None, "") else value

    @admin.display(description=labels.CONFIG_KEYS["event_type_id"])
    def event_type_id(self, obj):
        return self._config_value(obj, CONFIG_EVENT_TYPE_ID)

    @admin.display(description=labels.CONFIG_KEYS["team_slug"])
    def team_slug(self, obj):
        return self._config_value(obj, CONFIG_TEAM_SLUG)

    @admin.display(description=labels.CONFIG_KEYS["team_id"])
    def team_id(self, obj):
        return self._config_value(obj, CONFIG_TEAM_ID)

    @admin.display(description=labels.CONFIG_KEYS["agent_id"])
    def agent_id(self, obj):
        return self._config_value(obj, CONFIG_AGENT_ID)

    def get_fieldsets(self, request, obj=None):
        provider = _core_provider(request, obj)
        if not provider:
            return super().get_fieldsets(request, obj)
        settings = (
            (_("Cal.com"), {"fields": ("event_type_id", "team_slug", "team_id")})
            if provider == CALCOM.provider
            else (_("Retell"), {"fields": ("agent_id",)})
        )
        if not self.has_set_credentials_permission(request, obj):
            key_fields = ("key_state",)
        elif obj is not None and obj.api_key:  # only a stored key can be removed
            key_fields = ("new_api_key", "remove_api_key")
        else:  # a new integration, a placeholder without a key
            key_fields = ("new_api_key",)
        fieldsets = [
            (None, {"fields": ("company", "provider")}),
            (_("Key"), {"fields": key_fields}),
            settings,
            (_("State"), {"fields": ("environment", "is_active", "description")}),
        ]
        if obj is not None:
            fieldsets.append(self.fieldsets[-1])  # health, written by the connection tests
        return self.labelled_fieldsets(request, obj, self.with_record_section(fieldsets, obj))

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if not _core_provider(request, obj):
            return readonly
        if not self.has_set_credentials_permission(request, obj):
            return (*(readonly if obj is not None else ()), "key_state")
        return readonly if obj is not None else ()

    @method_decorator(sensitive_variables())  # the form's data holds the new key
    def save_model(self, request, obj, form, change):
        if not isinstance(form, CoreIntegrationForm):
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        saved = credentials.save_core_integration(
            company_id=data["company"].pk,
            provider=form.fixed_provider,
            api_key=data.get("new_api_key") or credentials.KEEP,
            remove_key=bool(data.get("remove_api_key")),
            settings=form.integration_settings(),
            integration_id=obj.pk if change else None,
        )
        obj.pk, obj._state.adding = saved.pk, False
        obj.refresh_from_db()  # the admin's message names the saved row

    def save_related(self, request, form, formsets, change):
        if not isinstance(form, CoreIntegrationForm):
            super().save_related(request, form, formsets, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        integration = self.get_object(request, object_id)
        can_test = bool(
            integration
            and integration.provider in connection_tests.TESTABLE_PROVIDERS
            and self.has_test_connection_permission(request, integration)
        )
        extra_context = {**(extra_context or {}), "can_test_connection": can_test}
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(sensitive_post_parameters("new_api_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except credentials.CredentialError as error:
            # Raised inside the admin's transaction, which is rolled back: nothing was written.
            # The page is drawn again from the same input, the refusal on the form: everything
            # typed stays except the key (never sent back).
            if request.method != "POST" or hasattr(request, "_credential_refusal"):
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
            request._credential_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(RelatedByPrefetch, PrefixSearch, GatewayAdmin):
    form = NotificationTemplateForm
    list_display = ("key", "channel", "company", "name", "type", "is_active", "priority")
    prefetch = ("company",)
    list_filter = (
        ("channel", IndexedValuesFilter),
        ("key", IndexedValuesFilter),
        "is_active",
        "is_system",
        COMPANY_FILTER,
    )
    search_fields = ("key", "name", "type", "company__name")
    ordering = ("company_id", "key", "channel", "id")
    fieldsets = (
        (None, {"fields": ("company", "key", "channel", "name", "type", "description")}),
        (_("Texts"), {"fields": ("subject", "content", "translations", "variables")}),
        (_("State"), {"fields": ("is_active", "is_system", "priority")}),
    )
