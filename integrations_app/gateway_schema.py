"""Where the live database differs from the gateway tables the console expects.

Production has drifted from the gateway's migrations before, so before anything is written an
operator runs `gateway_schema check`. The expected columns come from the unmanaged models; the
exact MySQL types come from the fields (see models/fields.py), so `create` and `check` agree.

Optional columns. The gateway added columns in February 2026 (`calls.booking_details`,
`customers.phone_variants`, `journey_history`, `booking_history_summary`, `portal_access_token`,
`portal_token_expires_at`) that the reference schema has and an older production database may not.
A model declares them in ``OPTIONAL_COLUMNS`` ({column: an unbound field}) instead of as model
fields: the console never selects them, so it works the same on a database with or without them
(a deferred model field would still be selected by every `select_related` and written by every
insert). The check compares such a column like any other when it exists (type, nullability) and,
when it does not, reports no difference: `absent_optional_columns()` lists them as a note only.
`create` builds the tables from the models, so a development database lacks them. A secret among
them is declared in ``OPTIONAL_SECRET_COLUMNS``: as no page, export or history reads the column,
none can show it.
"""

import re
from dataclasses import asdict, dataclass

from django.db import connection as default_connection
from django.utils.translation import gettext as _

from integrations_app.models import GATEWAY_MODELS

MISSING_TABLE = "missing_table"
MISSING_COLUMN = "missing_column"
TYPE = "type"
NULLABILITY = "nullability"
UNWRITTEN_NOT_NULL = "unwritten_not_null"

_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|bigint)\(\d+\)")
_SYNONYMS = (
    (re.compile(r"\binteger\b"), "int"),
    (re.compile(r"\bnumeric\b"), "decimal"),
    (re.compile(r"\bdouble precision\b"), "double"),
    (re.compile(r"\bbool(ean)?\b"), "tinyint"),
    # MariaDB's JSON is an alias of longtext with a json_valid() check.
    (re.compile(r"^json$"), "longtext"),
)


def normalize_type(column_type: str) -> str:
    """One spelling per type: `bigint(20) unsigned` and `bigint UNSIGNED` are the same."""
    text = " ".join(column_type.lower().replace("auto_increment", "").split())
    text = _INT_WIDTH.sub(r"\1", text)
    for pattern, replacement in _SYNONYMS:
        text = pattern.sub(replacement, text)
    return re.sub(r",\s+", ",", text).strip()


@dataclass(frozen=True)
class Column:
    type: str
    nullable: bool
    has_default: bool = False


