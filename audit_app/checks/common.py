"""What several checks (and the measures) share: how the gateway matches a number, which
integration counts as active, the rows the checks report.

Everything here works on rows already loaded with values(), but number_rows(): the one read of
the phone numbers that the number checks and the measures share within an audit run.
"""

import re
from functools import lru_cache

import phonenumbers
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


# Most stored numbers are already "+49..." of the gateway's own countries: for them parsing only
# splits off the country code (the national number of these countries never starts with their
# national prefix 0, so phonenumbers strips nothing), and the number is its own E.164 form when
# valid. Built directly, it costs the validity check alone (~8 µs instead of ~25 µs);
# tests/test_audit_checks.py holds both paths equal.
_FAST_COUNTRY_CODES = frozenset({"49", "43", "41", "33", "31", "32"})  # GATEWAY_REGIONS
_FAST_SHAPE = re.compile(r"\A\+(?:49|43|41|33|31|32)[1-9]\d{3,12}\Z")


@lru_cache(maxsize=PARSED_CACHE)
def to_e164(raw: str | None) -> str | None:
    if raw and _FAST_SHAPE.match(raw):
        number = phonenumbers.PhoneNumber(country_code=int(raw[1:3]), national_number=int(raw[3:]))
        if phonenumbers.is_valid_number(number):
            return raw
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


# The health an integration's connection test leaves when the key, the configuration or the
# provider failed (integrations_app/connection_tests.py): its last test failed.
FAILED_TEST = "unhealthy"


def active_integrations(queryset):
    """The integrations of ``queryset`` that are active (``IntegrationQuerySet.active``)."""
    return queryset.active()


# Numbers of live companies and numbers without a company; the gateway ignores the numbers'
# own deleted_at, so the numbers themselves are never filtered by it.
NUMBER_OF_LIVE_COMPANY = Q(company__isnull=True) | Q(company__deleted_at__isnull=True)


def number_rows() -> list[dict]:
    """The numbers of live companies and those without a company (NUMBER_OF_LIVE_COMPANY), by
    number and id, each with its company's name and its branch's name, company and deletion:
    read once per audit run (seven checks and the measures went over the 40,000 numbers one by
    one). Keys as values() names them: company__name, branch__name, branch__company_id,
    branch__company__name, branch__deleted_at (None where the row names none, or none that
    exists)."""
    return shared("number-rows", _read_number_rows)


def _read_number_rows() -> list[dict]:
    # Three narrow reads joined here: the numbers, and the companies and branches they name.
    # The same as one query LEFT JOINing companies, branches and the branch's company, which
    # took 0.9-1.2 s at the gateway's size (40,000 numbers, a primary-key lookup into the wide
    # companies and branches rows for each); these take ~0.45 s together.
    from integrations_app.models import Branch, Company, PhoneNumber

    companies = {
        pk: (name, deleted_at)
        for pk, name, deleted_at in Company.all_objects.order_by().values_list(
            "id", "name", "deleted_at"
        )
    }
    branches = {
        pk: (name, company_id, deleted_at)
        for pk, name, company_id, deleted_at in Branch.all_objects.order_by().values_list(
            "id", "name", "company_id", "deleted_at"
        )
    }
    rows = []
    for row in PhoneNumber.objects.order_by("number", "id").values(
        "id",
        "number",
        "number_normalized",
        "phone_number",
        "company_id",
        "is_active",
        "deleted_at",
        "branch_id",
    ):
        name, deleted_at = companies.get(row["company_id"], (None, None))
        if deleted_at is not None:
            continue  # a deleted company's numbers are not the gateway's concern
        branch_name, branch_company, branch_deleted = branches.get(row["branch_id"], (None,) * 3)
        row["company__name"] = name
        row["branch__name"] = branch_name
        row["branch__company_id"] = branch_company
        row["branch__company__name"] = companies.get(branch_company, (None, None))[0]
        row["branch__deleted_at"] = branch_deleted
        rows.append(row)
    return rows


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
