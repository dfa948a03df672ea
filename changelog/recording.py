"""Recording writes in the change store: the operation they belong to, and their rows.

Code that writes gateway rows runs inside ``operation(...)`` (a request does through the
middleware, a fix, an import, an undo and each command through their own); the services then
call ``record(...)`` in the write's own transaction, so a change and its record commit or roll
back together. A write outside any operation gets an operation of its own.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import router

from changelog.models import Change, Operation, Source

BATCH = 1000


@dataclass
class OperationContext:
    source: str
    name: str = ""
    user: object = None  # a user, or a lazy request.user: read when the first row is recorded
    reason: str = ""
    cid: str = field(default_factory=lambda: str(uuid.uuid4()))
    undo_of: int | None = None

    @property
    def user_id(self) -> int | None:
        user = self.user
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return user.pk


_current: ContextVar[OperationContext | None] = ContextVar("askpro_operation", default=None)


@contextmanager
def operation(
    *, source: str, name: str = "", user=None, reason: str = "", undo_of: int | None = None
) -> Iterator[OperationContext]:
    """Everything written inside the block is one operation (one correlation id)."""
    if source not in Source.values:
        raise ValueError(f"unknown change source {source!r}")
    context = OperationContext(
        source=source,
        name=str(name)[:120],
        user=user,
        reason=" ".join(str(reason or "").split())[:255],
        undo_of=undo_of,
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current() -> OperationContext | None:
    return _current.get()


def operation_row(*, using: str | None = None) -> Operation:
    """The current operation's row, created with its first change (in that transaction).

    Looked up by its correlation id each time, not cached: a write that rolled back took its
    row with it, and the next write of the same operation creates it again.
    """
    context = _current.get()
    if context is None:
        # A write outside any operation (a shell, a test) is an operation of its own.
        context = OperationContext(source=Source.COMMAND)
    using = using or router.db_for_write(Operation)
    row, _created = Operation.objects.using(using).get_or_create(
        cid=context.cid,
        defaults={
            "source": context.source,
            "name": context.name,
            "user_id": context.user_id,
            "reason": context.reason,
            "undo_of_id": context.undo_of,
        },
    )
    return row


@dataclass(frozen=True)
class RowChange:
    """One row's change, before it is stored."""

    table: str
    pk: object
    action: str
    before: dict | None = None
    after: dict | None = None
    company_id: int | None = None
    label: str = ""


def record(changes: Iterable[RowChange], *, using: str | None = None) -> Operation | None:
    """Store ``changes`` under the current operation, in batches; returns the operation."""
    rows = None
    op = None
    for change in changes:
        if op is None:
            op = operation_row(using=using)
            rows = []
        rows.append(
            Change(
                operation_id=op.pk,
                table=change.table,
                object_pk=str(change.pk),
                action=change.action,
                company_id=change.company_id,
                object_repr=str(change.label or "")[:200],
                before=change.before,
                after=change.after,
            )
        )
        if len(rows) >= BATCH:
            Change.objects.using(using or router.db_for_write(Change)).bulk_create(rows)
            rows = []
    if rows:
        Change.objects.using(using or router.db_for_write(Change)).bulk_create(rows)
    return op
