"""Rewriting encrypted columns of a gateway table the console does not mirror (``tenants``).

Key rotation re-encrypts the secrets of mirrored tables through ``update_rows``; a table without
a model is written here instead, with plain SQL, in batches (one ``executemany`` per set of
columns), and recorded in the change store like every other write: per row, each rewritten
column's fingerprint before and after (``stored_fingerprint``), never a value or a payload.
"""

from collections import defaultdict
from collections.abc import Mapping

from django.db import connections, transaction

from changelog.recording import RowChange, record
from integrations_app.crypto.fingerprint import stored_fingerprint


def rewrite_unmirrored(
    *,
    table: str,
    values: Mapping[object, Mapping[str, str]],
    flavour: str,
    encrypter=None,
    using: str = "default",
) -> int:
    """Set, per row id, the given encrypted columns of ``table``; returns the rows written.

    ``flavour`` is the columns' (SERIALIZED or RAW); ``encrypter`` opens the values for their
    fingerprints (from the settings when not given). The caller has read (and locked) the rows;
    their current values are read once more here, in one query, for the record.
    """
    values = {pk: dict(columns) for pk, columns in values.items() if columns}
    if not values:
        return 0
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = sorted({c for row in values.values() for c in row})
    with transaction.atomic(using=using):
        before = _read(connection, table, columns, list(values))
        groups = defaultdict(list)
        for pk, row in values.items():
            group = tuple(sorted(row))
            groups[group].append([*(row[c] for c in group), pk])
        with connection.cursor() as cursor:
            for group, params in groups.items():
                assignments = ", ".join(f"{quote(c)} = %s" for c in group)
                cursor.executemany(
                    f"UPDATE {quote(table)} SET {assignments} "  # noqa: S608
                    f"WHERE {quote('id')} = %s",
                    params,
                )
        record(
            _change(table, pk, before.get(pk, {}), row, flavour, encrypter)
            for pk, row in values.items()
        )
    return len(values)


def _read(connection, table, columns, pks) -> dict:
    quote = connection.ops.quote_name
    found = {}
    with connection.cursor() as cursor:
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            cursor.execute(
                f"SELECT {quote('id')}, {', '.join(quote(c) for c in columns)} "  # noqa: S608
                f"FROM {quote(table)} WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            for row in cursor.fetchall():
                found[row[0]] = dict(zip(columns, row[1:], strict=True))
    return found


def _change(table, pk, old, new, flavour, encrypter) -> RowChange:
    return RowChange(
        table=table,
        pk=pk,
        action="update",
        before={c: stored_fingerprint(old.get(c), flavour, encrypter) for c in new},
        after={c: stored_fingerprint(new[c], flavour, encrypter) for c in new},
        label=f"{table} {pk}",
    )
