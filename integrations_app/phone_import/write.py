"""Writing a checked plan: all rows or none, in bulk, each written row recorded with its import.

Only a plan without errors is written. New rows get a new lowercase UUID v4 and the three
routing columns in E.164; an update writes only the columns that differ (and ``updated_at``).

New rows go in as multi-row INSERTs of ``BATCH`` rows, made as they are sent: no model
instance and no signal per row, and memory that does not grow with the file. The import's
record (``PhoneImport``) gets the rows of each batch, with before and after, as one
``PhoneImportChanges`` row, and ``written_at``, the timestamp every written row carries; the
change history gets one entry for the import itself.
"""

import re
from collections import defaultdict
from itertools import islice
from json.encoder import encode_basestring
from operator import itemgetter

from django.db import connections, router
from django.utils import timezone

from integrations_app.models import PhoneImport, PhoneImportChanges, PhoneNumber
from integrations_app.models.fields import new_uuid
from integrations_app.phone_import.lookups import WRITTEN
from integrations_app.phone_import.validate import NEW, UPDATE, ImportPlan

BATCH = 1000
_ROUTING_COPIES = {"number_normalized": "number", "phone_number": "number"}
_SAFE_TEXT = re.compile(r"^[\w:. +-]*$", re.ASCII)  # digits, letters, ":", ".", "-", "+", " "


def write_plan(plan: ImportPlan, record: PhoneImport, *, user=None) -> None:
    """Write ``plan`` (no errors) and its record; the caller holds the transaction."""
    assert not plan.has_errors, "a plan with errors is never written"
    connection = connections[router.db_for_write(PhoneNumber)]
    now = timezone.now().replace(microsecond=0)
    stamp = PhoneNumber._meta.get_field("created_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        # MySQL and MariaDB let a value name a column set before it in the same row: the
        # number is then sent once for its three routing columns.
        copies = _ROUTING_COPIES if connection.vendor == "mysql" else {}
        sent = [i for i, column in enumerate(WRITTEN) if column not in copies]
        pick = itemgetter(*sent)
        insert = _Insert(
            cursor,
            PhoneNumber,
            ("id", *(WRITTEN[i] for i in sent)),
            {"created_at": stamp, "updated_at": stamp},
            copies=copies,
        )
        changes = _Insert(
            cursor,
            PhoneImportChanges,
            ("first_row", "last_row", "row_count", "entries"),
            {"phone_import_id": record.pk},
        )
        for batch in _batches(plan.rows_with(NEW)):
            pks = [new_uuid() for _ in batch]
            insert([(pk, *pick(r.after)) for pk, r in zip(pks, batch, strict=True)])
            changes([_changes_of(batch, pks)])
        for batch in _batches(plan.rows_with(UPDATE)):
            _update(batch, now)
            changes([_changes_of(batch, [r.pk for r in batch])])
    record.written_at = now
    record.save(update_fields=["written_at"])


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


def _changes_of(batch, pks) -> tuple:
    """One ``PhoneImportChanges`` row: (first row, last row, count, the rows as JSON text)."""
    entries = []
    for result, pk in zip(batch, pks, strict=True):
        if result.before is None:
            entries.append(_CREATED % (result.row, pk, _CREATED_AFTER % _values(result.after)))
        else:
            entries.append(_updated(result.row, pk, result.before, result.after))
    return batch[0].row, batch[-1].row, len(batch), "[" + ",".join(entries) + "]"


# A row as JSON text from format strings: every new row sets the same columns, so only the
# values differ (json.dumps per row would take three times as long, for the same text).
_CREATED = '{"row":%d,"id":"%s","action":"create","before":null,"after":%s}'
_CREATED_AFTER = "{" + ",".join(f'"{column}":%s' for column in WRITTEN) + "}"


def _values(values: tuple) -> tuple:
    return tuple(map(_json_value, values))


def _json_value(value) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    return encode_basestring(value)  # a JSON string, escaped


def _updated(row: int, pk: str, before: tuple, after: tuple) -> str:
    """An updated row: before and after of the columns it changes."""
    changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
    old = ",".join(f'"{WRITTEN[i]}":{_json_value(before[i])}' for i in changed)
    new = ",".join(f'"{WRITTEN[i]}":{_json_value(after[i])}' for i in changed)
    return (
        f'{{"row":{row:d},"id":{encode_basestring(pk)},"action":"update",'
        f'"before":{{{old}}},"after":{{{new}}}}}'
    )


class _Insert:
    """Multi-row INSERT statements of up to ``BATCH`` rows (fewer where the database allows
    fewer parameters per statement, as SQLite does).

    Values that are the same for every row are written into the statement once instead of
    bound for each row: whole numbers and plain text (timestamps, ids) only, checked by
    ``_inlinable``; anything else is bound like the rest. A constant None is left to the
    column's default (NULL). ``copies`` names columns whose value is that of a column set
    before them in the same row (MySQL and MariaDB only).
    """

    def __init__(self, cursor, model, columns: tuple[str, ...], constants: dict, copies=None):
        self.cursor = cursor
        quote = cursor.db.ops.quote_name
        column = lambda name: quote(model._meta.get_field(name).column)  # noqa: E731
        names, placeholders, self.bound = list(columns), ["%s"] * len(columns), []
        for name, source in (copies or {}).items():  # the value of a column set before it
            names.append(name)
            placeholders.append(column(source))
        for name, value in constants.items():
            if value is None:
                continue
            names.append(name)
            if isinstance(value, bool) or not _inlinable(value):
                placeholders.append("%s")
                self.bound.append(value)
            else:
                placeholders.append(str(value) if isinstance(value, int) else f"'{value}'")
        self.bound = tuple(self.bound)
        self.row_sql = "({})".format(", ".join(placeholders))
        self.head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 (names from the model)
            quote(model._meta.db_table),
            ", ".join(column(name) for name in names),
        )
        per_row = len(columns) + len(self.bound)
        limit = cursor.db.features.max_query_params
        self.rows_per_statement = min(BATCH, limit // per_row) if limit else BATCH

    def __call__(self, rows: list[tuple]) -> None:
        step = self.rows_per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            params = [value for row in chunk for value in (*row, *self.bound)]
            # Column names from the model; values bound, or checked by _inlinable.
            self.cursor.execute(self.head + ", ".join([self.row_sql] * len(chunk)), params)


def _inlinable(value) -> bool:
    if isinstance(value, int):
        return True
    text = str(value) if hasattr(value, "isoformat") else value
    return isinstance(text, str) and bool(_SAFE_TEXT.match(text))


def _batches(iterable):
    iterator = iter(iterable)
    while batch := list(islice(iterator, BATCH)):
        yield batch