@dataclass(frozen=True)
class Difference:
    table: str
    column: str
    kind: str
    expected: str
    found: str

    def message(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        texts = {
            MISSING_TABLE: _("table %(where)s is missing"),
            MISSING_COLUMN: _("column %(where)s is missing"),
            TYPE: _("%(where)s has the type %(found)s, the console expects %(expected)s"),
            NULLABILITY: _("%(where)s is %(found)s, the console expects %(expected)s"),
            UNWRITTEN_NOT_NULL: _(
                "%(where)s is NOT NULL without a default and the console does not write it: "
                "its inserts would fail"
            ),
        }
        return texts[self.kind] % {"where": where, "found": self.found, "expected": self.expected}

    def as_dict(self) -> dict:
        return asdict(self) | {"message": self.message()}


def gateway_tables() -> list[str]:
    return [model._meta.db_table for model in GATEWAY_MODELS]


def _column(field, connection) -> Column:
    return Column(type=normalize_type(field.db_type(connection)), nullable=field.null)


def expected_columns(model, connection) -> dict[str, Column]:
    """The columns the console reads and writes: every one must exist."""
    return {field.column: _column(field, connection) for field in model._meta.concrete_fields}


def optional_columns(model, connection) -> dict[str, Column]:
    """The columns the model declares optional: compared only where they exist."""
    declared = getattr(model, "OPTIONAL_COLUMNS", {})
    return {name: _column(field, connection) for name, field in declared.items()}


def optional_secret_columns() -> dict[str, tuple[str, ...]]:
    """{table: the optional columns holding a secret}, for the tests that plant canaries."""
    return {
        model._meta.db_table: tuple(model.OPTIONAL_SECRET_COLUMNS)
        for model in GATEWAY_MODELS
        if getattr(model, "OPTIONAL_SECRET_COLUMNS", None)
    }


def absent_optional_columns(connection=None) -> list[tuple[str, str]]:
    """The optional columns this database does not have (a note, not a difference)."""
    connection = connection or default_connection
    live = live_columns(connection)
    return [
        (model._meta.db_table, name)
        for model in GATEWAY_MODELS
        if model._meta.db_table in live
        for name in getattr(model, "OPTIONAL_COLUMNS", {})
        if name not in live[model._meta.db_table]
    ]


def _live_columns_mysql(connection, tables):
    placeholders = ", ".join(["%s"] * len(tables))
    # Only %s placeholders are interpolated into the SQL text.
    sql = (
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA "  # noqa: S608
        "FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({placeholders}) "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
    live: dict[str, dict[str, Column]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, tables)
        for table, name, column_type, nullable, default, extra in cursor.fetchall():
            extra = (extra or "").lower()
            live.setdefault(table, {})[name] = Column(
                type=normalize_type(column_type),
                nullable=nullable == "YES",
                has_default=default is not None
                or "auto_increment" in extra
                or "generated" in extra,
            )
    return live


def _live_columns_sqlite(connection, tables):
    live: dict[str, dict[str, Column]] = {}
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in tables:
            if table not in existing:
                continue
            cursor.execute(f'PRAGMA table_info("{table}")')
            live[table] = {
                name: Column(
                    type=normalize_type(column_type),
                    nullable=not notnull,
                    has_default=default is not None or bool(pk),
                )
                for _cid, name, column_type, notnull, default, pk in cursor.fetchall()
            }
    return live


def live_columns(connection=None) -> dict[str, dict[str, Column]]:
    connection = connection or default_connection
    tables = gateway_tables()
    if connection.vendor == "mysql":
        return _live_columns_mysql(connection, tables)
    if connection.vendor == "sqlite":
        return _live_columns_sqlite(connection, tables)
    raise NotImplementedError(connection.vendor)


def compare(connection=None) -> list[Difference]:
    """Every difference between the live gateway tables and what the models read and write."""
    connection = connection or default_connection
    live = live_columns(connection)
    differences: list[Difference] = []
    for model in GATEWAY_MODELS:
        table = model._meta.db_table
        if table not in live:
            differences.append(Difference(table, "", MISSING_TABLE, _("present"), _("missing")))
            continue
        found_columns = live[table]
        expected = expected_columns(model, connection)
        optional = optional_columns(model, connection)
        for name, want in (expected | optional).items():
            have = found_columns.get(name)
            if have is None:
                if name not in optional:
                    differences.append(
                        Difference(table, name, MISSING_COLUMN, want.type, _("missing"))
                    )
                continue
            if have.type != want.type:
                differences.append(Difference(table, name, TYPE, want.type, have.type))
            if have.nullable != want.nullable:
                differences.append(
                    Difference(
                        table,
                        name,
                        NULLABILITY,
                        "NULL" if want.nullable else "NOT NULL",
                        "NULL" if have.nullable else "NOT NULL",
                    )
                )
        for name, have in found_columns.items():
            known = name in expected or name in optional
            if not known and not have.nullable and not have.has_default:
                differences.append(
                    Difference(
                        table, name, UNWRITTEN_NOT_NULL, _("written or defaulted"), "NOT NULL"
                    )
                )
    return differences


def existing_gateway_tables(connection=None) -> list[str]:
    connection = connection or default_connection
    present = set(connection.introspection.table_names())
    return [table for table in gateway_tables() if table in present]


def create_tables(connection=None) -> list[str]:
    """Create the gateway tables from the models, for an empty development database only."""
    connection = connection or default_connection
    with connection.schema_editor() as editor:
        for model in GATEWAY_MODELS:
            editor.create_model(model)
    return gateway_tables()
