"""The review's measures (askproai/report-summary.md), in a fixed number of queries.

compute(): integration, phone, routable phone and branch coverage of the live companies, and
staff per branch; row_counts(): live rows of the review's business tables.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit_app.checks.bookings import staffing_totals
from audit_app.checks.common import FAILED_TEST, active_integrations
from audit_app.checks.number_pass import routable_companies
from integrations_app.models import (
    Appointment,
    Branch,
    Call,
    Company,
    Customer,
    Integration,
    PhoneNumber,
    Service,
    Staff,
)


@dataclass(frozen=True)
class Measure:
    label: Promise | str
    numerator: int
    denominator: int
    percent: float  # 0.0-100.0, one decimal; 0.0 when the denominator is 0
    help: Promise | str = ""


def _percent(numerator: float, denominator: float) -> float:
    return round(100.0 * numerator / denominator, 1) if denominator else 0.0


def compute() -> dict[str, Measure]:
    """The measures by key; a fixed number of queries whatever the data size."""
    # 1. Companies: with an active integration whose last connection test did not fail, a
    # phone number, a live branch.
    companies = Company.objects.annotate(
        has_integration=Exists(
            active_integrations(Integration.objects.filter(company=OuterRef("pk"))).exclude(
                health_status=FAILED_TEST
            )
        ),
        has_number=Exists(PhoneNumber.objects.filter(company=OuterRef("pk"))),
        has_branch=Exists(Branch.objects.filter(company=OuterRef("pk"))),
    ).aggregate(
        total=Count("pk"),
        with_integration=Count("pk", filter=Q(has_integration=True)),
        with_number=Count("pk", filter=Q(has_number=True)),
        with_branch=Count("pk", filter=Q(has_branch=True)),
    )
    total = companies["total"]

    # 2. Numbers the gateway can match AND book on, per live company (decided in Python, in
    # the one read of the numbers the checks make in the same audit run).
    routable = routable_companies()

    # 3. Live staff on live branches of live companies.
    staff, branches = staffing_totals()
    minimum = settings.AUDIT_MIN_STAFF_PER_BRANCH
    average = staff / branches if branches else 0.0
    staff_percent = round(min(100.0, 100.0 * average / minimum), 1) if minimum else 100.0

    with_integration, with_number = companies["with_integration"], companies["with_number"]
    figures = {
        "integration_coverage": (with_integration, total, _percent(with_integration, total)),
        "phone_coverage": (with_number, total, _percent(with_number, total)),
        "routable_phone_coverage": (len(routable), total, _percent(len(routable), total)),
        "branch_coverage": (
            companies["with_branch"],
            total,
            _percent(companies["with_branch"], total),
        ),
        "staff_per_branch": (staff, branches, staff_percent if branches else 0.0),
    }
    return {key: _measure(key, *figures[key]) for key in TEXTS}


# Each measure's label and what it means for callers and bookings, by key (the order of the
# tiles); the dashboard shows the explanation under each tile.
TEXTS = {
    "integration_coverage": (
        _("Integration coverage"),
        _(
            "Share of companies with at least one active connection to a provider (Cal.com, "
            "Retell AI) whose last connection test did not fail. A connection that failed its "
            "test does not count: calls or bookings through it may not work."
        ),
    ),
    "phone_coverage": (
        _("Phone coverage"),
        _(
            "Share of companies with at least one phone number, whether or not calls on it get "
            "through (see the next measure)."
        ),
    ),
    "routable_phone_coverage": (
        _("Companies callers can reach and book with"),
        _(
            "Share of companies with at least one phone number that the gateway recognises when "
            "a call comes in and that belongs to an active branch of the company: a caller gets "
            "through and can book. The other companies' callers are turned away or cannot book."
        ),
    ),
    "branch_coverage": (
        _("Branch coverage"),
        _(
            "Share of companies with at least one active branch: without one a company cannot "
            "take bookings."
        ),
    ),
    "staff_per_branch": (
        _("Staffing of the branches"),
        _(
            "The average number of staff per active branch, as a share of the minimum per "
            "branch: 100 % means the branches have at least the minimum on average. Fewer staff "
            "means fewer free times callers can book."
        ),
    ),
}


def _measure(key: str, numerator, denominator, percent) -> Measure:
    label, help_text = TEXTS[key]
    return Measure(label, numerator, denominator, percent, help_text)


def from_snapshot(stored: dict) -> dict[str, Measure]:
    """The measures as a snapshot stored them (AuditSnapshot.measures); no query."""
    found = {}
    for key in TEXTS:
        value = (stored or {}).get(key)
        if isinstance(value, dict):
            found[key] = _measure(
                key,
                value.get("numerator", 0),
                value.get("denominator", 0),
                float(value.get("percent") or 0.0),
            )
    return found


# The review's business tables, in its order.
BUSINESS_TABLES = (
    Company,
    Branch,
    Customer,
    Call,
    Appointment,
    PhoneNumber,
    Staff,
    Service,
    Integration,
)


def row_counts() -> dict[str, int]:
    """Live rows of each business table (soft-deleted rows left out), in one query on SQLite;
    on MySQL/MariaDB the big tables' sizes are InnoDB's estimates (audit_app.checks.inventory:
    an exact COUNT(*) over a million calls is a full scan, and a size is all this shows)."""
    from audit_app.checks.inventory import table_row_counts

    return table_row_counts([model._meta.db_table for model in BUSINESS_TABLES])
