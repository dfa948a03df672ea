"""Multi-row INSERT statements made as they are sent: the bulk writers' fast path.

No model instance, no signal and no ``bulk_create`` per row: a statement of up to ``BATCH``
rows (fewer where the database allows fewer parameters per statement, as SQLite does), with
the values that are the same for every row written into it once. JSON columns are sent as
the JSON text the caller built (``json_value`` and a format string per row beat ``json.dumps``
by about three times for rows that all have the same keys).

The caller holds the transaction and records what it wrote (changelog): these helpers only
send SQL.
"""

import re
from itertools import islice
from json.encoder import encode_basestring

BATCH = 1000
_SAFE_TEXT = re.compile(r"^[\w:. +-]*$", re.ASCII)  # digits, letters, ":", ".", "-", "+", " "


class Insert:
    """``Insert(cursor, Model, columns, constants)(rows)``: multi-row INSERTs into ``Model``.

    ``columns`` are bound for each row, in the order of each row's tuple. ``constants`` are the
    same for every row: whole numbers and plain text (timestamps, ids, table names) are written
    into the statement once, checked by ``_inlinable``; anything else is bound like the rest. A
    constant None is left to the column's default (NULL). ``copies`` names columns whose value
    is that of a column set before them in the same row (MySQL and MariaDB only).
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
        bound = self.bound
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            if bound:
                params = [value for row in chunk for value in (*row, *bound)]
            else:
                params = [value for row in chunk for value in row]
            # Column names from the model; values bound, or checked by _inlinable.
            self.cursor.execute(self.head + ", ".join([self.row_sql] * len(chunk)), params)


def _inlinable(value) -> bool:
    if isinstance(value, int):
        return True
    text = str(value) if hasattr(value, "isoformat") else value
    return isinstance(text, str) and bool(_SAFE_TEXT.match(text))


def json_value(value) -> str:
    """One JSON value as text: None, booleans, whole numbers and text (escaped)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    return encode_basestring(value)  # a JSON string, escaped


def json_object_format(keys) -> str:
    """A %-format string for a JSON object of ``keys``, to fill with ``json_value`` texts."""
    return "{" + ",".join(f"{encode_basestring(key)}:%s" for key in keys) + "}"


def json_object(values: dict) -> str:
    return (
        "{" + ",".join(f"{encode_basestring(k)}:{json_value(v)}" for k, v in values.items()) + "}"
    )


def batches(iterable, size: int = BATCH):
    """Lists of up to ``size`` items, one after the other (memory that does not grow)."""
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch
