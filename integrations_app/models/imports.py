"""The console's own record of every phone-number import (a managed, migrated table)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations_app.labels import local_time


class PhoneImport(models.Model):
    """One import of a phone-number file: who, when, which file, what it found and changed.

    A rejected import (any row with an error) is recorded too, with nothing written. The rows
    it created or changed, with before and after, are in the one change store, under its
    ``operation`` (one ``changelog.Change`` per row): a number's history shows them like any
    other change. ``operation`` is empty when the import wrote no row.
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
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    operation = models.OneToOneField(
        "changelog.Operation",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="phone_import",
        verbose_name=_("operation"),
    )

    class Meta:
        verbose_name = _("phone-number import")
        verbose_name_plural = _("phone-number imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {local_time(self.imported_at)}"

    def written_changes(self):
        """The store's rows of what this import wrote, in the order it wrote them."""
        from changelog.models import Change
        from changelog.selectors import operation_changes

        if self.operation_id is None:
            return Change.objects.none()
        return operation_changes(operation=self.operation)


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
