"""The outcome of every row of an import, kept on disk so that memory does not grow with the file.

A private temporary SQLite database (Python's own ``sqlite3``, a file that SQLite deletes when
it is closed, with a small page cache): the checks write each batch of row outcomes there and
read them back in batches to write, to page through a preview or to list the errors. Only the
numbers seen twice and the primary numbers are worked out across the whole file, by SQLite.
"""

import marshal
import sqlite3

from integrations_app.phone_import.errors import RowError

_CACHE_KIB = 2048  # SQLite's page cache; the rest of the store is on disk
_FETCH = 1000
_COLUMNS = "row, status, pk, before, after, errors, primary_given"


def _pack(value) -> bytes | None:
    return None if value is None else marshal.dumps(value)


def _unpack(blob):
    # Only ever what _pack wrote into this private, temporary database.
    return None if blob is None else marshal.loads(blob)  # noqa: S302


class RowStore:
    def __init__(self):
        # "" is a temporary database on disk, private to this connection and removed with it.
        self.db = sqlite3.connect("")
        self.db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute(
            "CREATE TABLE rows (row INTEGER PRIMARY KEY, status TEXT NOT NULL, pk TEXT, "
            "before BLOB, after BLOB, errors BLOB, primary_given INTEGER NOT NULL, number TEXT, "
            "warnings BLOB, named BLOB)"
        )

    def close(self) -> None:
        """Remove the store now (it is also removed when the plan is garbage collected)."""
        self.db.close()

    # --- writing -------------------------------------------------------------------------
    def add(self, results) -> None:
        """Store row outcomes (``validate.RowResult``); ``number`` is their E.164 number."""
        self.db.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.row,
                    r.status,
                    r.pk,
                    _pack(r.before),
                    _pack(r.after),
                    _pack([(e.column, e.message) for e in r.errors]) if r.errors else None,
                    int(r.primary_given),
                    r.number,
                    _pack([(w.column, w.message) for w in r.warnings]) if r.warnings else None,
                    _pack(r.named),
                )
                for r in results
            ],
        )

    def add_errors(self, errors: dict[int, list[RowError]], status: str) -> None:
        """Mark rows as failed with further errors (found only by looking at the whole file)."""
        for row, found in errors.items():
            (blob,) = self.db.execute("SELECT errors FROM rows WHERE row = ?", (row,)).fetchone()
            listed = (_unpack(blob) or []) + [(e.column, e.message) for e in found]
            self.db.execute(
                "UPDATE rows SET status = ?, after = NULL, errors = ? WHERE row = ?",
                (status, _pack(listed), row),
            )

    # --- reading -------------------------------------------------------------------------
    def numbers_seen_twice(self, unchanged: str) -> list[tuple[str, list[int], list[int]]]:
        """(E.164 number, its rows, those of them not ``unchanged``) for every number on more
        than one row with a valid number, unless all its rows are unchanged (an export of a
        database with the number twice: it changes nothing)."""
        found = self.db.execute(
            "SELECT number, group_concat(row), group_concat(CASE WHEN status != ? THEN row END) "
            "FROM rows WHERE number IS NOT NULL GROUP BY number "
            "HAVING count(*) > 1 AND sum(status != ?) > 0",
            (unchanged, unchanged),
        )
        return [
            (number, sorted(int(n) for n in rows.split(",")), [int(n) for n in changing.split(",")])
            for number, rows, changing in found
        ]

    def warnings(self):
        """(row, [(column, message), …]) of every row with warnings, in row order."""
        cursor = self.db.execute("SELECT row, warnings FROM rows WHERE warnings IS NOT NULL "
                                 "ORDER BY row")  # fmt: skip
        while batch := cursor.fetchmany(_FETCH):
            for row, blob in batch:
                yield row, _unpack(blob)

    def warning_count(self) -> int:
        found = self.db.execute("SELECT warnings FROM rows WHERE warnings IS NOT NULL")
        return sum(len(_unpack(blob)) for (blob,) in found)

    def numbers(self, rows) -> dict[int, str]:
        """The E.164 number of each of the given rows that has a valid one (a page's rows)."""
        wanted = [int(row) for row in rows]
        marks = ", ".join("?" * len(wanted))
        found = self.db.execute(
            f"SELECT row, number FROM rows WHERE number IS NOT NULL AND row IN ({marks})",  # noqa: S608 (placeholders only)
            wanted,
        )
        return dict(found)

    def named(self, rows) -> dict[int, tuple]:
        """(company id, branch id) each of the given rows names, when its company resolved."""
        wanted = [int(row) for row in rows]
        marks = ", ".join("?" * len(wanted))
        found = self.db.execute(
            f"SELECT row, named FROM rows WHERE named IS NOT NULL AND row IN ({marks})",  # noqa: S608 (placeholders only)
            wanted,
        )
        return {row: tuple(_unpack(blob)) for row, blob in found}

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, count(*) FROM rows GROUP BY status"))

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.db.execute("SELECT count(*) FROM rows").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM rows WHERE status = ?", (status,)).fetchone()[
            0
        ]

    def rows(self, status: str | None = None, *, errors_only=False, start=0, stop=None):
        """The stored outcomes in row order, as (row, status, pk, before, after, errors, given)."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if errors_only:
            where.append("errors IS NOT NULL")
        sql = f"SELECT {_COLUMNS} FROM rows"  # noqa: S608 (fixed column list; values bound)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY row LIMIT ? OFFSET ?"
        params += [-1 if stop is None else max(0, stop - start), start]
        cursor = self.db.execute(sql, params)
        while batch := cursor.fetchmany(_FETCH):
            for row, state, pk, before, after, errors, given in batch:
                yield row, state, pk, _unpack(before), _unpack(after), _unpack(errors), given
