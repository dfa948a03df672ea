"""Who calls and books: customers per company, each call's customer, company and time, each
appointment's call or customer. Kept in flat arrays (a million calls in ~20 MB), decided
before any of these rows is written, so customers can carry their call counts and calls and
appointments can point at each other.
"""

from array import array
from dataclasses import dataclass, field

from bench.scaled.plan import World
from bench.scaled.values import DAY, END, YEAR, distribute, pick

CALLERS = 0.85  # customers who ever called
LINKED = 0.75  # calls linked to a customer (the rest: anonymous or unknown callers)
BOOKED_BY_PHONE = 0.60  # appointments made in a call (the rest: online, no call)


@dataclass
class Activity:
    customer_company: array = field(default_factory=lambda: array("I"))  # customer -> company index
    callers: list[int] = field(default_factory=list)  # customer indexes
    call_customer: array = field(default_factory=lambda: array("I"))  # 0: none, else index + 1
    call_company: array = field(default_factory=lambda: array("I"))
    call_start: array = field(default_factory=lambda: array("q"))
    call_appointment: array = field(default_factory=lambda: array("I"))  # 0: none, else id
    appointment_call: array = field(default_factory=lambda: array("I"))  # 0: none, else call id
    appointment_customer: array = field(default_factory=lambda: array("I"))
    customer_calls: array = field(default_factory=lambda: array("I"))
    customer_first_call: array = field(default_factory=lambda: array("I"))  # call id, 0: none
    customer_last_start: array = field(default_factory=lambda: array("q"))
    customer_appointments: array = field(default_factory=lambda: array("I"))


def plan_activity(world: World) -> Activity:
    activity = Activity()
    _plan_customers(world, activity)
    _plan_calls(world, activity)
    _plan_appointments(world, activity)
    return activity


def _plan_customers(world: World, activity: Activity) -> None:
    rng = world.rng("customers.plan")
    count = world.sizes["customers"]
    everyone = [c.id - 1 for c in world.companies]
    owners = distribute(rng, everyone, count, [c.weight for c in world.companies])
    activity.customer_company = array("I", owners)
    activity.callers = sorted(pick(rng, list(range(count)), CALLERS)) if count else []
    activity.customer_calls = array("I", bytes(4 * count))
    activity.customer_first_call = array("I", bytes(4 * count))
    activity.customer_last_start = array("q", bytes(8 * count))
    activity.customer_appointments = array("I", bytes(4 * count))


def _plan_calls(world: World, activity: Activity) -> None:
    """Calls in time order (ids grow with time, as auto-increment does)."""
    rng = world.rng("calls.plan")
    count = world.sizes["calls"]
    starts = sorted(END - rng.randrange(YEAR) for _ in range(count))
    activity.call_start = array("q", starts)
    weights, total = [], 0.0
    for company in world.companies:
        total += company.weight
        weights.append(total)
    companies = list(range(len(world.companies)))
    callers = activity.callers
    for call_id in range(1, count + 1):
        if callers and rng.random() < LINKED:
            customer = callers[rng.randrange(len(callers))]
            activity.call_customer.append(customer + 1)
            activity.call_company.append(activity.customer_company[customer])
            activity.customer_calls[customer] += 1
            if not activity.customer_first_call[customer]:
                activity.customer_first_call[customer] = call_id
            activity.customer_last_start[customer] = starts[call_id - 1]
        else:
            activity.call_customer.append(0)
            activity.call_company.append(rng.choices(companies, cum_weights=weights)[0])
    activity.call_appointment = array("I", bytes(4 * count))


def _plan_appointments(world: World, activity: Activity) -> None:
    rng = world.rng("appointments.plan")
    count = world.sizes["appointments"]
    linked = [i for i, customer in enumerate(activity.call_customer) if customer]
    by_phone = min(len(linked), round(count * BOOKED_BY_PHONE))
    calls = sorted(rng.sample(linked, by_phone))
    customers = len(activity.customer_company)
    for appointment_id in range(1, count + 1):
        if appointment_id <= by_phone:
            call = calls[appointment_id - 1]
            customer = activity.call_customer[call] - 1
            activity.call_appointment[call] = appointment_id
            activity.appointment_call.append(call + 1)
        else:
            customer = rng.randrange(customers)
            activity.appointment_call.append(0)
        activity.appointment_customer.append(customer)
        activity.customer_appointments[customer] += 1


def booked_for(start: int, rng) -> int:
    """When an appointment booked at ``start`` takes place: within the next five weeks."""
    return start + DAY * rng.randint(1, 35) + 3600 * rng.randint(-4, 4)
