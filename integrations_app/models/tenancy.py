"""Companies and what routes and books for them: branches, staff, services, phone numbers."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations_app.crypto.encrypter import SERIALIZED
from integrations_app.models.base import (
    PLAIN,
    SoftDeleteModel,
    TimestampedModel,
    UUIDKeyModel,
)
from integrations_app.models.fields import (
    EnumField,
    TextField,
    TimestampField,
    UnsignedBigAutoField,
)


class Company(SoftDeleteModel):
    SECRET_COLUMNS = {
        "calcom_api_key": SERIALIZED,
        "calcom_v2_api_key": PLAIN,
        "retell_api_key": SERIALIZED,
        "webhook_signing_secret": PLAIN,
        "google_calendar_credentials": PLAIN,
    }

    id = UnsignedBigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=255)
    slug = models.CharField(_("slug"), max_length=255, null=True, blank=True, unique=True)
    # varchar(255) in the gateway; EmailField declares the rule once: forms refuse "kein-email".
    email = models.EmailField(_("e-mail"), max_length=255, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=255, null=True, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=255, null=True, blank=True)
    address = TextField(_("address"), null=True, blank=True)
    city = models.CharField(_("city"), max_length=255, null=True, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    timezone = models.CharField(_("time zone"), max_length=50, default="Europe/Berlin")
    default_language = models.CharField(_("default language"), max_length=5, default="de")
    industry = models.CharField(_("industry"), max_length=50, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    active = models.BooleanField(_("active (legacy column)"), default=True)
    billing_status = EnumField(
        _("billing status"), values=("active", "inactive", "trial", "suspended"), default="trial"
    )
    # Cal.com: calcom_api_key is encrypt()-serialized and read by the team import;
    # calcom_v2_api_key is read in plain text by the booking sync (semantics.md §1-2).
    calcom_api_key = TextField(
        _("Cal.com API key (encrypted)"), null=True, blank=True, editable=False
    )
    calcom_v2_api_key = models.CharField(
        _("Cal.com v2 API key (plain text)"), max_length=255, null=True, blank=True, editable=False
    )
    calcom_team_slug = models.CharField(
        _("Cal.com team slug"), max_length=255, null=True, blank=True
    )
    calcom_team_id = models.IntegerField(_("Cal.com team id"), null=True, blank=True)
    calcom_event_type_id = models.CharField(
        _("Cal.com event type id"), max_length=255, null=True, blank=True
    )
    retell_api_key = TextField(
        _("Retell API key (encrypted)"), null=True, blank=True, editable=False
    )
    retell_agent_id = models.CharField(_("Retell agent id"), max_length=255, null=True, blank=True)
    retell_enabled = models.BooleanField(_("Retell enabled"), default=False)
    # Plain-text secret columns the gateway never reads: the console never writes them.
    webhook_signing_secret = models.CharField(max_length=255, null=True, blank=True, editable=False)
    google_calendar_credentials = TextField(null=True, blank=True, editable=False)

    class Meta(SoftDeleteModel.Meta):
        db_table = "companies"
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Branch(UUIDKeyModel, SoftDeleteModel):
    SECRET_COLUMNS = {"calcom_api_key": PLAIN}  # never read by the gateway

    company = models.ForeignKey(
        Company, models.DO_NOTHING, related_name="branches", verbose_name=_("company")
    )
    name = models.CharField(_("name"), max_length=255)
    slug = models.CharField(_("slug"), max_length=255, null=True, blank=True, unique=True)
    address = models.CharField(_("address"), max_length=255, null=True, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, null=True, blank=True)
    city = models.CharField(_("city"), max_length=255, null=True, blank=True)
    country = models.CharField(_("country"), max_length=255, default="Deutschland")
    phone_number = models.CharField(_("phone"), max_length=255, null=True, blank=True)
    notification_email = models.EmailField(
        _("notification e-mail"), max_length=255, null=True, blank=True
    )
    retell_agent_id = models.CharField(_("Retell agent id"), max_length=255, null=True, blank=True)
    # The gateway has two flags; its database default for `active` is 0, but a branch the
    # console creates is meant to take bookings, so both start true.
    active = models.BooleanField(_("active (legacy column)"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Plain text and never read by the gateway: never written by the console.
    calcom_api_key = TextField(null=True, blank=True, editable=False)

    class Meta(SoftDeleteModel.Meta):
        db_table = "branches"
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Staff(UUIDKeyModel, SoftDeleteModel):
    SECRET_COLUMNS = dict.fromkeys(
        (
            "google_calendar_token",
            "google_refresh_token",
            "outlook_access_token",
            "outlook_refresh_token",
        ),
        PLAIN,
    )

    company = models.ForeignKey(
        Company, models.DO_NOTHING, related_name="staff", verbose_name=_("company")
    )
    # NOT NULL without a foreign key in the gateway: it may name a branch that does not exist.
    branch = models.ForeignKey(
        Branch,
        models.DO_NOTHING,
        db_constraint=False,
        related_name="staff",
        verbose_name=_("branch"),
    )
    home_branch = models.ForeignKey(
        Branch,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="home_staff",
        verbose_name=_("home branch"),
    )
    name = models.CharField(_("name"), max_length=255)
    email = models.EmailField(_("e-mail"), max_length=255, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=255, null=True, blank=True)
    active = models.BooleanField(_("active (legacy column)"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_bookable = models.BooleanField(_("bookable"), default=True)
    calcom_user_id = models.CharField(_("Cal.com user id"), max_length=255, null=True, blank=True)
    # Calendar tokens, plain text in the gateway's design: read for the audit, never shown.
    google_calendar_token = TextField(null=True, blank=True, editable=False)
    google_refresh_token = TextField(null=True, blank=True, editable=False)
    outlook_access_token = TextField(null=True, blank=True, editable=False)
    outlook_refresh_token = TextField(null=True, blank=True, editable=False)

    class Meta(SoftDeleteModel.Meta):
        db_table = "staff"
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "email"], name="staff_company_email_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Service(SoftDeleteModel):
    id = UnsignedBigAutoField(primary_key=True)
    company = models.ForeignKey(
        Company, models.DO_NOTHING, related_name="services", verbose_name=_("company")
    )
    branch = models.ForeignKey(
        Branch,
        models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="services",
        verbose_name=_("branch"),
    )
    name = models.CharField(_("name"), max_length=255)
    description = TextField(_("description"), null=True, blank=True)
    category = models.CharField(_("category"), max_length=255, null=True, blank=True)
    duration_minutes = models.IntegerField(_("duration (minutes)"), default=30)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Globally unique in the gateway: one Cal.com event type belongs to one service.
    calcom_event_type_id = models.CharField(
        _("Cal.com event type id"), max_length=255, null=True, blank=True, unique=True
    )
    # What the gateway's event-type import writes (semantics.md §3b).
    calcom_name = models.CharField(_("name in Cal.com"), max_length=255, null=True, blank=True)
    slug = models.CharField(_("slug"), max_length=255, null=True, blank=True)
    schedule_id = models.IntegerField(_("Cal.com schedule id"), null=True, blank=True)
    minimum_booking_notice = models.IntegerField(_("minimum booking notice"), default=120)
    before_event_buffer = models.IntegerField(_("buffer before"), default=0)
    buffer_time_minutes = models.IntegerField(_("buffer (minutes)"), default=0)
    requires_confirmation = models.BooleanField(_("requires confirmation"), default=False)
    booking_link = TextField(_("booking link"), null=True, blank=True)
    locations_json = models.JSONField(_("locations"), null=True, blank=True)
    metadata_json = models.JSONField(_("metadata"), null=True, blank=True)
    booking_fields_json = models.JSONField(_("booking fields"), null=True, blank=True)
    last_calcom_sync = TimestampField(_("last Cal.com sync"), null=True, blank=True)
    sync_status = EnumField(
        _("sync status"), values=("synced", "pending", "error", "never"), default="never"
    )
    sync_error = TextField(_("sync error"), null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "services"
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PhoneNumber(UUIDKeyModel, TimestampedModel):
    """A number an inbound call is routed by (semantics.md §3).

    The gateway matches `number_normalized`, then `number`, and some paths `phone_number`:
    all three hold the E.164 form. `deleted_at` exists but the gateway ignores it, so it is no
    soft delete here: a delete removes the row.
    """

    TYPES = ("direct", "hotline")

    company = models.ForeignKey(
        Company,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="phone_numbers",
        verbose_name=_("company"),
    )
    branch = models.ForeignKey(
        Branch,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="phone_numbers",
        verbose_name=_("branch"),
    )
    number = models.CharField(_("number"), max_length=255, unique=True)
    number_normalized = models.CharField(_("number (E.164)"), max_length=20, null=True, blank=True)
    phone_number = models.CharField(
        _("number (legacy column)"), max_length=255, null=True, blank=True
    )
    type = EnumField(_("type"), values=TYPES, default="direct")
    description = models.CharField(_("description"), max_length=255, null=True, blank=True)
    label = models.CharField(_("label"), max_length=255, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    country_code = models.CharField(_("country code"), max_length=10, default="+49")
    retell_phone_id = models.CharField(_("Retell phone id"), max_length=255, null=True, blank=True)
    retell_agent_id = models.CharField(_("Retell agent id"), max_length=255, null=True, blank=True)
    deleted_at = TimestampField(_("marked deleted"), null=True, blank=True, editable=False)

    class Meta(TimestampedModel.Meta):
        db_table = "phone_numbers"
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number
