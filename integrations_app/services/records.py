"""Writing gateway rows, one or many, each write recorded in the change store.

Every function does its change in one transaction and records it in the same transaction
(``changelog.recording.record``), under the operation that is current: a request, a fix run,
an import, an undo, a command. Bulk functions stay bulk: a fixed number of queries per batch,
never one per row. Every value a write changes is first checked against its column's limits
(``limits``): ``InvalidValueError`` names the column, and nothing is written.
"""

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from changelog.recording import record
from integrations_app.models.base import SoftDeleteModel
from integrations_app.services import limits, snapshots


class SecretColumnError(ValueError):
    """A generic write named a secret column: those have their own, encrypting write path."""


def _now():
    return timezone.now().replace(microsecond=0)


def _db(model) -> str:
    return router.db_for_write(model)


def _check_no_secrets(model, columns: Iterable[str], allow_secrets: bool) -> None:
    named = set(model.secret_columns()).intersection(columns)
    if named and not allow_secrets:
        raise SecretColumnError(", ".join(sorted(named)))


def save_record(
    *, instance: Model, fields: Iterable[str] | None = None, allow_secrets: bool = False
) -> Model:
    """Insert or update one row and record it.

    With ``fields`` (the names a form changed), an update writes only those columns and
    ``updated_at``, so columns the console did not show (secrets among them) are left as they
    are. Without it, or for a new row, every column is written. Secret columns are written only
    by the credential services (``allow_secrets``), and recorded as fingerprints.
    """
    model = type(instance)
    by_name = {f.name: f.attname for f in model._meta.concrete_fields}
    if fields is not None:
        fields = [by_name.get(name, name) for name in dict.fromkeys(fields)]
        _check_no_secrets(model, fields, allow_secrets)
    with transaction.atomic(using=_db(model)):
        if instance._state.adding:
            limits.check(instance, snapshots.columns_of(model))
            instance.save()
            record([snapshots.created(instance)])
            return instance
        old = model._base_manager.select_for_update().filter(pk=instance.pk).first()
        columns = set(snapshots.columns_of(model)) - {model._meta.pk.attname}
        if fields is None:
            update_fields = None
            written = sorted(columns)
        else:
            written = [c for c in fields if c in columns]
            if not written:
                return instance
            update_fields = [*written]
            if "updated_at" in columns and "updated_at" not in update_fields:
                update_fields.append("updated_at")
        limits.check(instance, written, old)
        instance.save(update_fields=update_fields)
        if old is None:
            record([snapshots.created(instance)])
        elif change := snapshots.changed(old, instance, written):
            record([change])
    return instance


def delete_record(*, instance: Model) -> None:
    """Delete one row as the gateway does: soft where it soft-deletes, else for real."""
    delete_records(queryset=type(instance)._base_manager.filter(pk=instance.pk))


def delete_records(*, queryset: QuerySet) -> int:
    """Delete the rows of ``queryset`` as the gateway does, in a fixed number of queries.

    Soft delete sets ``deleted_at`` (the row stays, hidden from the default manager) and is
    recorded with ``deleted_at`` before and after; a row removed for real is recorded with its
    whole before-image, so that an undo can put it back. Returns the number of rows deleted.
    """
    model = queryset.model
    with transaction.atomic(using=_db(model)):
        rows = list(queryset.order_by().select_for_update())
        if issubclass(model, SoftDeleteModel):
            rows = [row for row in rows if row.deleted_at is None]
        if not rows:
            return 0
        snapshots.load_labels(rows)
        pks = [row.pk for row in rows]
        if issubclass(model, SoftDeleteModel):
            now = _now()
            model.all_objects.filter(pk__in=pks).update(deleted_at=now, updated_at=now)
            changes = []
            for old in rows:
                new = copy.copy(old)
                new.deleted_at = now
                changes.append(snapshots.changed(old, new, ["deleted_at"], action="delete"))
            record(changes)
        else:
            record(snapshots.removed(row) for row in rows)
            # Django's own delete: the models' delete() comes back here.
            QuerySet.delete(model._base_manager.filter(pk__in=pks))
    return len(rows)


def create_rows(*, rows: list[Model], allow_secrets: bool = False) -> list[Model]:
    """Insert ``rows`` of one model in bulk (keys made by the model or the database)."""
    if not rows:
        return rows
    model = type(rows[0])
    if not allow_secrets and any(getattr(r, c) for r in rows for c in model.secret_columns()):
        raise SecretColumnError(", ".join(model.secret_columns()))
    columns = snapshots.columns_of(model)
    for row in rows:
        limits.check(row, columns)
    now = _now()
    for row in rows:
        for stamp in snapshots.STAMPS:
            if hasattr(row, stamp) and getattr(row, stamp) is None:
                setattr(row, stamp, now)
    using = _db(model)
    snapshots.load_labels(rows)
    with transaction.atomic(using=using):
        keyed = all(row.pk is not None for row in rows)
        if keyed or connections[using].features.can_return_rows_from_bulk_insert:
            model._base_manager.bulk_create(rows)
        else:
            # MySQL (unlike MariaDB 10.5+) returns no keys from a multi-row INSERT: the record
            # needs each row's key, so these rows go in one by one.
            for row in rows:
                row.save(force_insert=True, using=using)
        record(snapshots.created(row) for row in rows)
    return rows


def update_rows(
    *,
    model: type[Model],
    values: Mapping[object, Mapping[str, object]],
    allow_secrets: bool = False,
    touch: bool = True,
    encrypter=None,
) -> int:
    """Set, per row key, the given columns; rows whose values do not change are left alone.

    The rows are read (and locked) once for their before-images, then written with one
    ``bulk_update`` per set of columns. ``touch`` stamps ``updated_at`` (Laravel does on every
    save; key rotation does not, the secret itself is unchanged). ``encrypter`` opens secret
    columns for their fingerprints (default: the configured keys). Returns the rows changed.
    """
    if not values:
        return 0
    columns = {c for row in values.values() for c in row}
    _check_no_secrets(model, columns, allow_secrets)
    has_stamp = touch and "updated_at" in snapshots.columns_of(model)
    with transaction.atomic(using=_db(model)):
        current = model._base_manager.select_for_update().in_bulk(list(values))
        snapshots.load_labels(current.values())
        groups, changes, now = defaultdict(list), [], _now()
        for pk, new_values in values.items():
            old = current.get(pk)
            if old is None:
                continue  # gone meanwhile: the caller's plan said which rows it expects
            new = copy.copy(old)
            for column, value in new_values.items():
                setattr(new, column, value)
            limits.check(new, new_values, old)
            change = snapshots.changed(old, new, list(new_values), encrypter=encrypter)
            if change is None:
                continue
            if has_stamp:
                new.updated_at = now
            groups[tuple(sorted(new_values))].append(new)
            changes.append(change)
        for group_columns, rows in groups.items():
            written = [*group_columns, *(["updated_at"] if has_stamp else [])]
            model._base_manager.bulk_update(rows, written, batch_size=500)
        record(changes)
    return len(changes)
