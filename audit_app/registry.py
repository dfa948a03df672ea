"""The audit's checks and fixes as data, shaped like Django's system checks.

A check is a small registered object: a stable id (`AUD-PHN-001`), a severity, German/English
texts (gettext), and one aggregate query (or a small fixed number) yielding the affected rows.
A fix belongs to one check, previews exactly what it will write, and applies that plan in one
transaction (see audit_app/fixes/base.py). The dashboard, the `audit` command and the tests all
read this one registry.
"""

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import connection, connections
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"critical": 3, "warning": 2, "info": 1}[self.value]

    @property
    def label(self) -> Promise:
        return {
            "critical": _("critical"),
            "warning": _("warning"),
            "info": _("info"),
        }[self.value]


class Category(StrEnum):
    CALLS = "calls"  # calls cannot arrive
    BOOKINGS = "bookings"  # bookings break
    CREDENTIALS = "credentials"
    SECRETS = "secrets"  # secrets in plain text
    NOTIFICATIONS = "notifications"
    CUSTOMERS = "customers"
    INVENTORY = "inventory"

    @property
    def label(self) -> Promise:
        return {
            "calls": _("Calls cannot arrive"),
            "bookings": _("Bookings break"),
            "credentials": _("Credentials"),
            "secrets": _("Secrets in plain text"),
            "notifications": _("Notifications"),
            "customers": _("Customer journey"),
            "inventory": _("Table inventory"),
        }[self.value]


@dataclass(frozen=True)
class Affected:
    """One affected row: what it is, why, and where to fix it in the admin."""

    table: str
    pk: object
    label: str
    detail: str = ""
    # (app_label, model_name) of the admin page to link to, or None for tables without one
    admin: tuple[str, str] | None = None


@dataclass
class Outcome:
    """What a check found now. `available` is False when it cannot judge (never a false ok)."""

    check: "Check"
    rows: list[Affected] = field(default_factory=list)
    available: bool = True
    unavailable_reason: str = ""
    # The number of affected rows when `rows` holds only the first page of them (a paged check
    # run with a row limit: counted first, the rows on demand); None when `rows` holds all.
    total: int | None = None

    @property
    def count(self) -> int:
        return len(self.rows) if self.total is None else self.total

    @property
    def partial(self) -> bool:
        """True when `rows` is only the first page of the affected rows."""
        return self.count > len(self.rows)

    @property
    def ok(self) -> bool:
        return self.available and not self.count


class Check:
    """Subclass, set the attributes, implement `find()`, decorate with @register."""

    id: str = ""
    severity: Severity = Severity.WARNING
    category: Category = Category.CALLS
    title: Promise | str = ""
    # What happens to callers and bookings, in plain words for a manager.
    explanation: Promise | str = ""
    # The technical reason, for engineers (the gateway's tables, columns and functions): shown
    # collapsed under the explanation.
    detail: Promise | str = ""
    hint: Promise | str = ""
    fix_id: str | None = None  # the id of the fix in audit_app.fixes, if one exists
    # A paged check counts its rows first and loads only a page of them when run with a row
    # limit (its rows are too many, or too costly, to load whole): implement count_and_page().
    paged: bool = False
    # Its time is the database server's, not Python's (one long query): run_all may run it on a
    # connection of its own while the other checks decrypt and parse (see run_all()).
    server_bound: bool = False

    def find(self) -> list[Affected]:
        raise NotImplementedError

    def count_and_page(self, limit: int, offset: int = 0) -> tuple[int, list[Affected]]:
        """The number of affected rows and rows [offset, offset + limit) in find()'s order."""
        rows = list(self.find())
        return len(rows), rows[offset : offset + limit]

    def severity_of(self, row: Affected) -> Severity:
        """The severity of one affected row; the inventory rates each table by its class."""
        return self.severity

    def run(self, row_limit: int | None = None) -> Outcome:
        """All affected rows; a paged check run with ``row_limit``: the count and the first
        ``row_limit`` rows only (the others on demand, via count_and_page())."""
        if self.paged and row_limit is not None:
            total, rows = self.count_and_page(max(0, row_limit))
            return Outcome(check=self, rows=rows, total=total)
        return Outcome(check=self, rows=list(self.find()))


