"""Admin of what the gateway records while it works: read only, the console never edits it."""

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.utils.translation import gettext_lazy as _

from integrations_app.admin.base import ReadOnlyGatewayAdmin, related_or_missing
from integrations_app.admin.tenancy import COMPANY_FILTER
from integrations_app.models import Appointment, Call, Customer, CustomerInteraction


@admin.register(Customer)
class CustomerAdmin(ReadOnlyGatewayAdmin):
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
        "status",
        "journey_status",
        "customer_type",
        ("last_call_at", DateFieldListFilter),
        COMPANY_FILTER,
    )
    search_fields = ("name", "email", "phone")
    ordering = ("name",)


@admin.register(Call)
class CallAdmin(ReadOnlyGatewayAdmin):
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
    list_select_related = ("company", "branch", "customer")
    list_filter = (
        ("start_timestamp", DateFieldListFilter),
        "direction",
        "status",
        "appointment_made",
        COMPANY_FILTER,
    )
    search_fields = ("retell_call_id", "from_number", "to_number", "customer__name")
    ordering = ("-start_timestamp", "-id")

    @admin.display(description=_("branch"), ordering="branch__name")
    def branch_column(self, obj):
        return related_or_missing(obj, "branch")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyGatewayAdmin):
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
    list_select_related = ("company", "branch", "customer", "staff", "service")
    list_filter = (
        ("starts_at", DateFieldListFilter),
        "status",
        "source",
        COMPANY_FILTER,
    )
    search_fields = ("customer__name", "customer__phone", "customer__email")
    ordering = ("-starts_at", "-id")

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
class CustomerInteractionAdmin(ReadOnlyGatewayAdmin):
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
    list_select_related = ("customer", "company")
    list_filter = (
        ("interaction_at", DateFieldListFilter),
        "interaction_type",
        "channel",
        "requires_follow_up",
        "follow_up_completed",
        COMPANY_FILTER,
    )
    search_fields = ("customer__name", "call_id", "summary")
    # bigint although branch keys are UUIDs: the gateway leaves it NULL (semantics.md §4).
    hidden_columns = ("branch_ref",)
    ordering = ("-interaction_at", "-id")
