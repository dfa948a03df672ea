"""customers, appointments, calls and customer_interactions from the plan (activity_plan).

An appointment's company is always its customer's (the gateway's trigger), its branch, staff
and service are its company's; a call and the appointment booked in it point at each other.
The gaps: soft-deleted rows, callers without any interaction recorded.
"""

from bench.scaled.activity_plan import Activity, booked_for
from bench.scaled.plan import World
from bench.scaled.values import (
    DAY,
    END,
    YEAR,
    company_number,
    mobile_number,
    person,
    ts,
    unique_hex,
)

DELETED_CUSTOMERS = 0.02
DELETED_CALLS = 0.01
DELETED_APPOINTMENTS = 0.02
FIRST_CONTACT_RECORDED = 0.65  # callers whose first call has an interaction
BOOKING_RECORDED = 0.33  # phone bookings with an interaction

CUSTOMER_COLUMNS = (
    "id", "company_id", "name", "email", "phone", "status", "customer_type", "journey_status",
    "source", "preferred_language", "call_count", "appointment_count", "last_call_at",
    "preferred_branch_id", "created_at", "updated_at", "deleted_at",
)  # fmt: skip


def customer_rows(world: World, activity: Activity):
    rng = world.rng("customers")
    for index, owner in enumerate(activity.customer_company):
        company = world.companies[owner]
        calls = activity.customer_calls[index]
        first = activity.customer_first_call[index]
        since = activity.call_start[first - 1] if first else 0
        created = (since or END - YEAR) - rng.randrange(1, 90) * DAY
        branch = None
        if company.live_branches and rng.random() < 0.3:
            branch = world.branches[rng.choice(company.live_branches)][0]
        deleted = rng.random() < DELETED_CUSTOMERS
        world.gaps["customers: soft-deleted"] += deleted
        yield (
            index + 1, company.id, person(rng),
            f"kunde-{index + 1}@example.test" if rng.random() < 0.7 else None,
            mobile_number(index), "active", "private",
            "appointment_scheduled" if activity.customer_appointments[index] else "initial_contact",
            "retell_auto" if calls else "calcom", "de", calls,
            activity.customer_appointments[index],
            ts(activity.customer_last_start[index]) if calls else None, branch, ts(created),
            ts(created + DAY), ts(created + 5 * DAY) if deleted else None,
        )  # fmt: skip


APPOINTMENT_COLUMNS = (
    "id", "company_id", "branch_id", "customer_id", "call_id", "staff_id", "service_id",
    "starts_at", "ends_at", "status", "source", "created_at", "updated_at", "last_modified_at",
    "calcom_v2_booking_uid", "calcom_sync_status", "sync_origin", "deleted_at",
)  # fmt: skip
APPOINTMENT_STATUSES = ("scheduled", "confirmed", "completed", "completed", "cancelled", "no_show")


def appointment_rows(world: World, activity: Activity):
    rng = world.rng("appointments")
    for index, customer in enumerate(activity.appointment_customer):
        company = world.companies[activity.customer_company[customer]]
        call = activity.appointment_call[index]
        booked = activity.call_start[call - 1] if call else END - YEAR + rng.randrange(YEAR)
        starts = booked_for(booked, rng)
        branch = (
            world.branches[rng.choice(company.live_branches)][0] if company.live_branches else None
        )
        deleted = rng.random() < DELETED_APPOINTMENTS
        world.gaps["appointments: soft-deleted"] += deleted
        yield (
            index + 1, company.id, branch, customer + 1, call or None,
            rng.choice(company.staff) if company.staff else None,
            rng.choice(company.services) if company.services else None,
            ts(starts), ts(starts + 1800), rng.choice(APPOINTMENT_STATUSES),
            "phone" if call else "online", ts(booked), ts(booked + 60), ts(booked + 60),
            f"bk_{unique_hex(index, world.seed, 20)}", "synced", "retell" if call else "calcom",
            ts(booked + 2 * DAY) if deleted else None,
        )  # fmt: skip


