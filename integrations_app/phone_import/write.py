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
from json.encoder import encode_basestring
from operator import itemgetter

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
_ROUTING_COPIES = {"number_normalized": "number", "phone_number": "number"}
_SAFE_TEXT = re.compile(r"^[\w:. +-]*$", re.ASCII)  # digits, letters, ":", ".", "-", "+", " "


def write_plan(plan: ImportPlan, record: PhoneImport, *, user=None) -> None:
    """Write ``plan`` (no errors) and its history; the caller holds the transaction."""
    assert not plan.has_errors, "a plan with errors is never written"
    connection = connections[router.db_for_write(PhoneNumber)]
    now = timezone.now().replace(microsecond=0)
    stamp = PhoneNumber._meta.get_field("created_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        history = _History(record, cursor, now, user)
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
        for batch in _batches(plan.rows_with(NEW)):
            pks = [new_uuid() for _ in batch]
            insert([(pk, *pick(r.after)) for pk, r in zip(pks, batch, strict=True)])
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
        columns = ("object_pk", "object_repr", "changes", "additional_data")
        self.inserts = {
            action: _Insert(cursor, LogEntry, columns, {**constants, "action": action})
            for action in (self.create, self.update)
        }
        # {"source": ..., "phone_import": ..., "row": N}: the row number is the only part
        # that varies, so the rest is encoded once.
        additional = json.dumps({"source": current_source(), "phone_import": record.pk})
        self.additional = additional[:-1].replace("%", "%%") + ', "row": %d}'

    def write(self, rows) -> None:
        """``rows``: (pk, spreadsheet row, before or None, after) of the written rows."""
        entries = {self.create: [], self.update: []}
        for pk, row, before, after in rows:
            if before is None:
                action, changes = self.create, _CREATED % tuple(map(_json_value, after))
            else:
                action, changes = self.update, _changed(before, after)
            entries[action].append((pk, after[2], changes, self.additional % row))
        for action, listed in entries.items():
            self.inserts[action](listed)


# The changes of a new row, {"column": [null, value], ...}, as one format string: a new row
# sets every column, so only the values differ (json.dumps per row would take three times
# as long, for the same text).
_CREATED = "{" + ",".join(f'"{name}":[null,%s]' for name in _HISTORY_NAMES) + "}"


def _json_value(value) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    return encode_basestring(value)  # a JSON string, escaped


def _changed(before: tuple, after: tuple) -> str:
    """{"column": [before, after], ...} of the columns an update changes."""
    changed = (
        f'"{name}":[{_json_value(b)},{_json_value(a)}]'
        for name, b, a in zip(_HISTORY_NAMES, before, after, strict=True)
        if b != a
    )
    return "{" + ",".join(changed) + "}"


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
