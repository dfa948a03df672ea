"""What several checks (and the measures) share: how the gateway matches a number, which
integration counts as active, the rows the checks report.

Everything here works on rows already loaded with values(): no query of its own.
"""

from django.db.models import Q

from audit_app.registry import Affected
from integrations_app.phone import (  # noqa: F401 (the checks import them from here)
    E164,
    is_e164,
    number_problem,
    routing_forms,
    to_e164,
)

APP = "integrations_app"
COMPANY_ADMIN = (APP, "company")
BRANCH_ADMIN = (APP, "branch")
STAFF_ADMIN = (APP, "staff")
NUMBER_ADMIN = (APP, "phonenumber")
INTEGRATION_ADMIN = (APP, "integration")
CUSTOMER_ADMIN = (APP, "customer")


def active_integrations(queryset):
    """The integrations of ``queryset`` that are active (``IntegrationQuerySet.active``)."""
    return queryset.active()


# Numbers of live companies and numbers without a company; the gateway ignores the numbers'
# own deleted_at, so the numbers themselves are never filtered by it.
NUMBER_OF_LIVE_COMPANY = Q(company__isnull=True) | Q(company__deleted_at__isnull=True)


def number_row(row: dict, detail: str) -> Affected:
    company = row.get("company__name") or "—"
    return Affected(
        table="phone_numbers",
        pk=row["id"],
        label=f"{row['number']} ({company})",
        detail=detail,
        admin=NUMBER_ADMIN,
    )


def company_row(row: dict, detail: str) -> Affected:
    return Affected(
        table="companies", pk=row["id"], label=row["name"], detail=detail, admin=COMPANY_ADMIN
    )
