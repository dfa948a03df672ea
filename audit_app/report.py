"""The audit as one JSON-safe document (the `audit` command's JSON, for monitoring), and the rule
that decides whether the audit fails.

Document: {"generated_at", "database", "measures": {key: {"numerator", "denominator", "percent",
"label"}}, "row_counts": {table: rows}, "checks": [{"id", "severity", "category", "title",
"count", "available", "reason", "fix", "rows": [{"table", "pk", "label", "detail", "severity"}],
"rows_omitted"}]}: `rows` lists at most `row_limit` rows, `rows_omitted` says how many of
`count` it left out. "row_counts_estimated" names the tables whose row count is InnoDB's
estimate (MySQL/MariaDB, big tables only).
"""

from django.db import connection
from django.utils import timezone

from audit_app import measures as audit_measures
from audit_app.checks.inventory import estimated_tables
from audit_app.registry import Affected, Check, Outcome, Severity, audit_run, run_all

FAIL_ON = ("critical", "warning", "never")


def row_severity(check: Check, row: Affected) -> Severity:
    """A finding's severity: the check's, or per row where the check rates rows (inventory)."""
    rate = getattr(check, "severity_of", None)
    return rate(row) if rate else check.severity


def failing(outcomes: list[Outcome], fail_on: str) -> list[Outcome]:
    """The outcomes that make the audit fail at --fail-on.

    A check fails when one of its findings is at or above the threshold (inventory rows by
    their table's class). A check that is not available fails when its own severity is at or
    above the threshold: the audit cannot say it is fine.
    """
    if fail_on == "never":
        return []
    threshold = Severity(fail_on).rank
    found = []
    for outcome in outcomes:
        if not outcome.available:
            if outcome.check.severity.rank >= threshold:
                found.append(outcome)
        elif outcome.count and outcome.check.severity.rank >= threshold and outcome.partial:
            found.append(outcome)  # a paged check rates all its rows alike (not the inventory)
        elif any(row_severity(outcome.check, r).rank >= threshold for r in outcome.rows):
            found.append(outcome)
    return found


def database_label() -> str:
    """Which database was audited, without credentials: vendor and name."""
    return f"{connection.vendor}:{connection.settings_dict.get('NAME')}"


def build(outcomes: list[Outcome] | None = None, row_limit: int | None = None) -> dict:
    with audit_run():  # the measures reuse the checks' reads when called within their run
        outcomes = run_all() if outcomes is None else outcomes
        computed = audit_measures.compute()
        row_counts = audit_measures.row_counts()
    return {
        "generated_at": timezone.now().replace(microsecond=0).isoformat(),
        "database": database_label(),
        "measures": {
            key: {
                "numerator": m.numerator,
                "denominator": m.denominator,
                "percent": m.percent,
                "label": str(m.label),
            }
            for key, m in computed.items()
        },
        "row_counts": row_counts,
        "row_counts_estimated": estimated_tables(row_counts),
        "checks": [check_document(o, row_limit) for o in outcomes],
    }


def check_document(outcome: Outcome, row_limit: int | None = None) -> dict:
    check = outcome.check
    rows = outcome.rows if row_limit is None else outcome.rows[:row_limit]
    return {
        "id": check.id,
        "severity": check.severity.value,
        "category": check.category.value,
        "title": str(check.title),
        "explanation": str(check.explanation),
        "detail": str(check.detail),  # the technical reason, for engineers
        "hint": str(check.hint),
        "count": outcome.count,
        "available": outcome.available,
        "reason": outcome.unavailable_reason,
        "fix": check.fix_id,
        "rows_omitted": outcome.count - len(rows),
        "rows": [
            {
                "table": r.table,
                "pk": r.pk,
                "label": r.label,
                "detail": str(r.detail),
                "severity": row_severity(check, r).value,
            }
            for r in rows
        ],
    }
