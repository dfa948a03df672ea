"""The rows of a query one at a time, never the whole result in memory (issue 13: the audit's
memory stays flat at the gateway's planned size).

Django's ``QuerySet.iterator()`` converts rows in chunks, but on MySQL/MariaDB mysqlclient's
default cursor first stores the whole result in the client (C memory, ~40 MB for the 40,000
numbers with their names). ``stream()`` runs the same statement on an unbuffered cursor
(``MySQLdb.cursors.SSCursor``): the server sends rows as they are read. Still one statement,
whatever the size, counted and logged like every other (it goes through Django's cursor
wrapper). SQLite's cursor reads lazily already: there it is ``iterator()``.

The rule that comes with it: while the rows are being read the connection is busy, so the loop
over them must not query (MySQL answers "Commands out of sync"). Callers collect what they need
(ids, counts, the first page) and query after the loop.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

# Rows converted per fetch (Django's iterator() chunk).
CHUNK = 2000

_END = object()


def stream(queryset, chunk: int = CHUNK) -> Iterator:
    """The rows of ``queryset`` (models, values() or values_list()) as iterating it gives them,
    read from the server as they are used."""
    connection = connections[queryset.db]
    if connection.vendor != "mysql":
        yield from queryset.iterator(chunk_size=chunk)
        return
    rows = queryset.iterator(chunk_size=chunk)
    with _unbuffered(connection):
        first = next(rows, _END)  # the statement runs here, on an unbuffered cursor
    if first is _END:
        return
    yield first
    yield from rows


@contextmanager
def _unbuffered(connection):
    """Within the block, the connection's chunked cursor (the one iterator() asks for) is
    unbuffered. Only the statement started in the block gets one; the instance attribute is
    removed after it (the class's method is the default again)."""
    from django.db.backends.mysql.base import CursorWrapper
    from MySQLdb.cursors import SSCursor

    connection.ensure_connection()

    def chunked_cursor():
        return connection._prepare_cursor(CursorWrapper(connection.connection.cursor(SSCursor)))

    connection.chunked_cursor = chunked_cursor
    try:
        yield
    finally:
        del connection.chunked_cursor
