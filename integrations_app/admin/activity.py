"""Admin of what the gateway records while it works: read only, the console never edits it."""

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.utils.translation import gettext_lazy as _

from integrations_app.admin.base import ReadOnlyGatewayAdmin, related_or_missing
from integrations_app.admin.scale import (
    IndexedValuesFilter,
    RelatedByPrefetch,
    customer_condition,
    known_values,
    search_by_customer,
    search_calls,
    search_text,
)
from integrations_app.admin.tenancy import COMPANY_FILTER
from integrations_app.models import Appointment, Call, Customer, CustomerInteraction


@admin.register(Customer)
class CustomerAdmin(RelatedByPrefetch, ReadOnlyGatewayAdmin):
    list_display = (
        "name",
        "company",
        "email",
        "phone",
        "status",
        "journey_status",
        "call_count",
        "appointment_count",
        "last_call_at",
    )
    list_select_related = ("company",)
    list_filter = (
        ("status", IndexedValuesFilter),
        ("journey_status", IndexedValuesFilter),
        ("customer_type", IndexedValuesFilter),
        ("last_call_at", DateFieldListFilter),
        COMPANY_FILTER,
    )
    # An e-mail, a phone number or a name's beginning: each on its index (scale.py).
    search_fields = ("name", "email", "phone")
    ordering = ("name", "id")

    def get_search_results(self, request, queryset, search_term):
        text = search_text(search_term)
        return (queryset.filter(customer_condition(text)) if text else queryset), False


@admin.register(Call)
class CallAdmin(RelatedByPrefetch, ReadOnlyGatewayAdmin):
    list_display = (
        "retell_call_id",
        "start_timestamp",
        "company",
        "branch_column",
        "customer",
        "from_number",
        "to_number",
        "direction",
        "status",
        "duration_sec",
        "appointment_made",
    )
    prefetch = ("company", "branch", "customer")
    list_filter = (
        ("start_timestamp", DateFieldListFilter),
        ("direction", IndexedValuesFilter),
        ("status", IndexedValuesFilter),
        "appointment_made",
        COMPANY_FILTER,
    )
    # A number (from/to, as typed or in E.164), a Retell call id prefix, a customer name
    # prefix: each on its own index (scale.search_calls), never LIKE '%...%' over 1M rows.
    search_fields = ("retell_call_id", "from_number", "to_number", "customer__name")
    ordering = ("-start_timestamp", "-id")
    # Sortable by its own indexed columns only: a sort by a related name sorts the whole join.
    sortable_by = ("retell_call_id", "start_timestamp", "duration_sec")

    def get_search_results(self, request, queryset, search_term):
        return search_calls(request, queryset, search_term), False

    @admin.display(description=_("branch"), ordering="branch__name")
    def branch_column(self, obj):
        return related_or_missing(obj, "branch")


@admin.register(Appointment)
class AppointmentAdmin(RelatedByPrefetch, ReadOnlyGatewayAdmin):
    list_display = (
        "__str__",
        "starts_at",
        "ends_at",
        "company",
        "branch_column",
        "customer",
        "staff_column",
        "service_column",
        "status",
        "source",
    )
    prefetch = ("company", "branch", "customer", "staff", "service")
    list_filter = (
        ("starts_at", DateFieldListFilter),
        ("status", IndexedValuesFilter),
        ("source", known_values("phone", "online", "app", "walk_in")),
        COMPANY_FILTER,
    )
    # The customer's name prefix, e-mail or phone: the customers' indexes, then appointments
    # by customer_id.
    search_fields = ("customer__name", "customer__phone", "customer__email")
    ordering = ("-starts_at", "-id")
    sortable_by = ("__str__", "starts_at", "ends_at")

    def get_search_results(self, request, queryset, search_term):
        return search_by_customer(request, queryset, search_term), False

    @admin.display(description=_("branch"), ordering="branch__name")
    def branch_column(self, obj):
        return related_or_missing(obj, "branch")

    @admin.display(description=_("staff member"), ordering="staff__name")
    def staff_column(self, obj):
        return related_or_missing(obj, "staff")

    @admin.display(description=_("service"), ordering="service__name")
    def service_column(self, obj):
        return related_or_missing(obj, "service")


@admin.register(CustomerInteraction)
class CustomerInteractionAdmin(RelatedByPrefetch, ReadOnlyGatewayAdmin):
    list_display = (
        "interaction_at",
        "interaction_type",
        "channel",
        "customer",
        "company",
        "duration_seconds",
        "requires_follow_up",
        "follow_up_completed",
    )
    prefetch = ("customer", "company")
    list_filter = (
        ("interaction_at", DateFieldListFilter),
        "interaction_type",
        ("channel", known_values("phone", "email", "sms", "whatsapp", "web", "in_person")),
        "requires_follow_up",
        "follow_up_completed",
        COMPANY_FILTER,
    )
    # A call's key (exact), else the customer's name, e-mail or phone (scale.py).
    search_fields = ("customer__name", "=call_id")

    def get_search_results(self, request, queryset, search_term):
        text = search_text(search_term)
        if text.isdigit() or text.lower().startswith("call_"):
            return queryset.filter(call_id=text), False
        return search_by_customer(request, queryset, search_term), False

    # bigint although branch keys are UUIDs: the gateway leaves it NULL (semantics.md §4).
    hidden_columns = ("branch_ref",)
    ordering = ("-interaction_at", "-id")
