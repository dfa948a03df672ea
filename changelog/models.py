"""The change store's two tables (managed, migrated; never a gateway table)."""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    ADMIN = "admin", _("Admin")
    IMPORT = "import", _("Import")
    FIX = "fix", _("Audit fix")
    UNDO = "undo", _("Undo")
    ROTATION = "rotation", _("Key rotation")
    COMMAND = "command", _("Command")
    CONNECTION_TEST = "connection_test", _("Connection test")


class Operation(models.Model):
    """One operation: everything it wrote shares its correlation id (``cid``)."""

    cid = models.CharField(_("correlation id"), max_length=36, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, db_index=True)
    name = models.CharField(_("operation"), max_length=120, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    started_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    # The unique key is what lets only one of two simultaneous undos win.
    undo_of = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="undone_by",
        verbose_name=_("undo of"),
    )

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["-started_at", "-id"]
        permissions = [("undo_operation", _("Can undo an import or a fix run"))]

    def __str__(self) -> str:
        label = self.get_source_display()
        return f"{label}: {self.display_name}" if self.name else str(label)

    @property
    def display_name(self) -> str:
        """The name for people, in their language: an admin request by its page's model and
        what it did, a fix run by its fix's title, an undo by what it undid, a connection
        test by its integrations (changelog/naming.py); the stored name when none applies."""
        from changelog.naming import operation_label  # resolves URLs: not at import

        return operation_label(self.source, self.name)


class Change(models.Model):
    """One gateway row written by an operation: the columns it wrote, before and after.

    ``before`` is None for a created row, ``after`` None for a removed one; a soft delete is
    a "delete" with ``deleted_at`` before and after. Secret columns hold fingerprints only.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")

    operation = models.ForeignKey(
        Operation,
        models.CASCADE,
        related_name="changes",
        verbose_name=_("operation"),
        db_index=False,  # the (operation, id) index below serves it
    )
    table = models.CharField(_("table"), max_length=64)
    object_pk = models.CharField(_("row"), max_length=36)
    action = models.CharField(_("action"), max_length=6, choices=Action.choices)
    company_id = models.PositiveBigIntegerField(_("company"), null=True, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-id"]
        indexes = [
            # An object's history, newest first: the key's own order follows the index.
            models.Index(fields=["table", "object_pk"], name="change_object_idx"),
            models.Index(fields=["operation", "id"], name="change_operation_idx"),
        ]

    def __str__(self) -> str:
        """ "Phone number +4930…: changed": the table by its model's name, when it has one."""
        model = next((m for m in apps.get_models() if m._meta.db_table == self.table), None)
        table = capfirst(model._meta.verbose_name) if model is not None else self.table
        return f"{table} {self.object_repr or self.object_pk}: {self.get_action_display()}"

    @property
    def columns(self) -> list[str]:
        """The columns this change wrote, in a stable order."""
        return list(dict.fromkeys([*(self.before or {}), *(self.after or {})]))
