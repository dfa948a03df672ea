"""companies, branches and staff, with their gaps: deleted companies, companies without a
branch, branches without enough staff, staff whose branch is deleted or missing, and secrets
in the columns the gateway leaves in plain text (semantics.md §1, §4)."""

import json

from bench.scaled.plan import World
from bench.scaled.values import (
    CITIES,
    DAY,
    END,
    LAST_NAMES,
    TRADES,
    YEAR,
    distribute,
    new_uuid,
    person,
    pick,
    ts,
    unique_hex,
)

PLAIN_V2_KEY = 0.03  # companies with their Cal.com key in plain text in calcom_v2_api_key
PLAIN_WEBHOOK_SECRET = 0.01
PLAIN_GOOGLE_CREDENTIALS = 0.005
BRANCH_DELETED = 0.03
BRANCH_PLAIN_KEY = 0.002  # branches.calcom_api_key in plain text (never read by the gateway)
STAFF_DELETED = 0.03
STAFF_DANGLING = 0.01  # staff.branch_id naming no branch (it has no foreign key)
STAFF_PLAIN_TOKEN = 0.005  # a Google calendar token in plain text (the gateway's design)

COMPANY_COLUMNS = (
    "id", "name", "slug", "email", "phone", "city", "country", "timezone", "is_active",
    "active", "billing_status", "calcom_api_key", "calcom_v2_api_key", "calcom_team_id",
    "calcom_team_slug", "retell_api_key", "retell_agent_id", "retell_enabled",
    "webhook_signing_secret", "google_calendar_credentials", "created_at", "updated_at",
    "deleted_at",
)  # fmt: skip


def company_rows(world: World):
    rng = world.rng("companies")
    everyone = list(range(len(world.companies)))
    plain_v2 = pick(rng, everyone, PLAIN_V2_KEY)
    plain_webhook = pick(rng, everyone, PLAIN_WEBHOOK_SECRET)
    plain_google = pick(rng, everyone, PLAIN_GOOGLE_CREDENTIALS)
    secrets = world.secrets
    for i, plan in enumerate(world.companies):
        city, area = CITIES[i % len(CITIES)]
        name = f"{rng.choice(TRADES)} {rng.choice(LAST_NAMES)} {city}"
        created = END - YEAR - rng.randrange(2 * YEAR)
        v2_key = webhook = google = None
        if i in plain_v2:
            v2_key = plan.calcom_key or f"cal_test_{unique_hex(plan.id, world.seed + 3)}"
            world.gaps["companies.calcom_v2_api_key: key in plain text"] += 1
        if i in plain_webhook:
            webhook = f"whsec_{unique_hex(plan.id, world.seed + 4)}"
            world.gaps["companies.webhook_signing_secret: secret in plain text"] += 1
        if i in plain_google:
            google = json.dumps({"refresh_token": f"1//test-{unique_hex(plan.id, 5)}"})
            world.gaps["companies.google_calendar_credentials: token in plain text"] += 1
        calcom = (
            secrets.serialized(plan.calcom_key, plan.calcom_state) if plan.calcom_state else None
        )
        retell = (
            secrets.serialized(plan.retell_key, plan.retell_state) if plan.retell_state else None
        )
        deleted = ts(created + rng.randrange(YEAR)) if plan.deleted else None
        live = int(not plan.deleted)
        yield (
            plan.id, name, f"firma-{plan.id}", f"info@firma-{plan.id}.example",
            f"+49{area}1000{plan.id:04d}", city, "DE", "Europe/Berlin", live, live,
            "active" if rng.random() < 0.8 else "trial", calcom, v2_key, plan.team_id,
            f"team-{plan.id}" if plan.team_id else None, retell, plan.agent, int(bool(plan.agent)),
            webhook, google, ts(created), ts(created + DAY), deleted,
        )  # fmt: skip


