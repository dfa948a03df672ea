"""The console's own audit tables: fix records and locks, and the audit's snapshots over time."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations_app.labels import local_time


class FixRecord(models.Model):
    """One applied fix: who, when, which check, why, and how many rows it created or changed.

    The rows themselves are in the one change store, under ``operation`` (source "fix"): the
    record keeps the summary and the counts, the store the before and after of every row.
    """

    check_id = models.CharField(_("check"), max_length=40, db_index=True)
    fix_id = models.CharField(_("fix"), max_length=60)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("applied by"),
    )
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True, db_index=True)
    source = models.CharField(_("source"), max_length=40, default="dashboard")
    summary = models.CharField(_("summary"), max_length=255)
    created_count = models.PositiveIntegerField(_("rows created"), default=0)
    changed_count = models.PositiveIntegerField(_("rows changed"), default=0)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    # Null only for a record whose operation wrote nothing; PROTECT: the store keeps the rows.
    operation = models.OneToOneField(
        "changelog.Operation",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="fix_record",
        verbose_name=_("operation"),
    )

    class Meta:
        verbose_name = _("applied fix")
        verbose_name_plural = _("applied fixes")
        ordering = ["-applied_at", "-id"]
        permissions = [("apply_fix", _("Can apply audit fixes"))]

    def __str__(self) -> str:
        return f"{self.check_id} {local_time(self.applied_at)}"


class FixLock(models.Model):
    """A row locked while a fix applies: two clicks, or two fixes, run one after the other.

    Every fix holds the same row (``fixes.service.ALL_FIXES``); the column keeps its name.
    """

    fix_id = models.CharField(max_length=60, primary_key=True)

    class Meta:
        verbose_name = _("fix lock")

    def __str__(self) -> str:
        return self.fix_id


class AuditSnapshot(models.Model):
    """The audit at one moment, kept for trends, "new since" and alerts.

    ``measures``: {key: {"numerator", "denominator", "percent"}}; ``counts``: {check id:
    {"severity", "count", "available"}}; ``findings``: {check id: ["table:pk", ...]}, the keys of
    the affected rows only (compact: no labels, no pages). Pages that draw trends read
    ``measures`` and ``counts`` and leave ``findings`` unread.
    """

    SOURCES = (
        ("command", _("command")),
        ("dashboard", _("dashboard")),
        ("demo", _("demo data")),
        ("schedule", _("schedule")),
    )

    taken_at = models.DateTimeField(_("taken at"), default=timezone.now, db_index=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    source = models.CharField(_("source"), max_length=20, choices=SOURCES, default="command")
    measures = models.JSONField(_("measures"), default=dict)
    counts = models.JSONField(_("check counts"), default=dict)
    findings = models.JSONField(_("affected rows"), default=dict)

    class Meta:
        verbose_name = _("audit snapshot")
        verbose_name_plural = _("audit snapshots")
        ordering = ["-taken_at", "-id"]
        permissions = [("record_snapshot", _("Can record an audit snapshot"))]

    def __str__(self) -> str:
        return local_time(self.taken_at)


class ProviderReconciliation(models.Model):
    """The last comparison of one company's gateway rows with a provider, one row per
    (kind, company): written by ``manage.py reconcile_calcom``, read by the audit's checks and
    the company page, so that neither calls a provider itself.

    ``available`` False: the provider could not be read, ``reason`` says why (never "in sync").
    ``findings``: [{"kind", ...}] as made by integrations_app/reconcile_calcom.py.
    """

    kind = models.CharField(_("kind"), max_length=40)  # e.g. "calcom_event_types"
    company_id = models.BigIntegerField(_("company"))
    company_name = models.CharField(_("company name"), max_length=255, blank=True)
    available = models.BooleanField(_("available"), default=True)
    reason = models.TextField(_("reason"), blank=True)
    provider_count = models.PositiveIntegerField(_("provider rows"), default=0)
    findings = models.JSONField(_("findings"), default=list)
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)

    class Meta:
        verbose_name = _("provider reconciliation")
        verbose_name_plural = _("provider reconciliations")
        ordering = ["kind", "company_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "company_id"], name="reconciliation_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.company_name or self.company_id}"
