"""What several checks (and the measures) share: how the gateway matches a number, which
integration counts as active, the rows the checks report.

Everything here works on rows already loaded with values(): no query of its own.
"""

import re

from django.db.models import Q

from audit_app.registry import Affected
from integrations_app.phone import to_e164

APP = "integrations_app"
COMPANY_ADMIN = (APP, "company")
BRANCH_ADMIN = (APP, "branch")
STAFF_ADMIN = (APP, "staff")
NUMBER_ADMIN = (APP, "phonenumber")
INTEGRATION_ADMIN = (APP, "integration")
CUSTOMER_ADMIN = (APP, "customer")

# E.164: a plus, a leading digit 1-9, at most 15 digits in all.
E164 = re.compile(r"\A\+[1-9]\d{1,14}\Z")

# An integration the gateway's admin screens show as working: flagged active and not switched
# off by its status (the same rule as the connection tests).
INACTIVE_STATUSES = ("inactive", "suspended")


def active_integrations(queryset):
    return queryset.filter(is_active=True).exclude(status__in=INACTIVE_STATUSES)


# Numbers of live companies and numbers without a company; the gateway ignores the numbers'
# own deleted_at, so the numbers themselves are never filtered by it.
NUMBER_OF_LIVE_COMPANY = Q(company__isnull=True) | Q(company__deleted_at__isnull=True)


def is_e164(value: str | None) -> bool:
    return bool(value) and bool(E164.match(value))


def routing_forms(number: str | None, normalized: str | None) -> set[str]:
    """The E.164 values of `to_number` for which the gateway's lookup finds this row.

    The gateway compares `number_normalized` with the E.164 form and with it without its
    plus, and `number` with the E.164 form (semantics.md §3), by plain equality.
    """
    forms = set()
    if normalized:
        candidate = normalized if normalized.startswith("+") else f"+{normalized}"
        if is_e164(candidate):
            forms.add(candidate)
    if is_e164(number):
        forms.add(number)
    return forms


def number_problem(number: str | None, normalized: str | None) -> str | None:
    """Why the gateway cannot match this number by its E.164 form, or None when it can.

    Returns a short code: "empty", "not_e164", "unparsable", "differs".
    """
    if not (normalized or "").strip():
        return "empty"
    if not is_e164(normalized):
        return "not_e164"
    e164 = to_e164(number)
    if e164 is None:
        return "unparsable"
    if normalized != e164:
        return "differs"
    return None


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