def plan_branches(world: World) -> None:
    """Which company each branch belongs to, and which are deleted."""
    rng = world.rng("branches.plan")
    wanting = [c.id - 1 for c in world.companies if c.wants_branches]
    weights = [c.weight for c in world.companies]
    owners = distribute(rng, wanting, world.sizes["branches"], weights)
    deleted = pick(rng, list(range(len(owners))), BRANCH_DELETED) if owners else set()
    for index, owner in enumerate(owners):
        world.branches.append((new_uuid(rng), owner, index in deleted))
        company = world.companies[owner]
        company.branches.append(index)
        if index not in deleted:
            company.live_branches.append(index)
    for company in world.companies:
        if not company.live_branches and not company.deleted:
            world.gaps["companies without a live branch"] += 1


BRANCH_COLUMNS = (
    "id", "company_id", "name", "slug", "city", "phone_number", "active", "is_active",
    "calcom_api_key", "retell_agent_id", "uuid", "country", "created_at", "updated_at",
    "deleted_at",
)  # fmt: skip


def branch_rows(world: World):
    rng = world.rng("branches")
    plain_key = pick(rng, list(range(len(world.branches))), BRANCH_PLAIN_KEY)
    agents = sorted(world.agents)
    for index, (branch_id, owner, deleted) in enumerate(world.branches):
        company = world.companies[owner]
        city, area = CITIES[owner % len(CITIES)]
        number = company.branches.index(index) + 1
        key = None
        if index in plain_key:
            key = company.calcom_key or f"cal_test_{unique_hex(index, world.seed + 6)}"
            world.gaps["branches.calcom_api_key: key in plain text"] += 1
        agent = company.agent if company.agent and rng.random() < 0.2 else None
        if agent and rng.random() < 0.01 and len(agents) > 1:
            agent = rng.choice([a for a in agents[:50] if a != company.agent])
            world.gaps["branches.retell_agent_id: agent of another company"] += 1
        created = END - YEAR - rng.randrange(YEAR)
        yield (
            branch_id, company.id, "Hauptfiliale" if number == 1 else f"Filiale {number}",
            f"firma-{company.id}-filiale-{number}", city, f"+49{area}1000{company.id:04d}",
            int(not deleted), int(not deleted), key, agent, branch_id, "Deutschland",
            ts(created), ts(created + DAY), ts(created + 30 * DAY) if deleted else None,
        )  # fmt: skip


STAFF_COLUMNS = (
    "id", "company_id", "branch_id", "home_branch_id", "name", "email", "active", "is_active",
    "is_bookable", "google_calendar_token", "created_at", "updated_at", "deleted_at",
)  # fmt: skip


def staff_rows(world: World):
    """Staff over the branches by company weight; a few point at a branch that is gone."""
    rng = world.rng("staff")
    branches = list(range(len(world.branches)))
    weights = [world.companies[owner].weight for _id, owner, _d in world.branches]
    homes = distribute(rng, branches, world.sizes["staff"], weights)
    indexes = list(range(len(homes)))
    deleted = pick(rng, indexes, STAFF_DELETED) if homes else set()
    dangling = pick(rng, indexes, STAFF_DANGLING) if homes else set()
    token = pick(rng, indexes, STAFF_PLAIN_TOKEN) if homes else set()
    for index, branch in enumerate(homes):
        branch_id, owner, branch_deleted = world.branches[branch]
        company = world.companies[owner]
        staff_id = new_uuid(rng)
        home = branch_id
        if index in dangling:
            branch_id, home = new_uuid(rng), None
            world.gaps["staff.branch_id: names no branch"] += 1
        elif branch_deleted:
            world.gaps["staff.branch_id: branch deleted"] += 1
        if index not in deleted and index not in dangling and not branch_deleted:
            company.staff.append(staff_id)
        created = END - YEAR - rng.randrange(YEAR)
        google = f"ya29.test-{unique_hex(index, 7)}" if index in token else None
        yield (
            staff_id, company.id, branch_id, home, person(rng),
            f"mitarbeiter-{index + 1}@firma-{company.id}.example", 1, 1, 1, google,
            ts(created), ts(created + DAY), ts(created + 60 * DAY) if index in deleted else None,
        )  # fmt: skip
    if token:
        world.gaps["staff.google_calendar_token: token in plain text"] += len(token)
