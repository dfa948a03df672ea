"""What several checks (and the measures) share: how the gateway matches a number, which
integration counts as active, the rows the checks report.

Everything here works on rows already loaded with values(); the one read of the phone numbers
that the number checks and the measures share is audit_app/checks/number_pass.py.
"""

import re
from collections import namedtuple
from functools import lru_cache

from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit_app.registry import Affected
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
    if raw and _FAST_SHAPE.match(raw) and phone.is_valid_national(raw[1:3], raw[3:]):
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


def column_named(table: str, column: str, row_table: str = "") -> str:
    """A gateway column as a row's detail names it for people: its label ("Cal.com API key
    (encrypted)"), with its table's name when the row is of another table ("API key
    (Integration)"); never ``companies.calcom_api_key``."""
    from integrations_app.admin.history import column_label
    from integrations_app.models import GATEWAY_MODELS

    model = next((m for m in GATEWAY_MODELS if m._meta.db_table == table), None)
    if model is None:
        return column.replace("_", " ")
    label = column_label(model, column)
    if row_table and row_table != table:
        return f"{label} ({capfirst(str(model._meta.verbose_name))})"
    return label


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


def number_facts(number: str | None, normalized: str | None) -> tuple:
    """(e164, problem, forms): to_e164(number), number_problem(number, normalized) and
    routing_forms(number, normalized) (as a tuple), with one parse and without filling their
    caches: number_pass() computes them once per number and audit run."""
    e164 = to_e164.__wrapped__(number)
    if not (normalized or "").strip():
        problem = "empty"
    elif not is_e164(normalized):
        problem = "not_e164"
    elif e164 is None:
        problem = "unparsable"
    elif normalized != e164:
        problem = "differs"
    else:
        problem = None
    return e164, problem, tuple(phone.routing_forms(number, normalized))


NUMBER_COLUMNS = (
    "id", "number", "number_normalized", "phone_number", "company_id", "is_active",
    "deleted_at", "branch_id",
)  # fmt: skip


class NumberRow(
    namedtuple(
        "NumberRow",
        (
            *NUMBER_COLUMNS,
            "company__name",
            "branch__name",
            "branch__company_id",
            "branch__company__name",
            "branch__deleted_at",
            "e164",
            "problem",
            "forms",
        ),
    )
):
    """A number as number_pass() reads it: read like values()' dict (row["number"]), with
    its number_facts() (row.e164, row.problem, row.forms)."""

    __slots__ = ()

    def __getitem__(self, key):
        return getattr(self, key) if isinstance(key, str) else tuple.__getitem__(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)


def number_row(row: dict, detail: str) -> Affected:
    company = row.get("company__name") or "—"
    return Affected(
        table="phone_numbers",
        pk=row["id"],
        label=f"{row['number']} ({company})",
        detail=detail,
        admin=NUMBER_ADMIN,
    )


def branch_row(row: dict, detail: str) -> Affected:
    return Affected(
        table="branches",
        pk=row["id"],
        label=f"{row['name']} ({row['company__name']})",
        detail=detail,
        admin=BRANCH_ADMIN,
    )


def integration_row(row: dict, detail: str) -> Affected:
    """An integration's finding, titled "Cal.com · <company>" (integration_title)."""
    from integrations_app.models.integrations import integration_title

    company = row.get("company__name") or _("no company")
    return Affected(
        table="integrations",
        pk=row["id"],
        label=integration_title(row["provider"], row["name"], company),
        detail=detail,
        admin=INTEGRATION_ADMIN,
    )


def company_row(row: dict, detail: str) -> Affected:
    return Affected(
        table="companies", pk=row["id"], label=row["name"], detail=detail, admin=COMPANY_ADMIN
    )
