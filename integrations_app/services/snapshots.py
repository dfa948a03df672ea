"""A gateway row as the change store keeps it: JSON values by column, secrets as fingerprints."""

import datetime
import decimal
import uuid

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects

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


def same_value(model, column: str, a, b) -> bool:
    """Whether two stored values of ``column`` are the same value, whatever their notation.

    The store keeps JSON: a time may come back with another offset for the same instant, a
    decimal with another scale ("1.5" / "1.50"). The column's own field decides.
    """
    if a == b:
        return True
    if a is None or b is None or column in model.SECRET_COLUMNS:
        return False
    field = next((f for f in model._meta.concrete_fields if f.attname == column), None)
    if field is None:
        return False
    try:
        return field.to_python(a) == field.to_python(b)
    except (ValidationError, TypeError, ValueError):
        return False


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


def load_labels(instances) -> None:
    """Load what the rows' labels read (a model's ``LABEL_RELATED``) in one query per relation,
    so a batch is labelled without a query per row."""
    instances = list(instances)
    related = getattr(type(instances[0]), "LABEL_RELATED", ()) if instances else ()
    if related:
        prefetch_related_objects(instances, *related)


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
    model = type(new)
    differ = [
        c
        for c in columns
        if not same_value(model, c, before[c], after[c])
        or (c == "deleted_at" and action != "update")
    ]
    if not differ:
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
