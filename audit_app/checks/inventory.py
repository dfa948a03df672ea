"""The table inventory: empty and sparse tables over ALL tables of the database.

Each table is rated by settings.AUDIT_TABLE_CATALOGUE (the database review's classes). An
empty or sparse table needs an exact count, a big one only its size: on MySQL/MariaDB the sizes
are read from information_schema.TABLES.TABLE_ROWS (InnoDB's estimate, one query), and only the
tables estimated below EXACT_BELOW rows are counted exactly (cheap: they are small). On SQLite
every table is counted exactly: one `SELECT 'name', COUNT(*) FROM name UNION ALL ...` per chunk
of tables. The console's own tables are left out.
"""

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit_app.registry import Affected, Category, Check, Severity, in_run, register, shared
from integrations_app.models import GATEWAY_MODELS
from integrations_app.models.base import SoftDeleteModel

# Tables per UNION ALL statement (SQLite allows 500 compound SELECTs by default).
CHUNK = 200
# Tables estimated below this many rows are counted exactly (the estimate of a small InnoDB table
# can be far off, and "empty" and "sparse" must be exact); above it the estimate stands, which
# is far from AUDIT_SPARSE_ROWS whatever InnoDB's error.
EXACT_BELOW = 10_000
CONSOLE_PREFIXES = ("django_", "auth_", "auditlog_", "audit_app_", "changelog_")

BUSINESS_CRITICAL = "business_critical"
OPERATIONS_CRITICAL = "operations_critical"
OPTIONAL = "optional"
UNCLASSIFIED = "unclassified"

CLASS_SEVERITY = {
    BUSINESS_CRITICAL: Severity.CRITICAL,
    OPERATIONS_CRITICAL: Severity.WARNING,
    OPTIONAL: Severity.INFO,
    UNCLASSIFIED: Severity.INFO,
}
CLASS_LABELS = {
    BUSINESS_CRITICAL: gettext_lazy("business-critical"),
    OPERATIONS_CRITICAL: gettext_lazy("operations-critical"),
    OPTIONAL: gettext_lazy("optional"),
    UNCLASSIFIED: gettext_lazy("unclassified"),
}
CLASS_ORDER = (BUSINESS_CRITICAL, OPERATIONS_CRITICAL, OPTIONAL, UNCLASSIFIED)
ADMIN_PAGES = {m._meta.db_table: ("integrations_app", m._meta.model_name) for m in GATEWAY_MODELS}


def table_class(table: str) -> str:
    for name in CLASS_ORDER[:-1]:
        if table in settings.AUDIT_TABLE_CATALOGUE.get(name, ()):
            return name
    return UNCLASSIFIED


def is_console_table(table: str, managed: set[str]) -> bool:
    return table in managed or table.startswith(CONSOLE_PREFIXES)


def gateway_table_names() -> list[str]:
    """Every table of the database but the console's own (no query beyond introspection)."""
    managed = set(connection.introspection.django_table_names(include_views=False))
    return sorted(
        t
        for t in connection.introspection.table_names(include_views=False)
        if not is_console_table(t, managed)
    )


def soft_delete_tables() -> set[str]:
    """The tables the gateway soft-deletes in (semantics.md §4): their deleted rows never count."""
    return {m._meta.db_table for m in GATEWAY_MODELS if issubclass(m, SoftDeleteModel)}


def table_row_counts(tables: list[str] | None = None) -> dict[str, int]:
    """Live rows of each table: exact for small tables (and on SQLite), estimated for big ones
    on MySQL/MariaDB (see the module's docstring and estimated_tables())."""
    if in_run():
        # Once per audit run: both inventory checks and the business tables' row counts read
        # the sizes of the same tables (the business tables are among all of them).
        every = shared("table-row-counts", lambda: _table_row_counts(gateway_table_names()))
        wanted = list(every) if tables is None else tables
        if all(t in every for t in wanted):
            return {t: every[t] for t in wanted}
    tables = gateway_table_names() if tables is None else tables
    return _table_row_counts(tables)


def _table_row_counts(tables: list[str]) -> dict[str, int]:
    estimates = estimated_sizes(tables)
    exact = [t for t in tables if estimates.get(t) is None or estimates[t] < EXACT_BELOW]
    counts = {t: estimates[t] for t in tables if t not in set(exact)}
    counts.update(exact_row_counts(exact))
    return {t: counts[t] for t in tables}


def estimated_sizes(tables: list[str]) -> dict[str, int]:
    """InnoDB's estimated rows per table (information_schema.TABLES.TABLE_ROWS), one query; {} on
    databases without it (SQLite: everything is counted exactly)."""
    if connection.vendor != "mysql" or not tables:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
        )
        wanted = set(tables)
        return {
            name: int(rows)
            for name, rows in cursor.fetchall()
            if name in wanted and rows is not None
        }


def estimated_tables(counts: dict[str, int]) -> list[str]:
    """Which of these counts are InnoDB estimates (the big tables on MySQL/MariaDB)."""
    if connection.vendor != "mysql":
        return []
    return sorted(t for t, n in counts.items() if n >= EXACT_BELOW)


