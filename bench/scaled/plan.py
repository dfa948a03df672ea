"""What the dataset will hold, decided before any row is written: sizes, and per company its
shape and its gaps (no branch, no number, no integration, which keys and in which state).

The tables' generators read and extend one ``World``; the gaps they make are counted in
``World.gaps`` (kind -> rows) and printed with the summary.
"""

from collections import Counter
from dataclasses import dataclass, field

from bench.scaled import keys
from bench.scaled.values import partition, pick, stream, unique_hex

DEFAULT_SIZES = {
    "companies": 10_000,
    "branches": 20_000,
    "staff": 60_000,
    "phone_numbers": 40_000,
    "integrations": 20_000,
    "calls": 1_000_000,
    "appointments": 300_000,
    "customers": 200_000,
}
# Shares of the companies (each at least one company while there are enough).
DELETED = 0.03
WITHOUT_BRANCH = 0.08
WITHOUT_NUMBER = 0.10
WITHOUT_INTEGRATION = 0.15
WITH_CALCOM = 0.90  # of the companies with integrations
WITH_RETELL = 0.80
AGENT_WITHOUT_INTEGRATION = 0.20  # companies.retell_agent_id set, no Retell integration
CALCOM_KEY_IN_COMPANY = 0.70  # of the Cal.com companies: companies.calcom_api_key is set
RETELL_KEY_IN_COMPANY = 0.40
# The state of a stored key (keys.OK for the rest).
KEY_STATES = {
    keys.PREVIOUS: 0.08,
    keys.WRONG_FLAVOUR: 0.03,
    keys.LOST: 0.02,
    keys.GARBAGE: 0.02,
}
SHARED_KEY = 0.005  # Cal.com companies holding the one platform key (the review's proposal)
SHARED_PLATFORM_KEY = "cal_test_platform_key_pasted_everywhere_0000"


@dataclass(slots=True)
class CompanyPlan:
    id: int
    deleted: bool = False
    weight: float = 1.0
    wants_branches: bool = True
    wants_numbers: bool = True
    integrated: bool = True
    calcom: bool = False
    retell: bool = False
    team_id: int | None = None
    agent: str | None = None
    calcom_key: str | None = None  # the company's Cal.com key (plain text, before encryption)
    calcom_state: str | None = None  # how companies.calcom_api_key holds it (None: empty)
    retell_key: str | None = None
    retell_state: str | None = None
    branches: list[int] = field(default_factory=list)  # indexes into World.branches
    live_branches: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # its numbers' E.164 forms (calls dial them)
    staff: list[str] = field(default_factory=list)  # ids of live staff
    services: list[int] = field(default_factory=list)  # service ids


@dataclass
class World:
    sizes: dict[str, int]
    seed: int
    secrets: keys.Secrets
    companies: list[CompanyPlan] = field(default_factory=list)
    branches: list[tuple[str, int, bool]] = field(default_factory=list)  # (id, company, deleted)
    agents: dict[str, int] = field(default_factory=dict)  # agent id -> company index
    primary_numbers: dict[int, str] = field(default_factory=dict)  # company id -> number id
    gaps: Counter = field(default_factory=Counter)

    def rng(self, name: str):
        return stream(self.seed, name)


def plan_companies(world: World) -> None:
    rng = world.rng("companies.plan")
    count = world.sizes["companies"]
    world.companies = [CompanyPlan(id=i + 1) for i in range(count)]
    everyone = list(range(count))
    for i in everyone:
        world.companies[i].weight = rng.lognormvariate(0, 1)
    for i in pick(rng, everyone, DELETED):
        world.companies[i].deleted = True
    for i in pick(rng, everyone, WITHOUT_BRANCH):
        world.companies[i].wants_branches = False
    for i in pick(rng, everyone, WITHOUT_NUMBER):
        world.companies[i].wants_numbers = False
    for i in pick(rng, everyone, WITHOUT_INTEGRATION):
        world.companies[i].integrated = False
    _plan_providers(world, rng)
    _plan_company_keys(world, rng)


def _plan_providers(world: World, rng) -> None:
    integrated = [c.id - 1 for c in world.companies if c.integrated]
    for i in pick(rng, integrated, WITH_CALCOM):
        company = world.companies[i]
        company.calcom = True
        company.team_id = 100_000 + company.id
        company.calcom_key = f"cal_test_{unique_hex(company.id, world.seed)}"
    for i in pick(rng, integrated, WITH_RETELL):
        world.companies[i].retell = True
    bare = [c.id - 1 for c in world.companies if not c.integrated]
    with_agent = {i for i in integrated if world.companies[i].retell}
    with_agent |= pick(rng, bare, AGENT_WITHOUT_INTEGRATION)
    for i in sorted(with_agent):
        company = world.companies[i]
        company.agent = f"agent_{unique_hex(company.id, world.seed + 1, 24)}"
        company.retell_key = f"key_test_{unique_hex(company.id, world.seed + 2)}"
        world.agents[company.agent] = i


def _plan_company_keys(world: World, rng) -> None:
    calcom = [c.id - 1 for c in world.companies if c.calcom_key]
    holders = sorted(pick(rng, calcom, CALCOM_KEY_IN_COMPANY))
    states = partition(rng, holders, KEY_STATES)
    for i in holders:
        world.companies[i].calcom_state = states.get(i, keys.OK)
    ok_holders = [i for i in holders if world.companies[i].calcom_state == keys.OK]
    rng.shuffle(ok_holders)
    sharing = max(2, round(SHARED_KEY * len(ok_holders))) if len(ok_holders) > 1 else 0
    for i in ok_holders[:sharing]:
        world.companies[i].calcom_key = SHARED_PLATFORM_KEY
        world.gaps["companies: one Cal.com key shared by several companies"] += 1
    retell = [c.id - 1 for c in world.companies if c.retell_key]
    holders = sorted(pick(rng, retell, RETELL_KEY_IN_COMPANY))
    states = partition(rng, holders, KEY_STATES)
    for i in holders:
        world.companies[i].retell_state = states.get(i, keys.OK)
    for company in world.companies:
        for column, state in (
            ("calcom_api_key", company.calcom_state),
            ("retell_api_key", company.retell_state),
        ):
            if state not in (None, keys.OK):
                world.gaps[f"companies.{column}: {state.replace('_', ' ')}"] += 1
