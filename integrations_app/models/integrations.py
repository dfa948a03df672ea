"""Provider integrations and notification templates of a company."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations_app.crypto.encrypter import RAW
from integrations_app.integration_kinds import CORE_PROVIDERS, KINDS
from integrations_app.models.base import PLAIN, GatewayQuerySet, TimestampedModel
from integrations_app.models.fields import (
    Char36Field,
    EnumField,
    TextField,
    TimestampField,
    UnsignedBigAutoField,
    new_uuid,
)
from integrations_app.models.tenancy import Company

# Statuses that switch an integration off whatever `is_active` says.
INACTIVE_STATUSES = ("inactive", "suspended")


def counts_as_active(is_active, status) -> bool:
    """The one rule of an "active" integration, for a row already loaded."""
    return bool(is_active) and status not in INACTIVE_STATUSES


def integration_title(provider, name, company: str) -> str:
    """The one way an integration is named, "Cal.com · <company>" (page titles, breadcrumbs,
    history, the change store, audit rows): a core kind by its provider's name, another kind
    by the row's name."""
    kind = KINDS.get((provider or "").lower())
    if kind is not None and kind.provider in CORE_PROVIDERS:
        title = kind.name
    else:
        title = name or (kind.name if kind is not None else provider or "")
    return f"{title} · {company}"


class IntegrationQuerySet(GatewayQuerySet):
    def active(self):
        """The one rule of an "active" integration, as a query: the checks, the credential
        form, the connection test and the company page all ask this (or ``counts_as_active``)."""
        return self.filter(is_active=True).exclude(status__in=INACTIVE_STATUSES)


