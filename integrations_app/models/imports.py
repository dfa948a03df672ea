"""The console's own record of every phone-number import (a managed, migrated table)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PhoneImport(models.Model):
    """One import of a phone-number file: who, when, which file, what it found and changed.

    A rejected import (any row with an error) is recorded too, with nothing written. Every row
    the import created or changed has its own ``PhoneImportRow`` (``rows``), with before and
    after: one import of 100,000 rows would not fit in one statement (max_allowed_packet).
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


class PhoneImportRow(models.Model):
    """One row an import created or changed: its spreadsheet row, the number, before and after.

    ``before`` is None for a new row; for an update ``before`` and ``after`` hold only the
    columns that changed. ``phone_number_id`` is the gateway's key, not a foreign key: the
    gateway's table is not Django's, and the record outlives a deleted number.
    """

    ACTIONS = (("create", _("created")), ("update", _("updated")))

    phone_import = models.ForeignKey(
        PhoneImport,
        models.CASCADE,
        related_name="rows",
        verbose_name=_("phone-number import"),
    )
    row_number = models.PositiveIntegerField(_("row"))
    phone_number_id = models.CharField(_("phone number id"), max_length=36, db_index=True)
    action = models.CharField(_("action"), max_length=6, choices=ACTIONS)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), default=dict)

    class Meta:
        verbose_name = _("phone-number import row")
        verbose_name_plural = _("phone-number import rows")
        ordering = ["phone_import", "row_number"]

    def __str__(self) -> str:
        return f"{self.phone_import_id}:{self.row_number}"
