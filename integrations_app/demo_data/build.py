"""Builds the demo rows as unsaved model instances, from the catalogue and a seeded random.

No database access: the same seed gives the same rows; only the UUID keys, which come from the
models' own defaults (lowercase v4), differ from run to run. Integer keys are set here, so rows
can refer to each other before anything is written and the write needs no RETURNING support.

The gaps are the review's, small but real, so the readiness audit has something to find:
6 of 13 companies without a branch, 4 of 13 with a phone number (of those, one entered without
its E.164 forms and one without a branch), 8 staff for 9 branches with 2 of them pointing at a
branch that does not exist, and no integrations, notification templates or customer interactions.
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from integrations_app.demo_data.catalogue import (
    CALL_TOPICS,
    COMPANIES,
    FICTION_BLOCKS,
    FIRST_NAMES,
    LAST_NAMES,
    PHONE_NUMBERS,
    STAFF,
    UNNORMALISED,
    UNNORMALISED_NUMBER,
    WITHOUT_BRANCH,
)
from integrations_app.models import (
    Appointment,
    Branch,
    Call,
    Company,
    Customer,
    PhoneNumber,
    Service,
    Staff,
)
from integrations_app.models.fields import new_uuid

SEED = 20250922
BERLIN = ZoneInfo("Europe/Berlin")
# The morning of the review. All data lies before it (appointments may be booked after it);
# nothing depends on the day the command runs.
REFERENCE_TIME = datetime(2025, 9, 22, 8, 0, tzinfo=BERLIN)
CALL_WINDOW_DAYS = 90
# The first company answers with a Retell agent that retell_agents does not know (AUD-AGT-001):
# since 2026-02-18 the gateway's call-start and call-end paths cannot find it by its agent.
UNREGISTERED_AGENT = (0, "agent_4b7e2d9c1a6f8e3052d7c9a1")


@dataclass
class DemoData:
    companies: list = field(default_factory=list)
    branches: list = field(default_factory=list)
    staff: list = field(default_factory=list)
    services: list = field(default_factory=list)
    phone_numbers: list = field(default_factory=list)
    customers: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    appointments: list = field(default_factory=list)

    def tables(self) -> list[tuple[type, list]]:
        """(model, rows) in an order that satisfies every foreign key."""
        return [
            (Company, self.companies),
            (Branch, self.branches),
            (Staff, self.staff),
            (Service, self.services),
            (PhoneNumber, self.phone_numbers),
            (Customer, self.customers),
            (Call, self.calls),
            (Appointment, self.appointments),
        ]


def _ascii(text: str) -> str:
    """A name as an e-mail local part: lower case, umlauts spelled out."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "." for c in text).strip(".")


def _weekday(day: date, step: int) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


def _at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BERLIN) + timedelta(seconds=seconds)