class Integration(TimestampedModel):
    """A row of `integrations`. No soft delete in the gateway; only its admin screens read it.

    `tenant_id` is NOT NULL without default and read by nothing: the console writes a UUID.
    The secret columns hold Laravel `encryptString()` payloads; `credentials` is plain JSON and
    never receives a secret.
    """

    PROVIDERS = ("calcom", "retell", "webhook", "api", "oauth2")
    STATUSES = ("active", "inactive", "error", "syncing", "pending", "suspended")
    HEALTH = ("healthy", "degraded", "unhealthy", "unknown")
    SECRET_COLUMNS = {
        **dict.fromkeys(
            ("api_key", "api_secret", "access_token", "refresh_token", "webhook_secret"), RAW
        ),
        "credentials": PLAIN,  # plain JSON the console never fills; hidden all the same
    }
    # Plain JSON the console writes: no secret may go in (services/limits.py).
    PLAIN_JSON_COLUMNS = ("config",)
    # What __str__ reads besides the row: the change store loads it for a batch at once.
    LABEL_RELATED = ("company",)

    id = UnsignedBigAutoField(primary_key=True)
    tenant_id = Char36Field(_("tenant id"), default=new_uuid, editable=False)
    company = models.ForeignKey(
        Company,
        models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="integrations",
        verbose_name=_("company"),
    )
    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=255)
    provider = models.CharField(_("provider"), max_length=255, null=True, blank=True)
    status = models.CharField(_("status"), max_length=255, default="active")
    is_active = models.BooleanField(_("active"), default=True)
    environment = models.CharField(_("environment"), max_length=255, default="production")
    description = TextField(_("description"), null=True, blank=True)
    config = models.JSONField(_("configuration"), null=True, blank=True)
    credentials = models.JSONField(null=True, blank=True, editable=False)
    api_key = TextField(null=True, blank=True, editable=False)
    api_secret = TextField(null=True, blank=True, editable=False)
    access_token = TextField(null=True, blank=True, editable=False)
    refresh_token = TextField(null=True, blank=True, editable=False)
    webhook_secret = TextField(null=True, blank=True, editable=False)
    webhook_url = TextField(_("webhook URL"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    health_status = EnumField(_("health"), values=HEALTH, default="unknown", editable=False)
    health_score = models.IntegerField(_("health score"), default=0, editable=False)
    last_error = TextField(_("last error"), null=True, blank=True, editable=False)
    error_count = models.IntegerField(_("errors"), default=0, editable=False)
    success_count = models.IntegerField(_("successes"), default=0, editable=False)
    last_success_at = TimestampField(_("last success"), null=True, blank=True, editable=False)
    last_error_at = TimestampField(_("last error at"), null=True, blank=True, editable=False)
    last_sync_at = TimestampField(_("last sync"), null=True, blank=True, editable=False)
    created_by = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    updated_by = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    objects = IntegrationQuerySet.as_manager()

    class Meta(TimestampedModel.Meta):
        db_table = "integrations"
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["company__name", "provider"]

    def __str__(self) -> str:
        return integration_title(self.provider, self.name, self.company_label())

    def company_label(self) -> str:
        """The company's name (loaded once; bulk writes load all of a batch's in one query,
        ``LABEL_RELATED``), or why there is none."""
        if self.company_id is None:
            return gettext("no company")
        try:
            company = self.company
        except Company.DoesNotExist:
            company = None
        if company is None:
            return gettext("missing (%(key)s)") % {"key": self.company_id}
        if company.deleted_at is not None:
            return gettext("%(name)s (deleted)") % {"name": company.name}
        return company.name

    @property
    def config_object(self) -> dict:
        """`config` as a JSON object: {} when the gateway stored something else there (a list,
        a string), which the pages and the credential save must read without failing."""
        return self.config if isinstance(self.config, dict) else {}


class NotificationTemplate(TimestampedModel):
    """`subject` and `content` are JSON objects keyed by language, `de` the fallback."""

    CHANNELS = ("email", "sms", "whatsapp", "push")

    id = UnsignedBigAutoField(primary_key=True)
    company = models.ForeignKey(
        Company,
        models.DO_NOTHING,
        related_name="notification_templates",
        verbose_name=_("company"),
    )
    key = models.CharField(_("key"), max_length=100)
    channel = models.CharField(_("channel"), max_length=20)
    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=255)
    description = TextField(_("description"), null=True, blank=True)
    subject = models.JSONField(_("subject"), null=True, blank=True)
    content = models.JSONField(_("content"), null=True, blank=True)
    translations = models.JSONField(_("translations"), default=dict)
    variables = models.JSONField(_("variables"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_system = models.BooleanField(_("system template"), default=False)
    priority = models.IntegerField(_("priority"), default=5)

    class Meta(TimestampedModel.Meta):
        db_table = "notification_templates"
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["company__name", "key", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "key", "channel"], name="notification_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.channel})"


class RetellAgent(TimestampedModel):
    """A row of `retell_agents`: since 2026-02-18 the gateway's call-start and call-end paths
    find a call's company by its Retell agent first (semantics.md §3a). No gateway migration
    creates the table; production has it. No soft delete."""

    SYNC_STATUSES = ("pending", "synced", "error")

    id = UnsignedBigAutoField(primary_key=True)
    agent_id = models.CharField(_("Retell agent id"), max_length=255, unique=True)
    name = models.CharField(_("name"), max_length=255)
    company = models.ForeignKey(
        Company,
        models.DO_NOTHING,
        db_constraint=False,
        related_name="retell_agents",
        verbose_name=_("company"),
    )
    phone_number = models.ForeignKey(
        "integrations_app.PhoneNumber",
        models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="retell_agents",
        verbose_name=_("phone number"),
    )
    configuration = models.JSONField(_("configuration"), null=True, blank=True)
    version = models.IntegerField(_("version"), null=True, blank=True)
    version_title = models.CharField(_("version title"), max_length=255, null=True, blank=True)
    is_published = models.BooleanField(_("published"), null=True, blank=True, default=False)
    settings = models.JSONField(_("settings"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), null=True, blank=True, default=True)
    active = models.BooleanField(_("active (legacy column)"), null=True, blank=True, default=True)
    last_synced_at = TimestampField(_("last synced"), null=True, blank=True)
    sync_status = EnumField(
        _("sync status"), values=SYNC_STATUSES, default="pending", null=True, blank=True
    )

    class Meta(TimestampedModel.Meta):
        db_table = "retell_agents"
        verbose_name = _("Retell agent")
        verbose_name_plural = _("Retell agents")
        ordering = ["company__name", "agent_id"]

    def __str__(self) -> str:
        return self.name or self.agent_id
