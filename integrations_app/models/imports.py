"""The console's own record of every phone-number import (a managed, migrated table)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PhoneImport(models.Model):
    """One import of a phone-number file: who, when, which file, what it found and changed.

    A rejected import (any row with an error) is recorded too, with nothing written. Every row
    the import created or changed has its django-auditlog entry, with before and after and the
    spreadsheet row, under the import's correlation id (``history_entries``): the history of
    each number shows its import, and the import shows its rows.
    """

    OUTCOMES = (("imported", _("imported")), ("rejected", _("rejected")))

    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True, db_index=True)
    source = models.CharField(_("source"), max_length=60, default="admin")
    file_name = models.CharField(_("file name"), max_length=255)
    checksum = models.CharField(_("SHA-256 checksum"), max_length=64, db_index=True)
    region = models.CharField(_("default region"), max_length=2, default="DE")
    outcome = models.CharField(_("outcome"), max_length=10, choices=OUTCOMES)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    new_count = models.PositiveIntegerField(_("new"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)

    class Meta:
        verbose_name = _("phone-number import")
        verbose_name_plural = _("phone-number imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.imported_at:%Y-%m-%d %H:%M}"

    @property
    def cid(self) -> str:
        """The correlation id of this import's history entries."""
        return f"phone-import:{self.pk}"

    def history_entries(self):
        from auditlog import get_logentry_model

        return get_logentry_model().objects.filter(cid=self.cid).order_by("pk")