class CheckUnavailable(Exception):
    """Raised by find() when the check cannot judge (e.g. no GATEWAY_APP_KEY): shown as such."""


_CHECKS: dict[str, Check] = {}


def register(cls: type[Check]) -> type[Check]:
    check = cls()
    if not check.id or check.id in _CHECKS:
        raise ValueError(f"audit check id missing or registered twice: {check.id!r}")
    _CHECKS[check.id] = check
    return cls


def all_checks() -> list[Check]:
    _load()
    return sorted(_CHECKS.values(), key=lambda c: (-c.severity.rank, c.id))


def get_check(check_id: str) -> Check | None:
    _load()
    return _CHECKS.get(check_id)


# The reads of one audit run that several checks (and the measures) share: made once per run.
_RUN: contextvars.ContextVar[dict | None] = contextvars.ContextVar("audit_run", default=None)


@contextmanager
def audit_run():
    """One audit: within it, shared() computes each shared read once (the phone numbers, the
    stored keys and what they decrypt to, the table sizes, ...). Nested runs share the outer
    one. Outside a run every call reads afresh (a fix's preview, a single check)."""
    if _RUN.get() is not None:
        yield
        return
    token = _RUN.set({})
    try:
        yield
    finally:
        _RUN.reset(token)


def in_run() -> bool:
    return _RUN.get() is not None


def shared(key, compute: Callable):
    """``compute()`` once per audit run (see audit_run()); the result must not be changed."""
    cache = _RUN.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def run_check(check: Check, row_limit: int | None = None) -> Outcome:
    try:
        return check.run(row_limit)
    except CheckUnavailable as reason:
        return Outcome(check=check, available=False, unavailable_reason=str(reason))


def _in_own_connection(check: Check, row_limit: int | None, language: str | None) -> Outcome:
    try:
        # The active language is per thread: the texts in the caller's.
        with translation.override(language):
            return run_check(check, row_limit)
    finally:
        connections.close_all()  # this thread's connection, not the caller's


def parallel_allowed() -> bool:
    """A server-bound check may run on a second connection only where that connection sees the
    same data: MySQL/MariaDB (SQLite's file is locked, an in-memory one is private) and outside
    a transaction (another connection would not see this one's uncommitted rows, as in tests)."""
    return (
        getattr(settings, "AUDIT_PARALLEL_QUERIES", True)
        and connection.vendor == "mysql"
        and not connection.in_atomic_block
    )


def run_all(row_limit: int | None = None) -> list[Outcome]:
    """Every check's outcome. ``row_limit``: paged checks count their rows and load only this
    many (Outcome.partial); None loads every row of every check (snapshots, exports).

    Server-bound checks (one long query, e.g. AUD-CUS-001 over a million calls) run on a
    connection of their own while this thread runs the others, whose time is mostly Python
    (decrypting keys, parsing numbers): on the gateway's size that halves the wall time."""
    checks = all_checks()
    with audit_run():
        if not parallel_allowed():
            return [run_check(check, row_limit) for check in checks]
        apart = [check for check in checks if check.server_bound]
        language = translation.get_language()
        with ThreadPoolExecutor(max_workers=max(1, len(apart))) as pool:
            futures = {
                check.id: pool.submit(_in_own_connection, check, row_limit, language)
                for check in apart
            }
            done = {
                check.id: run_check(check, row_limit) for check in checks if check.id not in futures
            }
            done.update({check_id: future.result() for check_id, future in futures.items()})
    return [done[check.id] for check in checks]


def _load() -> None:
    # The check modules register themselves on import.
    import audit_app.checks  # noqa: F401
