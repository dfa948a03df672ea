"""What several checks (and the measures) share: how the gateway matches a number, which
integration counts as active, the rows the checks report.

Everything here works on rows already loaded with values(), but number_rows(): the one read of
the phone numbers that the number checks and the measures share within an audit run.
"""

from functools import lru_cache

from django.db.models import Q

from audit_app.registry import Affected, shared
from integrations_app import phone
from integrations_app.phone import (  # noqa: F401 (the checks import them from here)
    E164,
    is_e164,
)

# Parsing a number (phonenumbers, up to six regions) costs ~20-50 µs; the audit reads every
# number in several checks and the measures (40,000 numbers at the gateway's size). The rules
# are pure functions of the strings, so each distinct value is parsed once per process.
PARSED_CACHE = 100_000


@lru_cache(maxsize=PARSED_CACHE)
def to_e164(raw: str | None) -> str | None:
    return phone.to_e164(raw)


@lru_cache(maxsize=PARSED_CACHE)
def number_problem(number: str | None, normalized: str | None) -> str | None:
    """integrations_app.phone.number_problem over the cached to_e164 (so a number parsed here is
    not parsed again by the other checks); tests/test_audit_checks.py pins that both agree."""
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


@lru_cache(maxsize=PARSED_CACHE)
def _routing_forms(number: str | None, normalized: str | None) -> frozenset[str]:
    return frozenset(phone.routing_forms(number, normalized))


def routing_forms(number: str | None, normalized: str | None) -> set[str]:
    """integrations_app.phone.routing_forms, cached (a new set each call: callers add to it)."""
    return set(_routing_forms(number, normalized))


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


# What the number checks and the measures read of a number (one LEFT JOIN per relation: a
# number may name no branch, or a branch that is gone).
NUMBER_COLUMNS = (
    "id",
    "number",
    "number_normalized",
    "phone_number",
    "company_id",
    "company__name",
    "is_active",
    "deleted_at",
    "branch_id",
    "branch__name",
    "branch__company_id",
    "branch__company__name",
    "branch__deleted_at",
)


def number_rows() -> list[dict]:
    """The numbers of live companies and those without a company, by number and id: read once
    per audit run (seven checks and the measures went over the 40,000 numbers one by one)."""
    return shared("number-rows", _read_number_rows)


def _read_number_rows() -> list[dict]:
    from integrations_app.models import PhoneNumber

    return list(
        PhoneNumber.objects.filter(NUMBER_OF_LIVE_COMPANY)
        .order_by("number", "id")
        .values(*NUMBER_COLUMNS)
    )


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
