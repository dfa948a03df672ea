"""What the validation of an import file found: each row's outcome (RowResult), kept in the
row store, and the plan over all rows (ImportPlan) that the preview shows, the write applies and
the error report lists (validate.py makes it)."""

import hashlib
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

from integrations_app.phone_import import lookups
from integrations_app.phone_import.errors import RowError
from integrations_app.phone_import.reader import Table
from integrations_app.phone_import.store import RowStore

NEW, UPDATE, UNCHANGED, ERROR = "new", "update", "unchanged", "error"
STATUSES = (NEW, UPDATE, UNCHANGED, ERROR)
DESCRIPTION_MAX = 255
BATCH = 1000  # rows checked, then stored, at a time


@dataclass(slots=True)
class RowResult:
    """One data row's outcome. The plan keeps them in its ``RowStore`` (on disk), not in memory.

    ``before`` and ``after`` are the values of ``lookups.WRITTEN`` in that order (``values()``
    gives them by name); the row's cells are not kept (``ImportPlan.cells`` reads them again).
    """

    row: int
    status: str = ERROR
    errors: list[RowError] | tuple = ()
    pk: str | None = None  # the existing row an update changes
    before: tuple | None = None
    after: tuple | None = None
    primary_given: bool = False  # the file itself sets primary = yes
    number: str | None = None  # E.164, when the row names a company and a valid number
    warnings: list[RowError] | tuple = ()  # an unchanged row's gaps (unchanged.py)
    # (company id, branch id) the row names, when they resolve: shown on a row with errors too.
    named: tuple | None = None

    @property
    def changed(self) -> list[str]:
        if self.before is None or self.after is None:
            return []
        return [
            c for c, b, a in zip(lookups.WRITTEN, self.before, self.after, strict=True) if b != a
        ]

    def values(self, which: str = "after") -> dict | None:
        values = getattr(self, which)
        return None if values is None else dict(zip(lookups.WRITTEN, values, strict=True))

    def value(self, column: str):
        return None if self.after is None else self.after[WRITTEN_INDEX[column]]

    @classmethod
    def stored(cls, row, status, pk, before, after, errors, primary_given) -> "RowResult":
        listed = [RowError(row, column, message) for column, message in errors or ()]
        return cls(row, status, listed or (), pk, before, after, bool(primary_given))


WRITTEN_INDEX = {column: position for position, column in enumerate(lookups.WRITTEN)}


class RowsView:
    """The plan's rows (of one status, or all) as a sequence: length, slices, iteration.

    Read from the store as they are needed, so a paginator or a loop over 100,000 rows holds
    one batch at a time.
    """

    def __init__(self, store: RowStore, status: str | None = None):
        self.store, self.status = store, status

    def __len__(self) -> int:
        return self.store.count(self.status)

    def __iter__(self):
        return (RowResult.stored(*row) for row in self.store.rows(self.status))

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("RowsView slices have no step")
            rows = self.store.rows(self.status, start=start, stop=stop)
            return [RowResult.stored(*row) for row in rows]
        found = self[index : index + 1] if index >= 0 else self[index:][:1]
        if not found:
            raise IndexError(index)
        return found[0]


@dataclass
class ImportPlan:
    table: Table
    region: str
    store: RowStore
    error_count: int = 0  # every error of every row
    names: lookups.Lookups | None = None  # companies and branches as checked (for the preview)

    @cached_property
    def counts(self) -> dict[str, int]:
        counted = self.store.counts()
        return {status: counted.get(status, 0) for status in STATUSES}

    @property
    def rows(self) -> RowsView:
        return RowsView(self.store)

    def rows_with(self, status: str) -> RowsView:
        return RowsView(self.store, status)

    def iter_errors(self, limit: int | None = None):
        """Every error in row order (the first ``limit``)."""
        rows = self.store.rows(ERROR, errors_only=True)
        errors = (RowError(row[0], c, m) for row in rows for c, m in row[5])
        return errors if limit is None else islice(errors, limit)

    @property
    def errors(self) -> list[RowError]:
        return list(self.iter_errors())

    def iter_warnings(self, limit: int | None = None):
        """The gaps of rows identical to the database, in row order (the first ``limit``)."""
        warnings = (RowError(row, c, m) for row, found in self.store.warnings() for c, m in found)
        return warnings if limit is None else islice(warnings, limit)

    @cached_property
    def warning_count(self) -> int:
        return self.store.warning_count()

    @property
    def has_errors(self) -> bool:
        return self.counts[ERROR] > 0

    @cached_property
    def digest(self) -> str:
        """What the plan would do, as a checksum: a preview confirmed later must still match."""
        digest = hashlib.sha256(repr(self.region).encode())
        for row, status, pk, before, after, _errors, _given in self.store.rows():
            # repr of ints, strings, booleans and None: stable across runs
            digest.update(repr((row, status, pk, before, after)).encode())
        return digest.hexdigest()

    def cells(self, rows) -> dict[int, list[str]]:
        """The original cells of the given row numbers, read again from the file."""
        wanted = set(rows)
        return {number: cells for number, cells in self.table.rows() if number in wanted}
