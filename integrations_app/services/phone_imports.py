"""Writing many phone numbers at once, recorded: the import's bulk write path.

New rows go in as multi-row INSERTs of ``BATCH`` rows (``bulk_sql``), made as they are sent:
no model instance and no signal per row, memory that does not grow with the file. Each written
row gets its ``changelog.Change`` under the current operation (looked up once), in the same
kind of multi-row INSERT, its before and after built as JSON text.

Updates (rare next to new rows) lock their rows and compare them with the before-image the
caller checked: a row another writer changed meanwhile stops the whole write
(``NumbersChanged``), so nothing is overwritten that the preview did not show.
"""

from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter

from django.db import connections, router
from django.utils import timezone

from changelog.models import Change
from changelog.recording import operation_row
from integrations_app.models import PhoneNumber
from integrations_app.models.fields import new_uuid
from integrations_app.phone import ROUTING_COLUMNS
from integrations_app.services.bulk_sql import (
    BATCH,
    Insert,
    batches,
    json_object_format,
    json_value,
)

TABLE = PhoneNumber._meta.db_table
_REPR_LENGTH = Change._meta.get_field("object_repr").max_length


class NumbersChanged(Exception):
    """A number to update changed since it was checked; nothing of the write is kept."""


class NumberWriter:
    """Inserts and updates of phone numbers whose values come as tuples in ``columns`` order.

    ``columns`` holds ``company_id`` and every routing column; the caller holds the
    transaction and the operation.
    """

    def __init__(self, columns: tuple[str, ...]):
        self.columns = columns
        self._number = columns.index("number")
        self._company = columns.index("company_id")
        self._created_after = json_object_format(columns)
        self._now = timezone.now().replace(microsecond=0)
        self._connection = connections[router.db_for_write(PhoneNumber)]
        self.operation_id = operation_row(using=router.db_for_write(Change)).pk

    def insert(self, rows: Iterable[tuple]) -> int:
        """New numbers (E.164 in every routing column); each gets a new UUID. Returns the count."""
        connection, written = self._connection, 0
        stamp = PhoneNumber._meta.get_field("created_at").get_db_prep_save(self._now, connection)
        # MySQL and MariaDB let a value name a column set before it in the same row: the number
        # is then sent once for its routing columns.
        copies = (
            {c: "number" for c in ROUTING_COLUMNS if c != "number"}
            if connection.vendor == "mysql"
            else {}
        )
        sent = [i for i, column in enumerate(self.columns) if column not in copies]
        pick = itemgetter(*sent)
        with connection.cursor() as cursor:
            insert = Insert(
                cursor,
                PhoneNumber,
                ("id", *(self.columns[i] for i in sent)),
                {"created_at": stamp, "updated_at": stamp},
                copies=copies,
            )
            record = self._changes(cursor, ("object_pk", "company_id", "object_repr", "after"))
            for batch in batches(rows):
                pks = [new_uuid() for _ in batch]
                insert([(pk, *pick(after)) for pk, after in zip(pks, batch, strict=True)])
                record([self._created(pk, after) for pk, after in zip(pks, batch, strict=True)])
                written += len(batch)
        return written

    def update(self, rows: Iterable[tuple[str, tuple, tuple]]) -> int:
        """(pk, before, after) per number: locked, compared with ``before``, written, recorded."""
        written = 0
        with self._connection.cursor() as cursor:
            record = self._changes(
                cursor, ("object_pk", "company_id", "object_repr", "before", "after"), "update"
            )
            for batch in batches(rows):
                self._check_unchanged(batch)
                self._write(batch)
                record([self._updated(pk, before, after) for pk, before, after in batch])
                written += len(batch)
        return written

    def _check_unchanged(self, batch) -> None:
        locked = (
            PhoneNumber.objects.select_for_update()
            .filter(pk__in=[pk for pk, _b, _a in batch])
            .values_list("id", *self.columns)
        )
        now = {row[0]: tuple(row[1:]) for row in locked}
        for pk, before, _after in batch:
            current = now.get(pk)
            if current is None or any(
                _plain(a) != _plain(b) for a, b in zip(current, before, strict=True)
            ):
                raise NumbersChanged(pk)

    def _write(self, batch) -> None:
        """Grouped by the columns they change: one bulk_update each."""
        groups = defaultdict(list)
        for pk, before, after in batch:
            changed = tuple(
                c for c, b, a in zip(self.columns, before, after, strict=True) if b != a
            )
            values = dict(zip(self.columns, after, strict=True))
            groups[changed].append(
                PhoneNumber(id=pk, updated_at=self._now, **{c: values[c] for c in changed})
            )
        for columns, numbers in groups.items():
            PhoneNumber.objects.bulk_update(numbers, [*columns, "updated_at"])

    def _changes(self, cursor, columns, action="create") -> Insert:
        return Insert(
            cursor,
            Change,
            columns,
            {"operation": self.operation_id, "table": TABLE, "action": action},
        )

    def _created(self, pk: str, after: tuple) -> tuple:
        return (
            pk,
            after[self._company],
            after[self._number][:_REPR_LENGTH],
            self._created_after % tuple(map(json_value, after)),
        )

    def _updated(self, pk: str, before: tuple, after: tuple) -> tuple:
        changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
        old = ",".join(f'"{self.columns[i]}":{json_value(before[i])}' for i in changed)
        new = ",".join(f'"{self.columns[i]}":{json_value(after[i])}' for i in changed)
        number = after[self._number][:_REPR_LENGTH]
        return pk, after[self._company], number, f"{{{old}}}", f"{{{new}}}"


def _plain(value):
    """Booleans come back from MySQL as 0/1."""
    return int(value) if isinstance(value, bool) else value


__all__ = ["BATCH", "NumberWriter", "NumbersChanged"]
