"""Bulk writes: multi-row INSERTs of a few thousand rows, one transaction per statement.

The rows are written into the statement as SQL literals by ``literal_row`` (ints as digits,
None as NULL, text quoted with its quotes and backslashes escaped): the generated values are
plain, and this is several times cheaper than binding each value through the client. Three
things run side by side: a thread generates the next statements while the server inserts the
current ones, and a second connection builds the indexes of the table loaded before (the
index builds are most of the server's work). A warning (a value the server had to adjust)
fails the load: strict mode turns most into errors already, the rest must not pass silently.
"""

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.scaled import database

BATCH_ROWS = 5000
STATEMENT_BYTES = 4 << 20  # below the server's max_allowed_packet (16 MiB by default)
BUILDERS = 2  # index builds at a time (each is one server thread)


@dataclass
class TableStats:
    table: str
    rows: int = 0
    insert_seconds: float = 0.0  # generating the rows and inserting them
    index_seconds: float = 0.0  # building the secondary indexes (alongside the next table)


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        if "'" in value or "\\" in value:
            value = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{value}'"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def literal_row(row: tuple) -> str:
    return "(" + ",".join(map(literal, row)) + ")"


def statements(table: str, columns, rows: Iterable[tuple], batch_rows: int) -> Iterator[tuple]:
    """(INSERT statement, rows in it) of at most batch_rows rows and STATEMENT_BYTES."""
    names = ", ".join(f"`{c}`" for c in columns)
    head = f"INSERT INTO `{table}` ({names}) VALUES "  # noqa: S608 - our own table and columns
    values, size = [], len(head)
    for row in rows:
        text = literal_row(row)
        if values and (len(values) >= batch_rows or size + len(text) > STATEMENT_BYTES):
            yield head + ",".join(values), len(values)
            values, size = [], len(head)
        values.append(text)
        size += len(text) + 1
    if values:
        yield head + ",".join(values), len(values)


def prefetched(iterator: Iterator, depth: int = 2) -> Iterator:
    """The items of ``iterator``, produced by a thread ``depth`` items ahead; its error is
    raised here."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce():
        try:
            for item in iterator:
                items.put(item)
            items.put(done)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            items.put(error)

    threading.Thread(target=produce, daemon=True).start()
    while (item := items.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


class Writer:
    def __init__(self, server: database.Server, batch_rows: int = BATCH_ROWS):
        self.conn = database.session(server)
        self.build_conns: queue.Queue = queue.Queue()  # one connection per builder thread
        for _ in range(BUILDERS):
            self.build_conns.put(database.session(server))
        self.batch_rows = batch_rows
        self.stats: dict[str, TableStats] = {}
        self.deferred: list[database.Deferred] = []
        self.builds = []
        self.builder = ThreadPoolExecutor(max_workers=BUILDERS)

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> TableStats:
        """Insert ``rows`` with the table's indexes dropped; their build is queued."""
        stats = self.stats.setdefault(table, TableStats(table))
        cursor = self.conn.cursor()
        deferred = database.defer_indexes(cursor, table)
        started = time.perf_counter()
        for sql, count in prefetched(statements(table, columns, rows, self.batch_rows)):
            cursor.execute(sql)
            if self.conn.warning_count():
                cursor.execute("SHOW WARNINGS LIMIT 3")
                raise RuntimeError(f"{table}: the server adjusted values: {cursor.fetchall()}")
            self.conn.commit()
            stats.rows += count
        stats.insert_seconds = time.perf_counter() - started
        self.deferred.append(deferred)
        self.builds.append(self.builder.submit(self._build, deferred, stats))
        return stats

    def _build(self, deferred: database.Deferred, stats: TableStats) -> None:
        conn = self.build_conns.get()
        try:
            started = time.perf_counter()
            database.build_indexes(conn.cursor(), deferred)
            stats.index_seconds = time.perf_counter() - started
        finally:
            self.build_conns.put(conn)

    def finish(self) -> float:
        """Wait for the index builds, add the foreign keys back, prove every table is as the
        schema created it and every foreign key holds; the seconds after the last insert."""
        started = time.perf_counter()
        for build in self.builds:
            build.result()
        self.builder.shutdown()
        cursor = self.conn.cursor()
        problems = []
        for deferred in self.deferred:
            database.add_foreign_keys(cursor, deferred)
            problems += database.orphans(cursor, deferred)
        if problems:
            raise RuntimeError("rows name a missing parent: " + "; ".join(problems))
        while not self.build_conns.empty():
            self.build_conns.get().close()
        return time.perf_counter() - started