CALL_COLUMNS = (
    "id", "retell_call_id", "company_id", "branch_id", "customer_id", "appointment_id",
    "from_number", "to_number", "direction", "status", "call_status", "start_timestamp",
    "end_timestamp", "duration_sec", "duration_ms", "agent_id", "retell_agent_id",
    "customer_link_status", "appointment_made", "appointment_link_status", "successful",
    "disconnection_reason", "cost_cents", "created_at", "updated_at", "deleted_at",
)  # fmt: skip
ENDINGS = ("user_hangup", "user_hangup", "agent_hangup", "call_transfer", "dial_no_answer")


def call_rows(world: World, activity: Activity):
    rng = world.rng("calls")
    random, randrange, choice = rng.random, rng.randrange, rng.choice
    companies, branches = world.companies, world.branches
    deleted_calls = 0
    for index, start in enumerate(activity.call_start):
        company = companies[activity.call_company[index]]
        customer = activity.call_customer[index]
        appointment = activity.call_appointment[index]
        duration = 20 + randrange(400)
        to_number = (
            choice(company.lines) if company.lines else company_number(40_000_000 + index % 997)[0]
        )
        branch = None
        if company.live_branches and random() < 0.9:
            branch = branches[choice(company.live_branches)][0]
        if customer:
            caller = mobile_number(customer - 1)
        else:
            caller = mobile_number(10_000_000 + index) if random() < 0.5 else "anonymous"
        deleted = random() < DELETED_CALLS
        deleted_calls += deleted
        yield (
            index + 1, f"call_{unique_hex(index, world.seed)}", company.id, branch,
            customer or None, appointment or None, caller, to_number, "inbound", "completed",
            "ended", ts(start), ts(start + duration), duration, duration * 1000, company.agent,
            company.agent, "linked" if customer else "anonymous", int(bool(appointment)),
            "linked" if appointment else "not_applicable", 1, choice(ENDINGS), duration // 6,
            ts(start), ts(start + duration), ts(start + DAY) if deleted else None,
        )  # fmt: skip
    world.gaps["calls: soft-deleted"] += deleted_calls


INTERACTION_COLUMNS = (
    "customer_id", "company_id", "interaction_type", "channel", "interaction_at",
    "duration_seconds", "call_id", "from_phone", "call_outcome", "appointment_id",
    "created_at", "updated_at",
)  # fmt: skip


def interaction_rows(world: World, activity: Activity):
    """A first-contact phone_call for most callers, an appointment_booking for a third of the
    phone bookings; the callers left without either are what AUD-CUS-001 finds."""
    rng = world.rng("customer_interactions")
    first_contacts = [
        index
        for index, first in enumerate(activity.customer_first_call)
        if first and rng.random() < FIRST_CONTACT_RECORDED
    ]
    bookings = [
        index
        for index, call in enumerate(activity.appointment_call)
        if call and rng.random() < BOOKING_RECORDED
    ]
    recorded = set(first_contacts) | {activity.appointment_customer[i] for i in bookings}
    callers = sum(1 for first in activity.customer_first_call if first)
    world.gaps["customers with calls but no interaction"] += callers - len(recorded)
    for index in first_contacts:
        first = activity.customer_first_call[index]
        at = ts(activity.call_start[first - 1])
        yield (
            index + 1, activity.customer_company[index] + 1, "phone_call", "phone", at, None,
            f"call_{unique_hex(first - 1, world.seed)}", mobile_number(index),
            "information_provided", None, at, at,
        )  # fmt: skip
    for index in bookings:
        call = activity.appointment_call[index]
        customer = activity.appointment_customer[index]
        at = ts(activity.call_start[call - 1])
        yield (
            customer + 1, activity.customer_company[customer] + 1, "appointment_booking",
            "phone", at, None, f"call_{unique_hex(call - 1, world.seed)}",
            mobile_number(customer), "appointment_booked", index + 1, at, at,
        )  # fmt: skip
