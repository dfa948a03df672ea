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


class Insert:
    """``Insert(cursor, Model, columns, constants)(rows)``: multi-row INSERTs into ``Model``.

    ``columns`` are the values of each row's tuple, in that order. Per statement, a column whose
    values are all plain (None, booleans, whole numbers, text of letters, digits, ``:``, ``.``,
    ``+``, ``-`` and spaces: ids, E.164 numbers, choices, timestamps) is written into the
    statement as text; any other column (free text, JSON) is bound, escaped by the driver.
    Escaping a bound value costs the client about five times what the check of a plain one
    does, so a row of ids, numbers and flags goes out with one bound value or none.

    ``constants`` are the same for every row: plain ones are written into the statement once,
    any other is bound for each row. A constant None is left to the column's default (NULL).
    ``copies`` names columns whose value is that of a column set before them in the same row
    (MySQL and MariaDB only).
    """

    def __init__(self, cursor, model, columns: tuple[str, ...], constants: dict, copies=None):
        self.cursor = cursor
        quote = cursor.db.ops.quote_name
        column = lambda name: quote(model._meta.get_field(name).column)  # noqa: E731
        names, tail, self.bound = list(columns), [], []
        for name, source in (copies or {}).items():  # the value of a column set before it
            names.append(name)
            tail.append(column(source))
        for name, value in constants.items():
            if value is None:
                continue
            names.append(name)
            text = _plain_text(value)
            if text is None:
                tail.append("%s")
                self.bound.append(value)
            else:
                tail.append(text)
        self.width = len(columns)
        self.bound = tuple(self.bound)
        self.tail = "".join(f", {text}" for text in tail)
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
            self._send(rows[start : start + step])

    def _send(self, chunk: list[tuple]) -> None:
        cells, bound_columns = [], []
        for values in zip(*chunk, strict=True) if chunk else ():
            texts = _plain_texts(values)
            if texts is None:
                cells.append(_BOUND_CELLS[: len(values)])
                bound_columns.append(values)
            else:
                cells.append(texts)
        tail = self.tail
        values_sql = ", ".join(f"({', '.join(row)}{tail})" for row in zip(*cells, strict=True))
        rows = zip(*bound_columns, strict=True) if bound_columns else [()] * len(chunk)
        if self.bound:
            params = [v for row in rows for v in (*row, *self.bound)]
        else:
            params = [v for row in rows for v in row]
        # Column names from the model; values bound, or plain (checked by _plain_texts).
        self.cursor.execute(self.head + values_sql, params)


_BOUND_CELLS = ("%s",) * BATCH
_PLAIN_TEXT = re.compile(r"[\w:. +-]*", re.ASCII)  # no quote, backslash, percent or newline
_NONE = type(None)


def _plain_texts(values: tuple) -> list[str] | None:
    """The column's values as SQL text if every one is plain, else None (bind them)."""
    kinds = set(map(type, values))
    if not kinds <= {str, int, bool, _NONE}:
        return None
    if str in kinds and not _PLAIN_TEXT.fullmatch("".join(v for v in values if type(v) is str)):
        return None
    if kinds == {str}:
        return [f"'{v}'" for v in values]
    return [_TEXT_OF[type(v)](v) for v in values]


_TEXT_OF = {
    str: lambda v: f"'{v}'",
    int: str,
    bool: lambda v: "1" if v else "0",
    _NONE: lambda v: "NULL",
}


def _plain_text(value) -> str | None:
    """A constant as SQL text (timestamps too), or None if it must be bound."""
    if hasattr(value, "isoformat"):
        value = str(value)
    texts = _plain_texts((value,))
    return None if texts is None else texts[0]


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


def update_by_key(cursor, table: str, key: str, rows: dict) -> int:
    """``UPDATE table SET column = CASE key WHEN ... END ... WHERE key IN (...)``: many rows.

    ``rows`` is ``{key value: {column: new value}}``; a row may set only some of the columns
    (the others keep their value: ``ELSE column``). One statement per ``BATCH`` rows (fewer
    where the database allows fewer parameters per statement, as SQLite does), whatever the
    columns each row sets. Keys that are plain (whole numbers, UUIDs) are written into the
    statement, anything else is bound; the new values are always bound. Names are the
    caller's (a model's table and columns). Returns the number of statements sent.
    """
    if not rows:
        return 0
    quote = cursor.db.ops.quote_name
    columns = list(dict.fromkeys(c for values in rows.values() for c in values))
    keys = list(rows)
    plain_keys = _plain_texts(tuple(keys)) is not None
    per_row = len(columns) * (1 if plain_keys else 2) + (0 if plain_keys else 1)
    limit = cursor.db.features.max_query_params
    step = max(1, min(BATCH, limit // per_row)) if limit else BATCH
    name, key_name = quote(table), quote(key)
    statements = 0
    for start in range(0, len(keys), step):
        chunk = keys[start : start + step]
        texts = _plain_texts(tuple(chunk)) if plain_keys else None
        assignments, params = [], []
        for column in columns:
            whens = []
            for index, pk in enumerate(chunk):
                values = rows[pk]
                if column not in values:
                    continue
                if texts is None:
                    whens.append("WHEN %s THEN %s")
                    params += [pk, values[column]]
                else:
                    whens.append(f"WHEN {texts[index]} THEN %s")
                    params.append(values[column])
            if whens:
                quoted = quote(column)
                assignments.append(
                    f"{quoted} = CASE {key_name} {' '.join(whens)} ELSE {quoted} END"
                )
        if texts is None:
            in_list = ", ".join(["%s"] * len(chunk))
            params += chunk
        else:
            in_list = ", ".join(texts)
        cursor.execute(
            f"UPDATE {name} SET {', '.join(assignments)} "  # noqa: S608 (names from the caller)
            f"WHERE {key_name} IN ({in_list})",
            params,
        )
        statements += 1
    return statements
