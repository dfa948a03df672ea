"""Writing a checked plan: all rows or none, in bulk, each written row recorded in the history.

Only a plan without errors is written. New rows get a new lowercase UUID v4 and the three
routing columns in E.164; an update writes only the columns that differ (and ``updated_at``).

New rows and the history entries go in as prepared multi-row INSERTs (``executemany``, which
mysqlclient sends as statements of about 1 MiB each), in batches of ``BATCH`` rows made as they
are sent: no model instance and no signal per row, and memory that does not grow with the file.
Each written row gets one django-auditlog entry, as a single save would leave it: its changes
as ``[before, after]`` per column, the source, the import and the spreadsheet row in
``additional_data``, and the import's correlation id (``cid``), by which the import's record
lists them.
"""

import json
import re
from collections import defaultdict
from itertools import islice

from auditlog import get_logentry_model
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models.signals import pre_save
from django.utils import timezone

from integrations_app.history import current_source
from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.models.fields import new_uuid
from integrations_app.phone_import.lookups import WRITTEN
from integrations_app.phone_import.validate import NEW, UPDATE, ImportPlan

BATCH = 1000
# The history names the foreign keys as django-auditlog does: by field name, not column.
_HISTORY_NAMES = tuple({"company_id": "company", "branch_id": "branch"}.get(c, c) for c in WRITTEN)
_NEW_COLUMNS = ("id", *WRITTEN)
_SAFE_TEXT = re.compile(r"^[\w:. +-]*$", re.ASCII)  # digits, letters, ":", ".", "-", "+", " "


def write_plan(plan: ImportPlan, record: PhoneImport, *, user=None) -> None:
    """Write ``plan`` (no errors) and its history; the caller holds the transaction."""
    assert not plan.has_errors, "a plan with errors is never written"
    connection = connections[router.db_for_write(PhoneNumber)]
    now = timezone.now().replace(microsecond=0)
    stamp = PhoneNumber._meta.get_field("created_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        history = _History(record, cursor, now, user)
        insert = _Insert(
            cursor, PhoneNumber, _NEW_COLUMNS, {"created_at": stamp, "updated_at": stamp}
        )
        for batch in _batches(plan.rows_with(NEW)):
            pks = [new_uuid() for _ in batch]
            insert([(pk, *r.after) for pk, r in zip(pks, batch, strict=True)])
            history.write([(pk, r.row, None, r.after) for pk, r in zip(pks, batch, strict=True)])
        _write_updates(cursor, plan, now, history)


def _write_updates(cursor, plan: ImportPlan, now, history) -> None:
    """Updates (rare next to new rows), grouped by the columns they change: bulk_update each."""
    for batch in _batches(plan.rows_with(UPDATE)):
        groups = defaultdict(list)
        for result in batch:
            changed = tuple(result.changed)
            values = result.values()
            groups[changed].append(
                PhoneNumber(id=result.pk, updated_at=now, **{c: values[c] for c in changed})
            )
        for columns, rows in groups.items():
            PhoneNumber.objects.bulk_update(rows, [*columns, "updated_at"])
        history.write([(r.pk, r.row, r.before, r.after) for r in batch])


class _History:
    """django-auditlog entries for written rows, as one save of each row would leave them."""

    def __init__(self, record: PhoneImport, cursor, now, user):
        connection = cursor.db
        LogEntry = get_logentry_model()
        self.create, self.update = LogEntry.Action.CREATE, LogEntry.Action.UPDATE
        # The request's actor and address, as django-auditlog's context fills them in for a
        # single save: one pre_save on one entry, then the same values for every row.
        probe = LogEntry()
        pre_save.send(sender=LogEntry, instance=probe, raw=False, using=None, update_fields=None)
        if probe.actor_id is None and getattr(user, "pk", None):
            probe.actor, probe.actor_email = user, getattr(user, "email", None)
        content_type = ContentType.objects.db_manager(connection.alias).get_for_model(PhoneNumber)
        timestamp = LogEntry._meta.get_field("timestamp").get_db_prep_save(now, connection)
        constants = {
            "content_type_id": content_type.pk,
            "changes_text": "",
            "cid": record.cid,
            "timestamp": timestamp,
            "actor_id": probe.actor_id,
            "actor_email": probe.actor_email,
            "remote_addr": probe.remote_addr,
            "remote_port": probe.remote_port,
        }
        self.insert = _Insert(
            cursor,
            LogEntry,
            ("object_pk", "object_repr", "action", "changes", "additional_data"),
            constants,
        )
        # {"source": ..., "phone_import": ..., "row": N}: the row number is the only part
        # that varies, so the rest is encoded once.
        additional = json.dumps({"source": current_source(), "phone_import": record.pk})
        self.additional = additional[:-1].replace("%", "%%") + ', "row": %d}'

    def write(self, rows) -> None:
        """``rows``: (pk, spreadsheet row, before or None, after) of the written rows."""
        entries = []
        for pk, row, before, after in rows:
            if before is None:
                changes = {n: [None, a] for n, a in zip(_HISTORY_NAMES, after, strict=True)}
            else:
                changes = {
                    n: [b, a]
                    for n, b, a in zip(_HISTORY_NAMES, before, after, strict=True)
                    if b != a
                }
            action = self.create if before is None else self.update
            entries.append((pk, after[2], action, _json(changes), self.additional % row))
        self.insert(entries)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Insert:
    """Multi-row INSERT statements of up to ``BATCH`` rows (fewer where the database allows
    fewer parameters per statement, as SQLite does).

    Values that are the same for every row are written into the statement once instead of
    bound for each row: whole numbers and plain text (timestamps, ids) only, checked by
    ``_inlinable``; anything else is bound like the rest. A constant None is left to the
    column's default (NULL).
    """

    def __init__(self, cursor, model, columns: tuple[str, ...], constants: dict):
        self.cursor = cursor
        quote = cursor.db.ops.quote_name
        names, placeholders, self.bound = list(columns), ["%s"] * len(columns), []
        for column, value in constants.items():
            if value is None:
                continue
            names.append(column)
            if isinstance(value, bool) or not _inlinable(value):
                placeholders.append("%s")
                self.bound.append(value)
            else:
                placeholders.append(str(value) if isinstance(value, int) else f"'{value}'")
        self.bound = tuple(self.bound)
        self.row_sql = "({})".format(", ".join(placeholders))
        self.head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 (names from the model)
            quote(model._meta.db_table),
            ", ".join(quote(model._meta.get_field(n).column) for n in names),
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
