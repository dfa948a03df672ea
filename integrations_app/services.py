"""Every write the console makes to the gateway's tables (DESIGN.md decision 6).

Plain functions taking keyword arguments. Each does one change in one transaction and leaves a
record in the history (django-auditlog): who, when, the source (``source="admin"``, a command,
an import), before and after. Secret columns are never part of a record, and only the credential
service (a later issue) writes them. Admin classes, inlines, imports and commands call these
functions instead of ``Model.save()`` / ``delete()``.
"""

import copy
import json
from collections.abc import Iterable
from contextlib import nullcontext

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.encoding import smart_str
from django.utils.translation import gettext as _

from integrations_app.history import recorded_as, secret_columns
from integrations_app.models import Branch, PhoneNumber
from integrations_app.models.base import SoftDeleteModel
from integrations_app.phone import to_e164


class SecretColumnError(ValueError):
    """A generic write named a secret column: those have their own, encrypting write path."""


def save_record(
    *, instance: Model, fields: Iterable[str] | None = None, source: str | None = None
) -> Model:
    """Insert or update one row.

    With ``fields`` (the names a form changed), an update writes only those columns and
    ``updated_at``, so columns the console did not show (secrets among them) are left as they
    are. Without it, or for a new row, every column is written.
    """
    model = type(instance)
    if fields is not None:
        fields = list(dict.fromkeys(fields))
        named_secrets = set(secret_columns(model)).intersection(fields)
        if named_secrets:
            raise SecretColumnError(", ".join(sorted(named_secrets)))
    with _recorded(source), transaction.atomic(using=router.db_for_write(model)):
        if fields is None or instance._state.adding:
            instance.save()
            return instance
        columns = {f.name for f in model._meta.concrete_fields if not f.primary_key}
        update_fields = [name for name in fields if name in columns]
        if not update_fields:
            return instance
        if "updated_at" in columns and "updated_at" not in update_fields:
            update_fields.append("updated_at")
        instance.save(update_fields=update_fields)
    return instance


def save_phone_number(
    *, instance: PhoneNumber, fields: Iterable[str] | None = None, source: str | None = None
) -> PhoneNumber:
    """Save a routing number the way the gateway finds it (semantics.md §3).

    ``number``, ``number_normalized`` and ``phone_number`` all hold the E.164 form, and the
    branch belongs to the number's company.
    """
    e164 = to_e164(instance.number)
    if e164 is None:
        raise ValidationError(
            _("%(number)s is not a valid phone number."), params={"number": instance.number}
        )
    instance.number = instance.number_normalized = instance.phone_number = e164
    if instance.branch_id is not None:
        branch_company = (
            Branch.all_objects.filter(pk=instance.branch_id)
            .values_list("company_id", flat=True)
            .first()
        )
        if branch_company is None or (
            instance.company_id is not None and branch_company != instance.company_id
        ):
            raise ValidationError(_("The branch does not belong to the number's company."))
        if instance.company_id is None:
            instance.company_id = branch_company
            fields = None if fields is None else [*fields, "company"]
    if fields is not None:
        fields = [*fields, "number", "number_normalized", "phone_number"]
    return save_record(instance=instance, fields=fields, source=source)


def delete_record(*, instance: Model, source: str | None = None) -> None:
    """Delete one row as the gateway does: soft where it soft-deletes, else for real.

    Soft delete sets ``deleted_at`` (the row stays, hidden from the default manager); a phone
    number or an integration is removed. Either way django-auditlog records the row's state
    (secrets excluded) from the model's signals.
    """
    model = type(instance)
    with _recorded(source), transaction.atomic(using=router.db_for_write(model)):
        instance.delete()


def delete_records(*, queryset: QuerySet, source: str | None = None) -> int:
    """Delete the rows of ``queryset`` as :func:`delete_record` would, in a fixed number of queries.

    ``QuerySet.update()`` and a signal-less delete send no signals, so the history entries
    are written here, one per row, in one bulk insert, with the same content django-auditlog
    writes for a single row. Returns the number of rows deleted.
    """
    model = queryset.model
    LogEntry = get_logentry_model()
    use_json = settings.AUDITLOG_STORE_JSON_CHANGES
    with _recorded(source), transaction.atomic(using=router.db_for_write(model)):
        rows = list(queryset.order_by())
        if issubclass(model, SoftDeleteModel):
            rows = [row for row in rows if row.deleted_at is None]
        if not rows:
            return 0
        pks = [row.pk for row in rows]
        entries = []
        if issubclass(model, SoftDeleteModel):
            now = timezone.now().replace(microsecond=0)
            model.all_objects.filter(pk__in=pks).update(deleted_at=now, updated_at=now)
            for old in rows:
                new = copy.copy(old)
                new.deleted_at = new.updated_at = now
                changes = model_instance_diff(
                    old,
                    new,
                    fields_to_check=["deleted_at", "updated_at"],
                    use_json_for_changes=use_json,
                )
                entries.append(_log_entry(new, LogEntry.Action.UPDATE, changes))
        else:
            for old in rows:
                changes = model_instance_diff(old, None, use_json_for_changes=use_json)
                entries.append(_log_entry(old, LogEntry.Action.DELETE, changes))
            # The rows are recorded above; the model's own delete signals would record them again.
            with disable_auditlog():
                model._base_manager.filter(pk__in=pks).delete()
        LogEntry.objects.bulk_create(entries)
    return len(rows)


def _recorded(source: str | None):
    return recorded_as(source) if source else nullcontext()


def _snapshot(instance: Model) -> dict:
    """The row as django-auditlog serializes it (``serialize_auditlog_fields_only``): no secrets."""
    model = type(instance)
    excluded = set(secret_columns(model))
    if auditlog.contains(model):
        excluded.update(auditlog.get_model_fields(model)["exclude_fields"])
    fields = [f.name for f in model._meta.fields if f.name not in excluded]
    return json.loads(serializers.serialize("json", [instance], fields=fields))[0]


def _log_entry(instance: Model, action: int, changes: dict | None):
    LogEntry = get_logentry_model()
    pk = instance.pk
    entry = LogEntry(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_pk=smart_str(pk),
        object_id=pk if isinstance(pk, int) else None,
        object_repr=smart_str(instance),
        action=action,
        changes=changes or {},
        serialized_data=_snapshot(instance),
        additional_data=instance.get_additional_data(),
        cid=get_cid(),
    )
    # bulk_create sends no pre_save: send it, so that django-auditlog's request context (set by
    # its middleware) fills in the actor and address exactly as for a single saved entry.
    pre_save.send(sender=LogEntry, instance=entry, raw=False, using=None, update_fields=None)
    return entry


def record_secret_changes(*, instance: Model, before: dict, after: dict) -> None:
    """Record a change of secret columns by fingerprint (django-auditlog never sees secrets).

    ``before`` and ``after`` map column names to fingerprints (or None when empty); unchanged
    columns are left out, and nothing is written when nothing changed.
    """
    changes = {
        column: [before.get(column), value]
        for column, value in after.items()
        if before.get(column) != value
    }
    if not changes:
        return
    entry = _log_entry(instance, get_logentry_model().Action.UPDATE, changes)
    entry.additional_data = {**(entry.additional_data or {}), "secrets": "fingerprints"}
    entry.save()
