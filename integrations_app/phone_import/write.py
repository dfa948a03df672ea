"""Writing a checked plan: all rows or none, in bulk, each written row recorded in the store.

Only a plan without errors is written. New rows get a new lowercase UUID v4 and the three
routing columns in E.164; an update writes only the columns that differ (and ``updated_at``).

New rows go in as multi-row INSERTs of ``BATCH`` rows (``services.bulk_sql``), made as they
are sent: no model instance and no signal per row, and memory that does not grow with the
file. Every written row gets its ``changelog.Change`` under the import's operation (one
``Operation`` row, looked up once), in the same kind of multi-row INSERT, with its before and
after built as JSON text: a number's history page then shows the imports that wrote it.
"""

from collections import defaultdict
from operator import itemgetter

from django.db import connections, router
from django.utils import timezone

from changelog.models import Change
from changelog.recording import operation_row
from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.models.fields import new_uuid
from integrations_app.phone_import.lookups import WRITTEN
from integrations_app.phone_import.validate import NEW, UPDATE, ImportPlan
from integrations_app.services.bulk_sql import (
    BATCH,
    Insert,
    batches,
    json_object_format,
    json_value,
)

__all__ = ["BATCH", "write_plan"]

TABLE = PhoneNumber._meta.db_table
_ROUTING_COPIES = {"number_normalized": "number", "phone_number": "number"}
_NUMBER = WRITTEN.index("number")
_COMPANY = WRITTEN.index("company_id")
_REPR_LENGTH = Change._meta.get_field("object_repr").max_length
# A new row's after-image from one format string: every new row sets the same columns, so only
# the values differ (json.dumps per row would take three times as long, for the same text).
_CREATED_AFTER = json_object_format(WRITTEN)


def write_plan(plan: ImportPlan, record: PhoneImport, *, user=None) -> None:
    """Write ``plan`` (no errors) and record every row; the caller holds the transaction and
    the import's ``operation(...)``. Links ``record`` to the operation when a row was written."""
    assert not plan.has_errors, "a plan with errors is never written"
    counts = plan.counts
    if not (counts[NEW] or counts[UPDATE]):
        return  # nothing to write: no operation row either
    database = router.db_for_write(PhoneNumber)
    connection = connections[database]
    now = timezone.now().replace(microsecond=0)
    stamp = PhoneNumber._meta.get_field("created_at").get_db_prep_save(now, connection)
    operation = operation_row(using=router.db_for_write(Change))
    with connection.cursor() as cursor:
        # MySQL and MariaDB let a value name a column set before it in the same row: the
        # number is then sent once for its three routing columns.
        copies = _ROUTING_COPIES if connection.vendor == "mysql" else {}
        sent = [i for i, column in enumerate(WRITTEN) if column not in copies]
        pick = itemgetter(*sent)
        insert = Insert(
            cursor,
            PhoneNumber,
            ("id", *(WRITTEN[i] for i in sent)),
            {"created_at": stamp, "updated_at": stamp},
            copies=copies,
        )
        common = {"operation": operation.pk, "table": TABLE}
        created = Insert(
            cursor,
            Change,
            ("object_pk", "company_id", "object_repr", "after"),
            {**common, "action": Change.Action.CREATE.value},
        )
        for batch in batches(plan.rows_with(NEW)):
            pks = [new_uuid() for _ in batch]
            insert([(pk, *pick(r.after)) for pk, r in zip(pks, batch, strict=True)])
            created([_created(pk, r.after) for pk, r in zip(pks, batch, strict=True)])
        updated = Insert(
            cursor,
            Change,
            ("object_pk", "company_id", "object_repr", "before", "after"),
            {**common, "action": Change.Action.UPDATE.value},
        )
        for batch in batches(plan.rows_with(UPDATE)):
            _update(batch, now)
            updated([_updated(r.pk, r.before, r.after) for r in batch])
    record.operation = operation
    record.save(update_fields=["operation"])


def _update(batch, now) -> None:
    """Updates (rare next to new rows), grouped by the columns they change: bulk_update each."""
    groups = defaultdict(list)
    for result in batch:
        changed = tuple(result.changed)
        values = result.values()
        groups[changed].append(
            PhoneNumber(id=result.pk, updated_at=now, **{c: values[c] for c in changed})
        )
    for columns, rows in groups.items():
        PhoneNumber.objects.bulk_update(rows, [*columns, "updated_at"])


def _created(pk: str, after: tuple) -> tuple:
    """(object_pk, company_id, object_repr, after) of a new row's change."""
    return (
        pk,
        after[_COMPANY],
        after[_NUMBER][:_REPR_LENGTH],
        _CREATED_AFTER % tuple(map(json_value, after)),
    )


def _updated(pk: str, before: tuple, after: tuple) -> tuple:
    """(object_pk, company_id, object_repr, before, after): the columns the update changes."""
    changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
    old = ",".join(f'"{WRITTEN[i]}":{json_value(before[i])}' for i in changed)
    new = ",".join(f'"{WRITTEN[i]}":{json_value(after[i])}' for i in changed)
    return pk, after[_COMPANY], after[_NUMBER][:_REPR_LENGTH], f"{{{old}}}", f"{{{new}}}"
