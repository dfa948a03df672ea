"""What every mirrored gateway table shares: no migrations, Laravel timestamps, soft deletes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations_app.crypto.encrypter import RAW, SERIALIZED
from integrations_app.models.fields import Char36Field, TimestampField, new_uuid

PLAIN = "plain"  # a secret the gateway keeps in plain text by design (semantics.md §1)


class GatewayQuerySet(models.QuerySet):
    def delete(self):
        """Deleted through the one write path: as the gateway deletes, and recorded."""
        from integrations_app.services import delete_records  # services import the models

        count = delete_records(queryset=self)
        return count, {self.model._meta.label: count}


class GatewayModel(models.Model):
    """A table the gateway owns: Django never creates, alters or drops it."""

    # The secret columns, declared here and nowhere else: {column: flavour}, the flavour being
    # SERIALIZED (Laravel encrypt()), RAW (encryptString()) or PLAIN. The history, the admin,
    # key rotation, the secret checks and the canary test all read this.
    SECRET_COLUMNS: dict[str, str] = {}

    objects = GatewayQuerySet.as_manager()

    class Meta:
        abstract = True
        managed = False

    def delete(self, using=None, keep_parents=False):
        """Deleted through the one write path: as the gateway deletes, and recorded."""
        from integrations_app.services import delete_record  # services import the models

        delete_record(instance=self)
        return 1, {self._meta.label: 1}

    @classmethod
    def secret_columns(cls) -> tuple[str, ...]:
        return tuple(cls.SECRET_COLUMNS)

    @classmethod
    def encrypted_columns(cls, flavour: str | None = None) -> tuple[str, ...]:
        """The secret columns holding Laravel payloads (of ``flavour``, if given)."""
        wanted = (flavour,) if flavour else (RAW, SERIALIZED)
        return tuple(c for c, f in cls.SECRET_COLUMNS.items() if f in wanted)


class UUIDKeyModel(GatewayModel):
    """Tables keyed by `char(36)` without a database default: the console makes the key."""

    id = Char36Field(primary_key=True, default=new_uuid, editable=False)

    class Meta(GatewayModel.Meta):
        abstract = True


class TimestampedModel(GatewayModel):
    """Laravel's created_at/updated_at, kept by every save and bulk insert of the console."""

    created_at = TimestampField(_("created"), null=True, blank=True, auto_now_add=True)
    updated_at = TimestampField(_("updated"), null=True, blank=True, auto_now=True)

    class Meta(GatewayModel.Meta):
        abstract = True


class SoftDeleteQuerySet(GatewayQuerySet):
    """Laravel's SoftDeletes: ``delete()`` sets deleted_at and keeps the rows."""


class LiveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """The default manager: soft-deleted rows are invisible, as in the gateway."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class SoftDeleteModel(TimestampedModel):
    deleted_at = TimestampField(_("deleted"), null=True, blank=True, editable=False)

    objects = LiveManager()
    all_objects = models.Manager.from_queryset(SoftDeleteQuerySet)()

    class Meta(TimestampedModel.Meta):
        abstract = True
        # Related lookups (a phone number's branch) must still see deleted rows, to report them.
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, using=None, keep_parents=False):
        super().delete(using=using, keep_parents=keep_parents)
        self.deleted_at = (
            type(self)._base_manager.filter(pk=self.pk).values_list("deleted_at", flat=True)[0]
        )
        return 1, {self._meta.label: 1}
