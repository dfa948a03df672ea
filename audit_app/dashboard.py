"""What the readiness dashboard and the fix pages show, read once per page.

Everything here is prepared in Python so the templates only print: no template tag or filter
touches the database, and the number of queries stays fixed whatever the data size (the checks
and measures are aggregate; links are built with ``reverse()``, which does not query).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.admin.utils import quote
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit_app import measures as audit_measures
from audit_app import snapshots
from audit_app import trends as audit_trends
from audit_app.checks.inventory import estimated_sizes, estimated_tables
from audit_app.fixes.base import Fix, Plan, get_fix
from audit_app.models import AuditSnapshot, FixRecord
from audit_app.registry import (
    Affected,
    Category,
    CheckUnavailable,
    Outcome,
    Severity,
    all_checks,
    audit_run,
    run_all,
    run_check,
)
from audit_app.snapshots import row_key
from integrations_app.admin.history import (
    MODELS_BY_TABLE,
    column_label,
    foreign_keys,
    related_names,
    table_label,
    value_of,
)
from integrations_app.models import Company, Integration
from integrations_app.models.integrations import integration_title

# A check may find thousands of rows; the page lists this many and says how many more there are.
ROWS_SHOWN = 200
HISTORY_SHOWN = 20
# The order of the severity groups on the page.
SEVERITIES = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)
# Each severity's colour is a class in audit_app/static/console/audit.css (askpro-severity-*).


def admin_change_url(app_model: tuple[str, str] | None, pk) -> str:
    """The admin change page of a row, or "" when its table has no admin page."""
    if not app_model or pk is None:
        return ""
    app_label, model_name = app_model
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[quote(str(pk))])
    except NoReverseMatch:
        return ""


@dataclass
class AffectedRow:
    affected: Affected
    url: str
    # The row's table by its name for people ("Companies"), never the database's ("companies").
    table_label: str = ""


def affected_rows(rows: list[Affected], limit: int | None = ROWS_SHOWN) -> list[AffectedRow]:
    shown = rows if limit is None else rows[:limit]
    return [AffectedRow(a, admin_change_url(a.admin, a.pk), tables_label(a.table)) for a in shown]


@dataclass
class CheckRow:
    """A check as its severity group shows it, with all its rows (each check appears once)."""

    outcome: Outcome
    fix: Fix | None
    rows: list[AffectedRow]
    count: int  # affected rows in this group
    more: int  # affected rows not listed
    anchor: str = ""  # the element id: check-<ID>
    # New / resolved since the latest snapshot (audit_app.trends), when there is one.
    change: "audit_trends.CheckChange | None" = None
    new_only: bool = False  # rows limited to those new since a snapshot (?new_since=)
    listed: int = 0  # rows that pass that filter

    @property
    def check(self):
        return self.outcome.check

    @property
    def is_inventory(self) -> bool:
        return self.outcome.check.category == Category.INVENTORY

    @property
    def tables(self) -> list[tuple[AffectedRow, str, Severity]]:
        """An inventory check's tables, each with its label and severity: the check's one
        place on the page (its group), not a second list elsewhere."""
        if not self.is_inventory:
            return []
        severity_of = self.outcome.check.severity_of
        return [
            (row, tables_label(row.affected.table), severity_of(row.affected)) for row in self.rows
        ]

    @property
    def state(self) -> str:
        if not self.outcome.available:
            return "unavailable"
        return "findings" if self.count else "ok"


@dataclass
class SeverityGroup:
    severity: Severity
    checks: list[CheckRow] = field(default_factory=list)

    @property
    def label(self):
        return self.severity.label

    @property
    def with_findings(self) -> int:
        return sum(1 for c in self.checks if c.state == "findings")

    @property
    def affected(self) -> int:
        return sum(c.count for c in self.checks)

    @property
    def unavailable(self) -> int:
        return sum(1 for c in self.checks if c.state == "unavailable")


@dataclass
class Tile:
    key: str
    label: str
    numerator: float
    denominator: float
    percent: float
    text: str
    trend: "audit_trends.Trend | None" = None  # its course over the snapshots
    explanation: str = ""  # what the figure means, in plain words

    @property
    def width(self) -> str:
        """The bar's width: the SVG rect's width attribute in a 0-100 viewBox (no style
        attribute under the CSP); always with a dot, whatever the locale."""
        return f"{max(0.0, min(100.0, float(self.percent))):.1f}"

    @property
    def tone(self) -> str:
        if self.percent >= 100:
            return "good"
        return "fair" if self.percent >= 50 else "poor"


# The providers' lists that audit rows name (no table of the database).
PROVIDER_TABLES = {
    "calcom event types": gettext_lazy("Cal.com event types"),
    "retell.phone_numbers": gettext_lazy("Phone numbers at Retell"),
}


def tables_label(table: str) -> str:
    """A gateway table by its model's plural name ("Phone numbers"), a provider's list by its
    name, an unknown one as it is."""
    model = MODELS_BY_TABLE.get(table)
    if model is not None:
        return capfirst(str(model._meta.verbose_name_plural))
    return str(PROVIDER_TABLES.get(table, table))


def _tile(key: str, measure, trend=None) -> Tile:
    numerator, denominator, percent = measure.numerator, measure.denominator, measure.percent
    explanation = str(measure.help)
    if key == "staff_per_branch":
        # Two decimals: the percent is this average against the minimum (0.67 of 2: 33.3 %).
        average = number_format(round(numerator / denominator, 2) if denominator else 0, 2)
        minimum = settings.AUDIT_MIN_STAFF_PER_BRANCH
        text = _("%(average)s staff per branch on average (minimum %(minimum)s)") % {
            "average": average,
            "minimum": minimum,
        }
        explanation = _(
            "%(staff)s staff on %(branches)s active branches: %(average)s per branch on average, "
            "against the minimum of %(minimum)s per branch. 100 %% means the branches have at "
            "least the minimum on average. Fewer staff means fewer free times callers can book."
        ) % {"staff": numerator, "branches": denominator, "average": average, "minimum": minimum}
    else:
        text = ngettext(
            "%(numerator)s of %(denominator)s company",
            "%(numerator)s of %(denominator)s companies",
            denominator,
        ) % {
            "numerator": numerator,
            "denominator": denominator,
        }
    return Tile(
        key, str(measure.label), numerator, denominator, float(percent), text, trend, explanation
    )


def change_columns(
    before: dict | None, after: dict | None, table: str = "", related: dict | None = None
) -> list[dict]:
    """Column by column: its label and the value before and after as the history shows them
    (labels of raw values, yes/no, local times, readable JSON, a key to another row by that
    row's name from ``related``: ``related_names``; admin/history.py)."""
    model = MODELS_BY_TABLE.get(table)
    keys, related = foreign_keys(model), related or {}
    before, after = before or {}, after or {}
    names = [*after, *(n for n in before if n not in after)]
    return [
        {
            "name": name,
            "label": column_label(model, name),
            "before": value_of(model, name, before.get(name), keys, related)
            if name in before
            else "",
            "after": value_of(model, name, after.get(name), keys, related) if name in after else "",
            "changed": before.get(name) != after.get(name),
        }
        for name in names
    ]


def action_label(action: str) -> str:
    return {"create": _("create"), "update": _("update")}.get(action, action)


@dataclass
class WriteRow:
    table: str
    action: str
    action_label: str
    table_label: str
    description: str
    pk: object
    columns: list[dict]
    url: str = ""  # the row's admin page, once it exists
    new_label: str = ""  # a row to create: what it is and for whom ("New: Branch of …")


def _admin_of_table(table: str) -> tuple[str, str] | None:
    """(app_label, model_name) of the gateway model on `table`, for a link to its admin page."""
    model = MODELS_BY_TABLE.get(table)  # the one table -> model map (admin/history.py)
    return (model._meta.app_label, model._meta.model_name) if model is not None else None


def plan_rows(plan: Plan) -> list[WriteRow]:
    """The preview's rows for people: the rows' companies and other keys by their names (one
    query per related table for the whole plan, never one per row). Display only: the plan
    and its digest stay what is written."""
    related = related_names(plan.writes)
    return [
        WriteRow(
            w.table,
            w.action,
            action_label(w.action),
            table_label(w.table),
            w.description,
            w.pk,
            change_columns(w.before, w.after, w.table, related),
            admin_change_url(_admin_of_table(w.table), w.pk),
            new_label=_new_row_label(w, related) if w.pk is None else "",
        )
        for w in plan.writes
    ]


def _new_row_label(write, related: dict) -> str:
    """A row the fix creates, for people: "New: Branch of <company>" (not its planning key)."""
    company = write.company_name
    company_id = write.company_id if write.company_id is not None else write.after.get("company_id")
    if not company and company_id is not None:
        company = related.get((Company, str(company_id)), "")
    if write.table == Integration._meta.db_table:
        # An integration is named as its pages name it: "Cal.com · <company>".
        title = integration_title(write.after.get("provider"), write.after.get("name"), company)
        return _("New: %(table)s") % {"table": title}
    table = table_label(write.table)
    if company:
        return _("New: %(table)s of %(company)s") % {"table": table, "company": company}
    return _("New: %(table)s") % {"table": table}


def check_rows(
    outcome: Outcome, only: set[str] | None = None, change=None
) -> list[tuple[Severity, CheckRow]]:
    """The check once, in the group of its worst severity: its own, or the worst of its rows
    where the rows are rated one by one (the table inventory rates each table by its class;
    a check with only warning-class tables is a warning). A list of one (severity, row).

    ``only``: the keys ("table:pk") of the rows to list (the "new since" filter); the counts
    stay those of all rows."""
    check = outcome.check
    fix = get_fix(check.fix_id) if check.fix_id else None
    severity = worst_severity(outcome)
    rows = outcome.rows
    listed = rows if only is None else [r for r in rows if row_key(r) in only]
    # A paged check (Outcome.partial) loaded only its first page: its count is the total.
    unlisted = outcome.count - len(rows) if outcome.partial and only is None else 0
    part = CheckRow(
        outcome=outcome,
        fix=fix,
        rows=affected_rows(listed),
        count=outcome.count,
        more=max(0, len(listed) - ROWS_SHOWN) + unlisted,
        anchor=f"check-{check.id}",
        change=change,
        new_only=only is not None,
        listed=len(listed),
    )
    return [(severity, part)]


def worst_severity(outcome: Outcome) -> Severity:
    """The severity a check is listed under: the worst of its rows' (Check.severity_of), or
    the check's own when it has none."""
    rated = {outcome.check.severity_of(row) for row in outcome.rows}
    return max(rated, key=lambda s: s.rank) if rated else outcome.check.severity


def snapshot_in_use() -> AuditSnapshot | None:
    """The snapshot the dashboard shows instead of running the audit, or None (live).

    At the gateway's planned size (a business table above AUDIT_DASHBOARD_LIVE_ROWS rows by
    InnoDB's estimate, one query) every check on every page view would take seconds, so the
    dashboard shows the latest snapshot's counts, says how old they are, and reads a check's
    rows live on its own page. Small databases (the demo, SQLite) and a large one without any
    snapshot yet run the audit live."""
    limit = getattr(settings, "AUDIT_DASHBOARD_LIVE_ROWS", 100_000)
    if limit is None:
        return None  # always live
    if limit > 0:  # 0: the snapshot whenever there is one
        if connection.vendor != "mysql":
            return None  # no estimates (SQLite: the demo's size)
        tables = [model._meta.db_table for model in audit_measures.BUSINESS_TABLES]
        if max(estimated_sizes(tables).values(), default=0) < limit:
            return None
    return snapshots.latest()


def snapshot_outcomes(snapshot: AuditSnapshot) -> list[Outcome]:
    """Each check as the snapshot counted it (no rows: they are read on the check's page); the
    table inventory live (a few cheap queries), since it splits its rows by class."""
    outcomes = []
    for check in all_checks():
        if check.category == Category.INVENTORY:
            outcomes.append(run_check(check))
            continue
        entry = (snapshot.counts or {}).get(check.id)
        if not entry or not entry.get("available", True):
            reason = _("not available in the snapshot of %(date)s") % {
                "date": audit_trends.when(snapshot.taken_at)
            }
            outcomes.append(Outcome(check=check, available=False, unavailable_reason=reason))
            continue
        outcomes.append(Outcome(check=check, rows=[], total=int(entry.get("count", 0))))
    return outcomes


def dashboard_data(*, new_since=None) -> dict:
    """Measures, row counts, checks by severity, the table inventory and the latest fixes;
    with the snapshots: each measure's trend, each check's new / resolved rows, and the rows
    new since the snapshot ``new_since`` (an id) only, when given. At the gateway's size the
    counts are the latest snapshot's (snapshot_in_use())."""
    with audit_run():
        snapshot = snapshot_in_use()
        if snapshot is None:
            # Counts first, rows on demand: paged checks load the rows the page lists, no more.
            outcomes = run_all(ROWS_SHOWN)
            computed = audit_measures.compute()
            trend = audit_trends.dashboard_trends(computed, outcomes, new_since=new_since)
        else:
            outcomes = snapshot_outcomes(snapshot)
            computed = audit_measures.from_snapshot(snapshot.measures)
            trend = audit_trends.dashboard_trends(computed, [], live=False)
        row_counts = audit_measures.row_counts()
    groups = {severity: SeverityGroup(severity) for severity in SEVERITIES}
    for outcome in outcomes:
        check_id = outcome.check.id
        parts = check_rows(outcome, trend.only(check_id), trend.changes.get(check_id))
        for severity, part in parts:
            groups[severity].checks.append(part)
    for group in groups.values():
        group.checks.sort(key=lambda part: part.check.id)
    estimated = set(estimated_tables(row_counts))
    history = list(FixRecord.objects.select_related("applied_by")[:HISTORY_SHOWN])
    return {
        "tiles": [_tile(key, measure, trend.trends.get(key)) for key, measure in computed.items()],
        "snapshots": trend,
        # (table, its label, rows, estimated): on MySQL/MariaDB a big table's size is
        # InnoDB's estimate.
        "row_counts": [
            (table, tables_label(table), count, table in estimated)
            for table, count in row_counts.items()
        ],
        # The table inventory's checks list their tables in their group (CheckRow.tables).
        "groups": list(groups.values()),
        "history": history,
        # The snapshot whose counts the page shows (None: the audit ran for this page).
        "from_snapshot": snapshot,
        "totals": {
            "checks": len(outcomes),
            "with_findings": sum(1 for o in outcomes if o.available and o.count),
            "unavailable": sum(1 for o in outcomes if not o.available),
        },
    }


# A check's own page lists its rows this many at a time.
PAGE_ROWS = ROWS_SHOWN


def check_page(check, page: int) -> dict:
    """One check run now: its count and the rows of ``page`` (1-based), each with its admin
    link and severity; a paged check counts and reads only that page (Check.count_and_page)."""
    page = max(1, page)
    offset = (page - 1) * PAGE_ROWS
    available, reason, total, rows = True, "", 0, []
    try:
        if check.paged:
            total, rows = check.count_and_page(PAGE_ROWS, offset)
        else:
            every = list(check.find())
            total, rows = len(every), every[offset : offset + PAGE_ROWS]
    except CheckUnavailable as error:
        available, reason = False, str(error)
    pages = max(1, -(-total // PAGE_ROWS))
    return {
        "check": check,
        "fix": get_fix(check.fix_id) if check.fix_id else None,
        "available": available,
        "reason": reason,
        "total": total,
        "rows": [(row, check.severity_of(row.affected)) for row in affected_rows(rows, None)],
        "page": page,
        "pages": pages,
        "first_row": offset + 1 if rows else 0,
        "last_row": offset + len(rows),
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None,
    }
