"""A gateway row as the change store keeps it: JSON values by column, secrets as fingerprints."""

import datetime
import decimal
import uuid

from changelog.recording import RowChange
from integrations_app.crypto.fingerprint import stored_fingerprint

# Laravel keeps these itself; a change lists the columns that carry meaning.
STAMPS = ("created_at", "updated_at")


def json_value(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def columns_of(model) -> list[str]:
    """Every concrete column's attribute name (``company_id``, not ``company``)."""
    return [f.attname for f in model._meta.concrete_fields]


def values_of(instance, columns, encrypter=None) -> dict:
    """{column: value} for ``columns``; a secret column's value is its fingerprint."""
    secrets = instance.SECRET_COLUMNS
    values = {}
    for column in columns:
        value = getattr(instance, column)
        if column in secrets:
            value = stored_fingerprint(value, secrets[column], encrypter)
        values[column] = json_value(value)
    return values


def company_of(instance) -> int | None:
    if instance._meta.db_table == "companies":
        return instance.pk
    value = getattr(instance, "company_id", None)
    return value if isinstance(value, int) else None


def label_of(instance) -> str:
    try:
        return str(instance)[:200]
    except Exception:  # a __str__ that reads a missing related row  # noqa: BLE001
        return str(instance.pk)


def created(instance, encrypter=None) -> RowChange:
    """A new row: its whole after-image (secrets as fingerprints)."""
    return _whole(instance, "create", "after", encrypter)


def removed(instance, encrypter=None) -> RowChange:
    """A row removed for real: its whole before-image, so that an undo can put it back."""
    return _whole(instance, "delete", "before", encrypter)


def _whole(instance, action: str, side: str, encrypter) -> RowChange:
    columns = [c for c in columns_of(type(instance)) if c not in STAMPS]
    return RowChange(
        table=instance._meta.db_table,
        pk=instance.pk,
        action=action,
        company_id=company_of(instance),
        label=label_of(instance),
        **{side: values_of(instance, columns, encrypter)},
    )


def changed(old, new, columns, *, action="update", encrypter=None) -> RowChange | None:
    """The columns of ``columns`` whose value differs between ``old`` and ``new``; None if none."""
    columns = [c for c in columns if c not in STAMPS or action == "delete"]
    before = values_of(old, columns, encrypter)
    after = values_of(new, columns, encrypter)
    differ = [c for c in columns if before[c] != after[c] or c == "deleted_at"]
    if not differ or (action == "update" and all(before[c] == after[c] for c in differ)):
        return None
    return RowChange(
        table=new._meta.db_table,
        pk=new.pk,
        action=action,
        before={c: before[c] for c in differ},
        after={c: after[c] for c in differ},
        company_id=company_of(new) or company_of(old),
        label=label_of(new),
    )
