"""The console's record of long work done by background workers (a managed, migrated table).

A page that starts a bulk connection test or a large import creates a ``BackgroundJob`` and
enqueues a task (``integrations_app.tasks``); a worker (``manage.py db_worker``) runs it and
keeps the row's state, progress and heartbeat current, so the page shows where it stands after
a reload and on any machine. A job whose worker stopped beating is marked failed
(``integrations_app.jobs.expire_stale``); what it wrote is complete, chunk by chunk or not at
all, never half.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BackgroundJob(models.Model):
    class Kind(models.TextChoices):
        CONNECTION_TEST = "connection_test", _("connection test")
        PHONE_IMPORT = "phone_import", _("phone-number import")
        AUDIT_SNAPSHOT = "audit_snapshot", _("audit snapshot")

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for a worker")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.QUEUED, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Written by the worker every few seconds while it runs the job (jobs.Heartbeat).
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # The language the person who started it reads: messages stored by the job are in it.
    language = models.CharField(max_length=10, blank=True)
    # Progress: items in all, items finished, and by outcome (a connection test: healthy,
    # degraded, unhealthy or not testable).
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    ok_count = models.PositiveIntegerField(_("ok"), default=0)
    warning_count = models.PositiveIntegerField(_("degraded"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    skipped_count = models.PositiveIntegerField(_("not tested"), default=0)
    # What to do (ids, a company, a file name and region), never a secret.
    params = models.JSONField(default=dict, blank=True)
    # A file to import, zlib-compressed; dropped when the job ends.
    payload = models.BinaryField(null=True, blank=True)
    # What came of it, for the page (counts, names); and why it failed, safe to show.
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    phone_import = models.OneToOneField(
        "integrations_app.PhoneImport",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="job",
        verbose_name=_("phone-number import"),
    )

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class ConnectionTestOutcome(models.Model):
    """One integration a background connection test found not healthy (the healthy ones are
    counted on the job): written with the health fields, in the same chunk transaction."""

    job = models.ForeignKey(BackgroundJob, models.CASCADE, related_name="outcomes")
    integration_id = models.PositiveBigIntegerField(_("integration"))
    company_id = models.PositiveBigIntegerField(_("company"), null=True, blank=True)
    company_name = models.CharField(_("company"), max_length=255, blank=True)
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=20)
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("connection test outcome")
        verbose_name_plural = _("connection test outcomes")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.integration_id}: {self.status}"
