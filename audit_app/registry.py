"""The audit's checks and fixes as data, shaped like Django's system checks.

A check is a small registered object: a stable id (`AUD-PHN-001`), a severity, German/English
texts (gettext), and one aggregate query (or a small fixed number) yielding the affected rows.
A fix belongs to one check, previews exactly what it will write, and applies that plan in one
transaction (see audit_app/fixes/base.py). The dashboard, the `audit` command and the tests all
read this one registry.
"""

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
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
            "critical": _("Critical"),
            "warning": _("Warning"),
            "info": _("Info"),
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
    # The id of a check whose rows, once found there, are no new damage when this check finds
    # them: they got better (a table that was empty and is now nearly empty). The "new since"
    # comparisons count a row as new only when neither check had it (snapshots.known_keys).
    improves_on: str = ""

    def find(self) -> list[Affected]:
        """Every affected row, in the check's order. A check implements find() or each()."""
        return list(self.each())

    def each(self) -> Iterator[Affected]:
        """The affected rows one by one, in find()'s order: a check that yields them lets an
        audit count them without keeping them all (run(row_limit, count_all=True))."""
        return iter(self.find())

    def count_and_page(self, limit: int, offset: int = 0) -> tuple[int, list[Affected]]:
        """The number of affected rows and rows [offset, offset + limit) in find()'s order."""
        return _count_and_keep(self.each(), offset, limit)

    def severity_of(self, row: Affected) -> Severity:
        """The severity of one affected row; the inventory rates each table by its class."""
        return self.severity

    @property
    def rates_rows(self) -> bool:
        """Whether each row has its own severity (the inventory): all its rows are kept."""
        return type(self).severity_of is not Check.severity_of

    def run(self, row_limit: int | None = None, count_all: bool = False) -> Outcome:
        """All affected rows; a paged check run with ``row_limit``: the count and the first
        ``row_limit`` rows only (the others on demand, via count_and_page()). ``count_all``:
        every check run with ``row_limit`` counts its rows and keeps the first ``row_limit``
        (the audit command's JSON and text, the metrics); the inventory keeps every row."""
        if row_limit is not None and (self.paged or (count_all and not self.rates_rows)):
            total, rows = self.count_and_page(max(0, row_limit))
            return Outcome(check=self, rows=rows, total=total)
        return Outcome(check=self, rows=list(self.each()))


def _count_and_keep(rows: Iterator[Affected], offset: int, limit: int) -> tuple[int, list]:
    """How many ``rows`` there are, and rows [offset, offset + limit) of them; the others are
    counted and dropped as they come."""
    kept, total, end = [], 0, offset + limit
    for row in rows:
        if offset <= total < end:
            kept.append(row)
        total += 1
    return total, kept


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


class _Shared:
    """One shared read of a run: computed by the first thread that asks, the others wait."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = False
        self.value = None

    def get(self, compute: Callable):
        with self.lock:
            if not self.done:
                self.value = compute()
                self.done = True
        return self.value


_SHARED_LOCK = threading.Lock()


def shared(key, compute: Callable):
    """``compute()`` once per audit run (see audit_run()); the result must not be changed.
    Thread-safe: run_all's threads share the run, and a read asked for by two of them at once
    is made once (the second waits for it)."""
    cache = _RUN.get()
    if cache is None:
        return compute()
    with _SHARED_LOCK:
        entry = cache.get(key)
        if entry is None:
            entry = cache[key] = _Shared()
    return entry.get(compute)


def run_check(check: Check, row_limit: int | None = None, count_all: bool = False) -> Outcome:
    try:
        return check.run(row_limit, count_all)
    except CheckUnavailable as reason:
        return Outcome(check=check, available=False, unavailable_reason=str(reason))


def parallel_allowed() -> bool:
    """Other connections may run checks only where they see the same data: MySQL/MariaDB
    (SQLite's file is locked, an in-memory one is private) and outside a transaction (another
    connection would not see this one's uncommitted rows, as in tests)."""
    return (
        getattr(settings, "AUDIT_PARALLEL_QUERIES", True)
        and connection.vendor == "mysql"
        and not connection.in_atomic_block
    )


# Threads of a parallel run, this one included: each has a connection of its own, so one
# thread's query runs on the server while another decrypts or parses (the GIL is released while
# a query waits). 2, 3 and 4 measured alike on the shared 2-core machine; 3 keeps the long
# query, the Python work and one more query going at once (bench/README.md, third round).
PARALLEL_THREADS = 3


def run_all(row_limit: int | None = None, count_all: bool = False) -> list[Outcome]:
    """Every check's outcome. ``row_limit``: checks count all their rows and keep only this
    many (Outcome.partial): the paged checks, and with ``count_all`` every check (but the
    inventory); None keeps every row of every check (snapshots, exports).

    Where parallel_allowed(), the checks are taken from one queue by PARALLEL_THREADS threads,
    each on its own connection: the server-bound ones (one long query, e.g. AUD-CUS-001 over a
    million calls) first. The outcomes are the same, in the same order."""
    checks = all_checks()
    with audit_run():
        if not parallel_allowed():
            return [run_check(check, row_limit, count_all) for check in checks]
        work: queue.SimpleQueue = queue.SimpleQueue()
        for check in sorted(checks, key=lambda c: not c.server_bound):  # the long queries first
            work.put(check)
        done: dict[str, Outcome] = {}
        failed: list[BaseException] = []
        language = translation.get_language()
        threads = [
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(_work, work, done, failed, (row_limit, count_all), language, True),
            )
            for _n in range(PARALLEL_THREADS - 1)
        ]
        for thread in threads:
            thread.start()
        _work(work, done, failed, (row_limit, count_all), language, own_connection=False)
        for thread in threads:
            thread.join()
        if failed:
            raise failed[0]
    return [done[check.id] for check in checks]


def _work(work, done, failed, limits: tuple, language, own_connection: bool) -> None:
    """Take checks from ``work`` until it is empty."""
    try:
        with translation.override(language):  # the active language is per thread
            while not failed:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                done[item.id] = run_check(item, *limits)
    except BaseException as error:  # raised in the caller's thread
        failed.append(error)
    finally:
        if own_connection:
            connections.close_all()  # this thread's connection, not the caller's


def _load() -> None:
    # The check modules register themselves on import.
    import audit_app.checks  # noqa: F401
