"""Rows of every gateway table for the admin tests, made with bulk_create (500 in a second).

Row ``i`` of each table points at its own company, branch, customer and so on, so a changelist
that loaded a related row per line would show it in its query count.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from integrations_app.models import (
    GATEWAY_MODELS,
    Appointment,
    Branch,
    Call,
    Company,
    Customer,
    CustomerInteraction,
    Integration,
    NotificationTemplate,
    PhoneNumber,
    RetellAgent,
    Service,
    Staff,
)
from integrations_app.models.fields import new_uuid

CANARY = "cal_test_canary_123456"


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def admin_url(obj, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def _by_order(model, created, key: str):
    """The created rows with their keys (MySQL may not return auto-increment keys)."""
    values = [getattr(obj, key) for obj in created]
    rows = {getattr(row, key): row for row in model._base_manager.filter(**{f"{key}__in": values})}
    return [rows[v] for v in values]


def build(start: int, stop: int) -> dict:
    """Rows ``start`` .. ``stop - 1`` of every gateway table; returns them by model."""
    now = timezone.now().replace(microsecond=0)
    span = range(start, stop)
    companies = Company.objects.bulk_create(
        Company(name=f"Firma {i:04d}", slug=f"firma-{i}", city="Berlin", email=f"f{i}@example.test")
        for i in span
    )
    companies = _by_order(Company, companies, "slug")
    branches = Branch.objects.bulk_create(
        Branch(company=c, name=f"Filiale {i:04d}", slug=f"filiale-{i}", city="Berlin")
        for i, c in zip(span, companies, strict=True)
    )
    staff = Staff.objects.bulk_create(
        Staff(company=c, branch=b, name=f"Mitarbeiter {i:04d}", email=f"staff{i}@example.test")
        for i, c, b in zip(span, companies, branches, strict=True)
    )
    services = Service.objects.bulk_create(
        Service(company=c, branch=b, name=f"Leistung {i:04d}")
        for i, c, b in zip(span, companies, branches, strict=True)
    )
    services = _by_order(Service, services, "name")
    numbers = [f"+4930{1000000 + i}" for i in span]
    PhoneNumber.objects.bulk_create(
        PhoneNumber(company=c, branch=b, number=n, number_normalized=n, phone_number=n)
        for n, c, b in zip(numbers, companies, branches, strict=True)
    )
    Integration.objects.bulk_create(
        Integration(company=c, name=f"Cal.com {i:04d}", type="calendar", provider="calcom")
        for i, c in zip(span, companies, strict=True)
    )
    NotificationTemplate.objects.bulk_create(
        NotificationTemplate(
            company=c,
            key="appointment_confirmation",
            channel="email",
            name=f"Bestätigung {i}",
            type="appointment",
            translations={},
            subject={"de": "Termin bestätigt"},
        )
        for i, c in zip(span, companies, strict=True)
    )
    customers = Customer.objects.bulk_create(
        Customer(company=c, name=f"Kunde {i:04d}", email=f"kunde{i}@example.test")
        for i, c in zip(span, companies, strict=True)
    )
    customers = _by_order(Customer, customers, "email")
    calls = Call.objects.bulk_create(
        Call(
            company=c,
            branch=b,
            customer=cu,
            retell_call_id=f"call_{i}",
            from_number="+491701234567",
            to_number=n,
            start_timestamp=now - timedelta(minutes=i),
        )
        for i, c, b, cu, n in zip(span, companies, branches, customers, numbers, strict=True)
    )
    calls = _by_order(Call, calls, "retell_call_id")
    Appointment.objects.bulk_create(
        Appointment(
            company=c,
            branch=b,
            customer=cu,
            staff=s,
            service=sv,
            call=ca,
            starts_at=now + timedelta(hours=i),
            ends_at=now + timedelta(hours=i, minutes=30),
        )
        for i, c, b, cu, s, sv, ca in zip(
            span, companies, branches, customers, staff, services, calls, strict=True
        )
    )
    CustomerInteraction.objects.bulk_create(
        CustomerInteraction(
            customer=cu,
            company=c,
            interaction_type="phone_call",
            interaction_at=now - timedelta(minutes=i),
        )
        for i, c, cu in zip(span, companies, customers, strict=True)
    )
    RetellAgent.objects.bulk_create(
        RetellAgent(company=c, agent_id=f"agent_test_{i:04d}", name=f"Agent {i:04d}")
        for i, c in zip(span, companies, strict=True)
    )
    return {"companies": companies, "branches": branches, "customers": customers}


def staff_without_branch(company, name: str = "Aaron Ohnefiliale") -> Staff:
    """A staff row whose NOT NULL branch_id names no branch (no foreign key in the gateway)."""
    return Staff.objects.create(
        company=company, branch_id=new_uuid(), name=name, email=f"{new_uuid()}@example.test"
    )


def one_of_each() -> dict:
    """One row per gateway table, keyed by model."""
    build(0, 1)
    return {model: model._base_manager.order_by("pk").first() for model in GATEWAY_MODELS}
