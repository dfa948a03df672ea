"""What the gateway records while it works: customers, calls, appointments, interactions.

The console reads these (counts, audit, first-contact records); it never edits a call or an
appointment.

``OPTIONAL_COLUMNS``: columns the gateway added in February 2026 (they are in the reference schema,
not in every production database). They are declared, not modelled: the fields in that dict are
never bound to the model, so no query, page, export or history of the console selects them and the
console works the same with or without them; `gateway_schema check` compares them when they exist
(see integrations_app/gateway_schema.py). ``OPTIONAL_SECRET_COLUMNS`` names those among them that
hold a secret ({column: flavour}, like ``SECRET_COLUMNS``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations_app import labels
from integrations_app.models.base import PLAIN, SoftDeleteModel, TimestampedModel
from integrations_app.models.fields import (
    EnumField,
    TextField,
    TimestampField,
    UnsignedBigAutoField,
)
from integrations_app.models.tenancy import Branch, Company, Service, Staff


class Customer(SoftDeleteModel):
    id = UnsignedBigAutoField(primary_key=True)
    company = models.ForeignKey(
        Company,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("company"),
    )
    name = models.CharField(_("name"), max_length=255)
    email = models.CharField(_("e-mail"), max_length=255, null=True, blank=True, unique=True)
    phone = models.CharField(_("phone"), max_length=255, null=True, blank=True)
    status = models.CharField(_("status"), max_length=255, default="active")
    customer_type = models.CharField(
        _("customer type"), max_length=255, null=True, blank=True, default="private"
    )
    journey_status = models.CharField(
        _("journey status"), max_length=255, default="initial_contact"
    )
    preferred_language = models.CharField(_("language"), max_length=5, default="de")
    source = models.CharField(_("source"), max_length=50, null=True, blank=True)
    call_count = models.IntegerField(_("calls"), default=0)
    appointment_count = models.IntegerField(_("appointments"), default=0)
    last_call_at = TimestampField(_("last call"), null=True, blank=True)

    # Declared for the schema check only, never selected (see the module docstring).
    OPTIONAL_COLUMNS = {
        "phone_variants": models.JSONField(null=True),
        "journey_history": models.JSONField(null=True),
        "booking_history_summary": models.JSONField(null=True),
        "portal_access_token": models.CharField(max_length=255, null=True),
        "portal_token_expires_at": TimestampField(null=True),
    }
    # The customer portal's login token, in plain text by the gateway's design: never shown.
    OPTIONAL_SECRET_COLUMNS = {"portal_access_token": PLAIN}

    class Meta(SoftDeleteModel.Meta):
        db_table = "customers"
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Call(SoftDeleteModel):
    id = UnsignedBigAutoField(primary_key=True)
    company = models.ForeignKey(
        Company, models.DO_NOTHING, related_name="calls", verbose_name=_("company")
    )
    branch = models.ForeignKey(
        Branch,
        models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="calls",
        verbose_name=_("branch"),
    )
    customer = models.ForeignKey(
        Customer,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("customer"),
    )
    retell_call_id = models.CharField(_("Retell call id"), max_length=255, unique=True)
    from_number = models.CharField(_("from"), max_length=255, null=True, blank=True)
    to_number = models.CharField(_("to"), max_length=255, null=True, blank=True)
    direction = models.CharField(_("direction"), max_length=20, null=True, blank=True)
    call_status = models.CharField(_("call status"), max_length=255, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, default="completed")
    duration_sec = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    start_timestamp = TimestampField(_("started"), null=True, blank=True)
    end_timestamp = TimestampField(_("ended"), null=True, blank=True)
    summary = TextField(_("summary"), null=True, blank=True)
    appointment_made = models.BooleanField(_("appointment made"), default=False)

    # Declared for the schema check only, never selected (see the module docstring).
    OPTIONAL_COLUMNS = {"booking_details": models.JSONField(null=True)}

    class Meta(SoftDeleteModel.Meta):
        db_table = "calls"
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-start_timestamp", "-id"]

    def __str__(self) -> str:
        return self.retell_call_id


class Appointment(SoftDeleteModel):
    id = UnsignedBigAutoField(primary_key=True)
    # The gateway's trigger rejects an appointment whose company differs from its customer's.
    company = models.ForeignKey(
        Company, models.DO_NOTHING, related_name="appointments", verbose_name=_("company")
    )
    branch = models.ForeignKey(
        Branch,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("branch"),
    )
    customer = models.ForeignKey(
        Customer, models.DO_NOTHING, related_name="appointments", verbose_name=_("customer")
    )
    staff = models.ForeignKey(
        Staff,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("staff member"),
    )
    service = models.ForeignKey(
        Service,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("service"),
    )
    call = models.ForeignKey(
        Call,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("call"),
    )
    starts_at = TimestampField(_("starts"), null=True, blank=True)
    ends_at = TimestampField(_("ends"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=255, default="pending")
    source = models.CharField(_("source"), max_length=255, default="phone")
    notes = TextField(_("notes"), null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "appointments"
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk}"


class CustomerInteraction(TimestampedModel):
    TYPES = (
        "phone_call",
        "appointment_booking",
        "appointment_cancellation",
        "appointment_reschedule",
        "inquiry",
        "complaint",
        "feedback",
        "no_show",
        "walk_in",
        "online_booking",
        "sms",
        "email",
        "whatsapp",
    )

    id = UnsignedBigAutoField(primary_key=True)
    customer = models.ForeignKey(
        Customer, models.DO_NOTHING, related_name="interactions", verbose_name=_("customer")
    )
    company = models.ForeignKey(
        Company, models.DO_NOTHING, related_name="customer_interactions", verbose_name=_("company")
    )
    # bigint although branch keys are UUIDs: left NULL (semantics.md §4).
    branch_ref = models.PositiveBigIntegerField(
        db_column="branch_id", null=True, blank=True, editable=False
    )
    interaction_type = EnumField(_("interaction type"), values=TYPES)
    channel = models.CharField(_("channel"), max_length=255, default="phone")
    interaction_at = TimestampField(_("time"))
    duration_seconds = models.IntegerField(_("duration (s)"), null=True, blank=True)
    call_id = models.CharField(_("call id"), max_length=255, null=True, blank=True)
    summary = TextField(_("summary"), null=True, blank=True)
    requires_follow_up = models.BooleanField(_("needs follow-up"), default=False)
    follow_up_completed = models.BooleanField(_("follow-up done"), default=False)

    class Meta(TimestampedModel.Meta):
        db_table = "customer_interactions"
        verbose_name = _("customer interaction")
        verbose_name_plural = _("customer interactions")
        ordering = ["-interaction_at"]

    def __str__(self) -> str:
        # The type by its label, the day in the console's time zone (not UTC's).
        when = (
            labels.local_time(self.interaction_at, "SHORT_DATE_FORMAT")
            if self.interaction_at
            else ""
        )
        return f"{self.get_interaction_type_display()} {when}".strip()