class _Builder:
    def __init__(self, seed: int, reference: datetime):
        self.rng = random.Random(seed)
        self.reference = reference
        self.used_numbers: set[str] = set()
        self.used_names: set[str] = set()
        self.data = DemoData()

    # --- helpers -------------------------------------------------------------------------
    def number(self, city: str) -> str:
        """An unused caller number from the city's fictional block (500-999)."""
        while True:
            candidate = f"{FICTION_BLOCKS[city]}{self.rng.randint(500, 999):03d}"
            if candidate not in self.used_numbers:
                self.used_numbers.add(candidate)
                return candidate

    def person(self) -> tuple[str, str]:
        while True:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            if f"{first} {last}" not in self.used_names:
                self.used_names.add(f"{first} {last}")
                return first, last

    def moment_in_window(self) -> datetime:
        """A whole second in business hours on a weekday of the 90 days before the reference."""
        days_back = self.rng.randint(1, CALL_WINDOW_DAYS)
        day = _weekday(self.reference.date() - timedelta(days=days_back), -1)
        return _at(day, self.rng.randint(8 * 3600, 19 * 3600 - 1))

    def slot_after(self, moment: datetime, max_days: int) -> datetime:
        day = _weekday(moment.date() + timedelta(days=self.rng.randint(1, max_days)), 1)
        return _at(day, 9 * 3600 + 1800 * self.rng.randint(0, 16))

    # --- tables --------------------------------------------------------------------------
    def build(self) -> DemoData:
        self.companies()
        self.staff()
        self.phone_numbers()
        self.customers()
        self.calls()
        self.appointments()
        self.customer_activity()
        return self.data

    def companies(self) -> None:
        service_id = 0
        for index, spec in enumerate(COMPANIES):
            created = datetime(2024, 9, 2, 9, 0, tzinfo=BERLIN) + timedelta(
                days=19 * index, hours=self.rng.randint(0, 7), minutes=self.rng.randint(0, 59)
            )
            first, last = self.person()
            company = Company(
                id=index + 1,
                name=spec.name,
                slug=spec.slug,
                email=f"kontakt@{spec.slug}.test",
                phone=f"{FICTION_BLOCKS[spec.city]}{spec.line}",
                contact_person=f"{first} {last}",
                address=spec.street,
                city=spec.city,
                postal_code=spec.postal_code,
                industry=spec.industry,
                billing_status="active" if spec.branches else "trial",
                retell_agent_id=(UNREGISTERED_AGENT[1] if index == UNREGISTERED_AGENT[0] else None),
                created_at=created,
                updated_at=created + timedelta(days=self.rng.randint(10, 60)),
            )
            self.data.companies.append(company)
            for number, (suffix, street, postal_code) in enumerate(spec.branches):
                stamp = created + timedelta(days=2 + number)
                self.data.branches.append(
                    Branch(
                        company=company,
                        name=f"{spec.name} {suffix}",
                        slug=f"{spec.slug}-{_ascii(suffix).replace('.', '-')}",
                        address=street,
                        postal_code=postal_code,
                        city=spec.city,
                        notification_email=f"{_ascii(suffix)}@{spec.slug}.test",
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            for number, (name, minutes, price) in enumerate(spec.services):
                service_id += 1
                stamp = created + timedelta(days=1, hours=number)
                self.data.services.append(
                    Service(
                        id=service_id,
                        company=company,
                        name=name,
                        duration_minutes=minutes,
                        price=Decimal(price),
                        # Companies without a branch have not been set up in Cal.com either.
                        calcom_event_type_id=str(4_210_000 + service_id) if spec.branches else None,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )

    def branches_of(self, company: Company) -> list[Branch]:
        return [b for b in self.data.branches if b.company_id == company.id]

    def staff(self) -> None:
        for company_index, branch_index, name in STAFF:
            company = self.data.companies[company_index]
            if branch_index is None:
                branch_id, home_branch, stamp = new_uuid(), None, company.created_at
            else:
                home_branch = self.branches_of(company)[branch_index]
                branch_id, stamp = home_branch.id, home_branch.created_at
            stamp += timedelta(days=self.rng.randint(3, 20))
            self.data.staff.append(
                Staff(
                    company=company,
                    branch_id=branch_id,
                    home_branch=home_branch,
                    name=name,
                    email=f"{_ascii(name)}@{company.slug}.test",
                    created_at=stamp,
                    updated_at=stamp,
                )
            )

    def phone_numbers(self) -> None:
        for company_index, state in PHONE_NUMBERS:
            company = self.data.companies[company_index]
            branches = self.branches_of(company)
            e164 = company.phone
            stamp = company.created_at + timedelta(days=3)
            self.data.phone_numbers.append(
                PhoneNumber(
                    company=company,
                    branch=branches[0] if branches and state != WITHOUT_BRANCH else None,
                    number=UNNORMALISED_NUMBER if state == UNNORMALISED else e164,
                    number_normalized=None if state == UNNORMALISED else e164,
                    phone_number=None if state == UNNORMALISED else e164,
                    type="direct",
                    label="Hauptnummer",
                    is_primary=True,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )

    def customers(self) -> None:
        for company, spec in zip(self.data.companies, COMPANIES, strict=True):
            for _n in range(spec.customers):
                first, last = self.person()
                self.data.customers.append(
                    Customer(
                        id=len(self.data.customers) + 1,
                        company=company,
                        name=f"{first} {last}",
                        email=f"{_ascii(first)}.{_ascii(last)}@example.org",
                        phone=self.number(spec.city),
                    )
                )

    def calls(self) -> None:
        lines = {p.company_id: p for p in self.data.phone_numbers}
        calls = []
        for company, spec in zip(self.data.companies, COMPANIES, strict=True):
            customers = [c for c in self.data.customers if c.company_id == company.id]
            line = lines.get(company.id)
            branches = self.branches_of(company)
            branch = line.branch if line else (branches[0] if branches else None)
            for _n in range(spec.calls):
                customer = (
                    self.rng.choice(customers) if customers and self.rng.random() < 0.7 else None
                )
                start = self.moment_in_window()
                duration = self.rng.randint(25, 540)
                end = start + timedelta(seconds=duration)
                topic = self.rng.choice(CALL_TOPICS)
                calls.append(
                    Call(
                        company=company,
                        branch=branch,
                        customer=customer,
                        # Retell hands over the dialled number in E.164 form.
                        to_number=company.phone,
                        from_number=customer.phone if customer else self.number(spec.city),
                        direction="inbound",
                        call_status="ended",
                        status="completed",
                        duration_sec=duration,
                        start_timestamp=start,
                        end_timestamp=end,
                        summary=topic.format(service=self.rng.choice(spec.services)[0]),
                        created_at=end,
                        updated_at=end,
                    )
                )
        # Keys grow with time, as the gateway's auto-increment would have made them.
        calls.sort(key=lambda c: (c.start_timestamp, c.company_id))
        for number, call in enumerate(calls, start=1):
            call.id = number
            call.retell_call_id = f"call_demo_{number:04d}"
        self.data.calls = calls

    def appointments(self) -> None:
        appointments = []
        for company, spec in zip(self.data.companies, COMPANIES, strict=True):
            customers = [c for c in self.data.customers if c.company_id == company.id]
            services = [s for s in self.data.services if s.company_id == company.id]
            branches = self.branches_of(company)
            open_calls = [
                c for c in self.data.calls if c.company_id == company.id and c.customer_id
            ]
            for _n in range(spec.appointments):
                call = None
                if open_calls and self.rng.random() < 0.6:
                    call = open_calls.pop(self.rng.randrange(len(open_calls)))
                    call.appointment_made = True
                customer = call.customer if call else self.rng.choice(customers)
                service = self.rng.choice(services)
                if call:
                    call.summary = f"Termin für {service.name} vereinbart."
                created = call.end_timestamp if call else self.moment_in_window()
                starts = self.slot_after(created, 14 if call else 21)
                ends = starts + timedelta(minutes=service.duration_minutes)
                if call and call.branch:
                    branch = call.branch  # booked at the branch of the line that was called
                else:
                    branch = self.rng.choice(branches) if branches else None
                staff = [s for s in self.data.staff if branch and s.branch_id == branch.id]
                if ends <= self.reference:
                    status = self.rng.choices(["completed", "cancelled", "no_show"], [8, 1, 1])[0]
                    updated = ends
                else:
                    status = self.rng.choices(["confirmed", "pending"], [4, 1])[0]
                    updated = created
                appointments.append(
                    Appointment(
                        # The gateway's trigger: always the customer's own company.
                        company=customer.company,
                        customer=customer,
                        branch=branch,
                        staff=self.rng.choice(staff) if staff else None,
                        service=service,
                        call=call,
                        starts_at=starts,
                        ends_at=ends,
                        status=status,
                        source="phone" if call else "calcom",
                        created_at=created,
                        updated_at=updated,
                    )
                )
        appointments.sort(key=lambda a: (a.created_at, a.company_id))
        for number, appointment in enumerate(appointments, start=1):
            appointment.id = number
        self.data.appointments = appointments

    def customer_activity(self) -> None:
        """Counters and timestamps of each customer, consistent with its calls and bookings."""
        for customer in self.data.customers:
            calls = [c for c in self.data.calls if c.customer_id == customer.id]
            bookings = [a for a in self.data.appointments if a.customer_id == customer.id]
            customer.call_count = len(calls)
            customer.appointment_count = len(bookings)
            customer.last_call_at = max((c.start_timestamp for c in calls), default=None)
            customer.journey_status = "appointment_scheduled" if bookings else "initial_contact"
            moments = [c.end_timestamp for c in calls] + [a.created_at for a in bookings]
            if calls and min(c.end_timestamp for c in calls) == min(moments):
                customer.source = "retell_auto"  # made by the gateway on the first call
            else:
                customer.source = "calcom" if bookings else "manual"
            customer.created_at = min(moments) if moments else self.moment_in_window()
            customer.updated_at = max(
                [customer.created_at, *moments, *(a.updated_at for a in bookings)]
            )
            if customer.source == "retell_auto" and customer.id % 2:
                customer.email = None  # the caller gave no address


def build_demo_data(seed: int = SEED, reference: datetime = REFERENCE_TIME) -> DemoData:
    """The demo rows as unsaved model instances; no database access."""
    return _Builder(seed, reference).build()