def exact_row_counts(tables: list[str]) -> dict[str, int]:
    """Exact count of the live rows of each table: one UNION ALL query per CHUNK tables."""
    quote = connection.ops.quote_name
    soft = soft_delete_tables()
    counts = {}
    with connection.cursor() as cursor:
        for start in range(0, len(tables), CHUNK):
            chunk = tables[start : start + CHUNK]
            sql = " UNION ALL ".join(
                f"SELECT %s, COUNT(*) FROM {quote(table)}"  # noqa: S608 - names from introspection
                + (" WHERE deleted_at IS NULL" if table in soft else "")
                for table in chunk
            )
            cursor.execute(sql, chunk)
            counts.update({name: int(count) for name, count in cursor.fetchall()})
    return counts


class _InventoryCheck(Check):
    """Rated per table: severity_of(row) gives each row the severity of its table's class."""

    category = Category.INVENTORY
    severity = Severity.CRITICAL  # an empty business-critical table; see severity_of()

    def matches(self, count: int) -> bool:
        raise NotImplementedError

    def describe(self, count: int, label) -> str:
        raise NotImplementedError

    def find(self) -> list[Affected]:
        found = []
        for table, count in table_row_counts().items():
            if not self.matches(count):
                continue
            rating = table_class(table)
            found.append(
                (
                    CLASS_ORDER.index(rating),
                    table,
                    Affected(
                        table=table,
                        pk=None,
                        label=table,
                        detail=self.describe(count, CLASS_LABELS[rating]),
                        admin=ADMIN_PAGES.get(table),
                    ),
                )
            )
        return [row for _order, _table, row in sorted(found, key=lambda f: (f[0], f[1]))]

    @staticmethod
    def severity_of(row: Affected) -> Severity:
        """The severity of one finding: by the class of its table in the catalogue."""
        return CLASS_SEVERITY[table_class(row.table)]


@register
class EmptyTables(_InventoryCheck):
    id = "AUD-TBL-001"
    title = gettext_lazy("Parts of the gateway never used (empty tables)")
    explanation = gettext_lazy(
        "An empty table is a part of the gateway that has never run for anyone: no appointment "
        "types or bookings means callers cannot book; no connections means no company's "
        "provider setup is recorded. Tables the business depends on are critical, those "
        "operations depend on a warning, the rest information."
    )
    detail = gettext_lazy(
        "An empty table is a part of the gateway that has never run for anyone: no "
        "integrations means no company's provider setup is registered, no Cal.com event types "
        "or bookings means calls cannot book, an empty dead-letter queue may mean failed "
        "webhooks are not kept. Rated by the table catalogue of the database review: "
        "business-critical tables are critical, operations-critical ones a warning, the "
        "rest information."
    )
    hint = gettext_lazy(
        "Check the business-critical tables first; adjust the classes in "
        "settings.AUDIT_TABLE_CATALOGUE."
    )

    def matches(self, count: int) -> bool:
        return count == 0

    def describe(self, count: int, label) -> str:
        return _("%(class)s: empty") % {"class": label}


@register
class SparseTables(_InventoryCheck):
    """Information only: a small table is no damage by itself (a demo or a new gateway has
    few rows), and what is missing per company is what the other checks report (companies
    without a number, a branch or a connection). A table that was empty before and is nearly
    empty now got better: it is no new finding (improves_on)."""

    id = "AUD-TBL-002"
    severity = Severity.INFO
    improves_on = "AUD-TBL-001"
    title = gettext_lazy("Parts of the gateway barely used (nearly empty tables)")
    explanation = gettext_lazy(
        "A table with only a handful of entries is a part of the gateway that was hardly used "
        "or holds test data only; calls and bookings depend on it being filled. The table "
        "below shows how many entries each one has now. This is information: what is missing "
        "for a company is reported by the other checks."
    )
    detail = gettext_lazy(
        "A table with only a handful of live rows (counted now; soft-deleted rows do not "
        "count) is a part of the gateway that has barely been used or only holds test data. "
        "The database review that introduced this check had found 4 phone numbers for 13 "
        "companies and 8 staff for 9 branches in the production data at that time; the "
        "numbers below are today's. Information only, whatever the table's class."
    )
    hint = gettext_lazy(
        "Check whether the rows are real data; settings.AUDIT_SPARSE_ROWS sets the threshold."
    )

    def matches(self, count: int) -> bool:
        return 0 < count < settings.AUDIT_SPARSE_ROWS

    def severity_of(self, row: Affected) -> Severity:
        return Severity.INFO

    def describe(self, count: int, label) -> str:
        return ngettext(
            "%(class)s: %(count)d row (fewer than %(threshold)d)",
            "%(class)s: %(count)d rows (fewer than %(threshold)d)",
            count,
        ) % {
            "class": label,
            "count": count,
            "threshold": settings.AUDIT_SPARSE_ROWS,
        }
