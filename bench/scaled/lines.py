"""phone_numbers and retell_agents: how a call finds its company (semantics.md §3, §3a).

The gaps: numbers not in E.164 (spaces, 0049, (0), national), number_normalized missing,
without its plus or naming another line, the same line twice, numbers without a branch or
with another company's branch, inactive or deleted numbers, a number without a company;
Retell agents not registered, registered to another company, or to a deleted company.
"""

from bench.scaled.plan import World
from bench.scaled.values import (
    DAY,
    END,
    YEAR,
    company_number,
    distribute,
    new_uuid,
    partition,
    pick,
    ts,
)

# How a number is written (the rest: E.164 in number, number_normalized and phone_number).
FORMS = {
    "spaces": 0.04,  # +49 30 2000 0001, number_normalized filled
    "0049": 0.02,  # 0049 30 20000001, number_normalized empty
    "(0)": 0.02,  # +49 (0)30 20000001, number_normalized empty
    "national": 0.02,  # 030 20000001, number_normalized empty
    "no_normalized": 0.01,  # E.164 in number, number_normalized empty
    "without_plus": 0.005,  # number_normalized 4930...
    "differs": 0.005,  # number_normalized names another line
}
DUPLICATE = 0.003  # the previous row's line again, written with spaces
WITHOUT_BRANCH = 0.02
FOREIGN_BRANCH = 0.005
INACTIVE = 0.03
DELETED = 0.02
WITHOUT_COMPANY = 0.002
FOREIGN_AGENT = 0.005

NUMBER_COLUMNS = (
    "id", "company_id", "branch_id", "number", "number_normalized", "phone_number",
    "retell_agent_id", "type", "is_active", "is_primary", "country_code", "description",
    "created_at", "updated_at", "deleted_at",
)  # fmt: skip


def written(form: str, e164: str, area: str, subscriber: str, other: str):
    """(number, number_normalized, phone_number) as the row stores them."""
    spaced = f"+49 {area} {subscriber[:4]} {subscriber[4:]}"
    return {
        "spaces": (spaced, e164, None),
        "duplicate": (spaced, e164, None),
        "0049": (f"0049 {area} {subscriber}", None, None),
        "(0)": (f"+49 (0){area} {subscriber}", None, None),
        "national": (f"0{area} {subscriber}", None, f"0{area} {subscriber}"),
        "no_normalized": (e164, None, e164),
        "without_plus": (e164, e164[1:], e164),
        "differs": (e164, other, e164),
    }.get(form, (e164, e164, e164))


def _forms(rng, count: int) -> list[str]:
    kinds = partition(rng, list(range(count)), FORMS)
    forms = [kinds.get(k, "clean") for k in range(count)]
    candidates = [k for k in range(1, count) if forms[k] == forms[k - 1] == "clean"]
    for k in pick(rng, candidates, DUPLICATE * count / max(1, len(candidates))):
        forms[k] = "duplicate"
    return forms


def number_rows(world: World):
    rng = world.rng("phone_numbers")
    count = world.sizes["phone_numbers"]
    wanting = [c.id - 1 for c in world.companies if c.wants_numbers]
    owners = distribute(rng, wanting, count, [c.weight for c in world.companies])
    forms = _forms(rng, len(owners))
    everyone = list(range(len(owners)))
    gaps = {name: pick(rng, everyone, share) if owners else set() for name, share in (
        ("without_branch", WITHOUT_BRANCH), ("foreign_branch", FOREIGN_BRANCH),
        ("inactive", INACTIVE), ("deleted", DELETED), ("without_company", WITHOUT_COMPANY),
        ("foreign_agent", FOREIGN_AGENT),
    )}  # fmt: skip
    agents = sorted(world.agents)
    for k, owner in enumerate(owners):
        company = world.companies[owner]
        e164, area, subscriber = company_number(k - 1 if forms[k] == "duplicate" else k)
        number, normalized, phone = written(
            forms[k], e164, area, subscriber, company_number(count + k)[0]
        )
        branch, branch_gap = _branch(world, rng, company, k, gaps)
        agent = company.agent
        if agent and k in gaps["foreign_agent"] and len(agents) > 1:
            agent = rng.choice([a for a in agents[:50] if a != company.agent])
            world.gaps["phone_numbers.retell_agent_id: agent of another company"] += 1
        company_id = None if k in gaps["without_company"] else company.id
        primary = company_id is not None and company.id not in world.primary_numbers
        number_id = new_uuid(rng)
        if primary:
            world.primary_numbers[company.id] = number_id
        company.lines.append(e164)
        _count_gaps(world, forms[k], k, gaps, branch_gap)
        created = END - YEAR - rng.randrange(YEAR)
        yield (
            number_id, company_id, branch, number, normalized, phone, agent,
            "hotline" if rng.random() < 0.1 else "direct", int(k not in gaps["inactive"]),
            int(primary), "+49", None, ts(created), ts(created + DAY),
            ts(created + 90 * DAY) if k in gaps["deleted"] else None,
        )  # fmt: skip


def _branch(world: World, rng, company, k: int, gaps: dict) -> tuple[str | None, str | None]:
    """The number's branch and, if it is a gap, which."""
    if k in gaps["without_company"]:
        return None, None
    if not company.branches:
        return None, "without branch (its company has none)"
    if k in gaps["without_branch"]:
        return None, "without branch"
    if k in gaps["foreign_branch"] and len(world.branches) > len(company.branches):
        while True:
            branch_id, owner, _deleted = world.branches[rng.randrange(len(world.branches))]
            if owner != company.id - 1:
                return branch_id, "branch of another company"
    branch_id, _owner, deleted = world.branches[rng.choice(company.branches)]
    return branch_id, "deleted branch" if deleted else None


def _count_gaps(world: World, form: str, k: int, gaps: dict, branch_gap: str | None) -> None:
    if form != "clean":
        world.gaps[f"phone_numbers: written {form}"] += 1
    for name in ("inactive", "deleted", "without_company"):
        if k in gaps[name]:
            world.gaps[f"phone_numbers: {name.replace('_', ' ')}"] += 1
    if branch_gap:
        world.gaps[f"phone_numbers: {branch_gap}"] += 1


UNREGISTERED = 0.08
REGISTERED_ELSEWHERE = 0.01
AGENT_COLUMNS = (
    "agent_id", "name", "company_id", "phone_number_id", "is_active", "active", "sync_status",
    "last_synced_at", "created_at", "updated_at",
)  # fmt: skip


def agent_rows(world: World):
    """One retell_agents row per company agent, but for the unregistered ones; a few name
    another company (its calls are filed there)."""
    rng = world.rng("retell_agents")
    agents = sorted(world.agents)
    unregistered = pick(rng, agents, UNREGISTERED) if agents else set()
    elsewhere = pick(rng, agents, REGISTERED_ELSEWHERE) if len(agents) > 1 else set()
    for agent in agents:
        company = world.companies[world.agents[agent]]
        if agent in unregistered:
            world.gaps["retell agents not registered in retell_agents"] += 1
            continue
        owner = company
        if agent in elsewhere:
            owner = world.companies[world.agents[rng.choice([a for a in agents if a != agent])]]
            world.gaps["retell agents registered to another company"] += 1
        elif company.deleted:
            world.gaps["retell agents of a deleted company"] += 1
        synced = END - rng.randrange(30 * DAY)
        yield (
            agent, f"Agent {owner.id}", owner.id, world.primary_numbers.get(owner.id), 1, 1,
            rng.choice(("synced", "synced", "synced", "pending", "error")), ts(synced),
            ts(synced - YEAR), ts(synced),
        )  # fmt: skip
