"""Hand-made gateway rows for the audit's tests (checks, measures, command)."""

import itertools

from django.utils import timezone

from audit_app.registry import get_check
from integrations_app.models import (
    Branch,
    Call,
    Company,
    Customer,
    Integration,
    NotificationTemplate,
    PhoneNumber,
    Staff,
)

_serial = itertools.count(1)

# Numbers from the Bundesnetzagentur's fiction block for Berlin: valid, never connected.
BERLIN = "+493023125"


def line(n: int) -> str:
    return f"{BERLIN}{500 + n:03d}"


def company(name: str | None = None, **fields) -> Company:
    n = next(_serial)
    name = name or f"Firma {n}"
    return Company.objects.create(name=name, slug=f"firma-{n}", **fields)


def branch(of: Company, name: str = "Mitte", **fields) -> Branch:
    return Branch.objects.create(company=of, name=name, slug=f"b-{next(_serial)}", **fields)


def staff(of: Company, at: Branch | None = None, branch_id: str | None = None, **fields) -> Staff:
    n = next(_serial)
    return Staff.objects.create(
        company=of,
        branch_id=branch_id or at.pk,
        name=fields.pop("name", f"Person {n}"),
        email=f"p{n}@example.org",
        **fields,
    )


def number(of: Company | None, raw: str, at: Branch | None = None, normalized="same", **fields):
    normalized = raw if normalized == "same" else normalized
    return PhoneNumber.objects.create(
        company=of,
        branch=at,
        number=raw,
        number_normalized=normalized,
        phone_number=normalized,
        **fields,
    )


def integration(of: Company | None, provider: str = "calcom", **fields) -> Integration:
    defaults = {"name": "Cal.com", "type": "calendar"}
    if provider == "retell":
        defaults = {"name": "Retell AI", "type": "telephony"}
    return Integration.objects.create(company=of, provider=provider, **{**defaults, **fields})


def template(of: Company, key: str, channel: str, **fields) -> NotificationTemplate:
    return NotificationTemplate.objects.create(
        company=of, key=key, channel=channel, name=key, type=channel, translations={}, **fields
    )


def customer(of: Company, **fields) -> Customer:
    n = next(_serial)
    return Customer.objects.create(company=of, name=f"Kunde {n}", **fields)


def call(of: Company, who: Customer | None = None, **fields) -> Call:
    return Call.objects.create(
        company=of,
        customer=who,
        retell_call_id=f"call_test_{next(_serial)}",
        start_timestamp=fields.pop("start_timestamp", timezone.now().replace(microsecond=0)),
        **fields,
    )


def outcome(check_id: str):
    check = get_check(check_id)
    assert check is not None, check_id
    return check.run()


def found(check_id: str) -> set:
    """The primary keys a check reports now."""
    return {row.pk for row in outcome(check_id).rows}


def rows(check_id: str) -> dict:
    return {row.pk: row for row in outcome(check_id).rows}


def deleted() -> dict:
    return {"deleted_at": timezone.now().replace(microsecond=0)}
