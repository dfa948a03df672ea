"""The console's own record of every phone-number import (a managed, migrated table)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PhoneImport(models.Model):
    """One import of a phone-number file: who, when, which file, what it found and changed.

    A rejected import (any row with an error) is recorded too, with nothing written. The rows
    it created or changed, with before and after, are in ``changes`` (``PhoneImportChanges``),
    up to a thousand rows to a record, as the audit's fixes keep theirs: a django-auditlog entry
    per row would cost the database as much as the phone numbers themselves. Every row written
    gets ``written_at`` as its ``updated_at`` (and ``created_at`` when new), so the history of a
    number finds the imports that wrote it.
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
    written_at = models.DateTimeField(_("written at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("phone-number import")
        verbose_name_plural = _("phone-number imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {timezone.localtime(self.imported_at):%Y-%m-%d %H:%M}"

    def written_rows(self):
        """Every row this import wrote, in row order: {"row", "id", "action", "before", "after"}."""
        for changes in self.changes.order_by("first_row"):
            yield from changes.entries


class PhoneImportChanges(models.Model):
    """The rows one batch of an import wrote (up to a thousand), with before and after.

    ``entries`` is a list of {"row": spreadsheet row, "id": phone number id, "action": "create" or
    "update", "before": None or the changed columns' old values, "after": the values written}.
    """

    phone_import = models.ForeignKey(
        PhoneImport,
        models.CASCADE,
        related_name="changes",
        verbose_name=_("phone-number import"),
    )
    first_row = models.PositiveIntegerField(_("first row"))
    last_row = models.PositiveIntegerField(_("last row"))
    row_count = models.PositiveIntegerField(_("rows"))
    entries = models.JSONField(_("rows written"), default=list)

    class Meta:
        verbose_name = _("rows written by an import")
        verbose_name_plural = _("rows written by imports")
        ordering = ["phone_import", "first_row"]

    def __str__(self) -> str:
        return f"{self.phone_import_id}:{self.first_row}-{self.last_row}"


class ImportLock(models.Model):
    """One row per kind of import, locked while one runs: two imports run one after the other,
    and the second checks its rows against what the first wrote."""

    name = models.CharField(max_length=60, primary_key=True)

    class Meta:
        verbose_name = _("import lock")

    def __str__(self) -> str:
        return self.name


class PhoneImportUpload(models.Model):
    """A file between its preview and the confirm: on the server, not in the session (a 5 MiB
    file would ride along with every request of its user). Removed on confirm, replaced by the
    user's next upload, and gone after a day."""

    key = models.CharField(max_length=43, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    data = models.BinaryField()  # zlib-compressed
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("uploaded phone-number file")

    def __str__(self) -> str:
        return self.key
