"""Rewriting encrypted secret columns in bulk (key rotation), recorded as fingerprints only.

Key rotation re-encrypts a batch of rows it has read and locked itself; this writes that batch
in a fixed number of statements, whatever its size: one multi-row
``UPDATE ... SET column = CASE id WHEN ... END ... WHERE id IN (...)`` (``bulk_sql.update_by_key``)
and the change store's rows as multi-row INSERTs (``bulk_sql.Insert``), one ``Change`` per row
under the current operation, in the caller's transaction. Mirrored tables and ``tenants`` (not
mirrored) go the same way. A change holds, per rewritten column, the fingerprint before and
after (``stored_fingerprint``'s texts), never a value or a payload.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, router, transaction

from changelog.models import Change
from changelog.recording import operation_row
from integrations_app.services.bulk_sql import Insert, json_object, update_by_key

_REPR_LENGTH = Change._meta.get_field("object_repr").max_length


@dataclass(frozen=True)
class Rewritten:
    """One row's new payloads, with what its change records (fingerprints, never values)."""

    pk: object
    payloads: dict  # {column: new payload}
    before: dict  # {column: fingerprint text of the old value}
    after: dict  # {column: fingerprint text of the new value}
    company_id: int | None = None
    label: str = ""


def rewrite_secrets(
    *, table: str, rows: Sequence[Rewritten], key: str = "id", using: str = "default"
) -> int:
    """Write ``rows``' payloads into ``table`` and record one change per row; returns the rows.

    The caller has read (and locked) the rows and computed the fingerprints from what it read:
    nothing is read again here.
    """
    rows = [row for row in rows if row.payloads]
    if not rows:
        return 0
    connection = connections[using]
    # The caller's transaction (the batch's), or one of its own: no savepoint per batch.
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        update_by_key(cursor, table, key, {row.pk: row.payloads for row in rows})
        operation_id = operation_row(using=router.db_for_write(Change)).pk
        record = Insert(
            cursor,
            Change,
            ("object_pk", "company_id", "object_repr", "before", "after"),
            {"operation": operation_id, "table": table, "action": Change.Action.UPDATE.value},
        )
        record(
            [
                (
                    str(row.pk),
                    row.company_id,
                    str(row.label or "")[:_REPR_LENGTH],
                    json_object(row.before),
                    json_object(row.after),
                )
                for row in rows
            ]
        )
    return len(rows)
