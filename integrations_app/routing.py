"""Where does this call go? The gateway's call paths, replayed read-only (semantics.md §3, §3a).

``explain(number, agent_id=None)`` takes a called number in any written form and optionally the
call's Retell agent id, and returns what each of the gateway's paths does with it, step by step:

- ``call_inbound`` (§3): the number normalized to E.164 (region DE, then the gateway's other
  regions), then the first ``phone_numbers`` row where ``number_normalized`` = E.164, or
  ``number_normalized`` = E.164 without its plus, or ``number`` = E.164 (one query, no ordering,
  no filter on ``is_active`` or ``deleted_at``). No row: rejected (HTTP 404). Several rows:
  undefined. The row's branch is needed by every booking of the call.
- ``call_started`` and ``call_ended`` (§3a): ``retell_agents`` by the agent id first (company
  from the agent, branch stays empty); else ``phone_numbers`` where ``number`` = the called
  number or ``phone_number`` = the called number (``number_normalized`` is not read); the
  function-call handler (call_started) takes the row's branch too, call_ended only its company.
  Neither: company 1 (``RETELL_DEFAULT_COMPANY_ID``).

Then a verdict: the paths agree when each lands on a definite, working company (call_inbound
with a branch), all on the same company, and every path that sets a branch sets the same one. A
path that lands on a soft-deleted company, a company that does not exist, or no company, or that
sets a branch that is deleted, does not exist or belongs to another company, is not definite: the
gateway files the call there, but nothing works on it.

Pure selectors: nothing is written. Queries: one for the numbers, one for the agent (when an
agent id is given), one for the default company (only when a path falls back to it), whatever
the number of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from integrations_app.models import Company, PhoneNumber, RetellAgent
from integrations_app.phone import GATEWAY_REGIONS, is_valid

# The company the gateway files a call under when neither agent nor number finds one (§3a).
DEFAULT_COMPANY_ID = 1

CALL_INBOUND = "call_inbound"
CALL_STARTED = "call_started"
CALL_ENDED = "call_ended"
PATHS = (CALL_INBOUND, CALL_STARTED, CALL_ENDED)

PATH_TITLES = {
    CALL_INBOUND: _("call_inbound webhook (finds the number, §3)"),
    CALL_STARTED: _("call_started: call record and function calls (agent first, §3a)"),
    CALL_ENDED: _("call_ended: call record at the end (agent first, §3a)"),
}

# Outcomes of a path.
ROUTED = "routed"  # a company (and, where the path sets one, a branch)
NO_BRANCH = "no_branch"  # call_inbound: a company, but no branch: bookings break
REJECTED = "rejected"  # call_inbound: no row, HTTP 404
DEFAULT_COMPANY = "default_company"  # §3a: neither agent nor number: company 1
UNDEFINED = "undefined"  # several rows match: whichever the database returns first

OUTCOME_LABELS = {
    ROUTED: _("routed"),
    NO_BRANCH: _("number without branch: every booking on this line fails"),
    REJECTED: _("rejected (HTTP 404, not configured)"),
    DEFAULT_COMPANY: _("lands on the default company"),
    UNDEFINED: _("undefined: several rows match, the database picks one"),
}

# Why a path that lands somewhere is still not a working route (the verdict names the first).
COMPANY_DELETED = "company_deleted"
COMPANY_MISSING = "company_missing"
NO_COMPANY = "no_company"
BRANCH_DELETED = "branch_deleted"
BRANCH_OTHER_COMPANY = "branch_other_company"
BRANCH_MISSING = "branch_missing"
PROBLEMS = (
    NO_COMPANY,
    COMPANY_MISSING,
    COMPANY_DELETED,
    BRANCH_MISSING,
    BRANCH_OTHER_COMPANY,
    BRANCH_DELETED,
)

_AGENT_ID = re.compile(r"\A\S+\Z")


class RouteInputError(ValueError):
    """A number that does not parse, or an agent id that cannot be one."""


@dataclass(frozen=True)
class Row:
    """A row a rule matched, with what the outcome needs."""

    kind: str  # "phone_number" | "retell_agent" | "company"
    id: object
    label: str  # the number, the agent id or the company name
    company_id: int | None = None
    company_name: str = ""
    company_deleted: bool = False
    company_exists: bool = True
    branch_id: str | None = None
    branch_name: str = ""
    branch_company_id: int | None = None
    branch_deleted: bool = False
    is_active: bool | None = None
    marked_deleted: bool = False


@dataclass
class Step:
    rule: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""


@dataclass
class PathResult:
    key: str
    steps: list[Step]
    outcome: str
    company_id: int | None = None
    company_name: str = ""
    branch_id: str | None = None
    branch_name: str = ""
    sets_branch: bool = True  # False for call_ended, and when the company comes from the agent
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # PROBLEMS: lands, but does not work

    @property
    def title(self) -> str:
        return PATH_TITLES[self.key]

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]

    @property
    def definite(self) -> bool:
        return self.outcome == ROUTED and not self.problems

    def as_dict(self) -> dict:
        return {
            "path": self.key,
            "title": str(self.title),
            "outcome": self.outcome,
            "outcome_label": str(self.outcome_label),
            "company_id": self.company_id,
            "company_name": self.company_name,
            "branch_id": self.branch_id,
            "branch_name": self.branch_name,
            "sets_branch": self.sets_branch,
            "agrees": None,
            "notes": [str(n) for n in self.notes],
            "problems": list(self.problems),
            "steps": [
                {
                    "rule": str(step.rule),
                    "note": str(step.note),
                    "rows": [_row_dict(row) for row in step.rows],
                }
                for step in self.steps
            ],
        }


@dataclass
class Route:
    raw: str
    e164: str
    region: str
    agent_id: str
    paths: list[PathResult]
    agree: bool
    verdict: str
    disagreeing: set[str] = field(default_factory=set)

    def as_dict(self) -> dict:
        paths = []
        for result in self.paths:
            item = result.as_dict()
            item["agrees"] = result.key not in self.disagreeing
            paths.append(item)
        return {
            "number": self.raw,
            "e164": self.e164,
            "region": self.region,
            "agent_id": self.agent_id or None,
            "agree": self.agree,
            "verdict": str(self.verdict),
            "paths": paths,
        }


def _row_dict(row: Row) -> dict:
    return {
        "kind": row.kind,
        "id": row.id,
        "label": row.label,
        "company_id": row.company_id,
        "company_name": row.company_name,
        "branch_id": row.branch_id,
        "branch_name": row.branch_name,
        "is_active": row.is_active,
        "marked_deleted": row.marked_deleted,
    }


# --- input ------------------------------------------------------------------------------


def parse_number(raw: str | None) -> tuple[str, str]:
    """(E.164, region it parsed in) as the gateway's ``to_e164``; RouteInputError otherwise."""
    text = (raw or "").strip()
    if text:
        for region in GATEWAY_REGIONS:
            try:
                parsed = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            if is_valid(parsed):
                e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                return e164, region
    raise RouteInputError(
        _("“%(number)s” is not a phone number the gateway can parse (regions %(regions)s).")
        % {"number": text, "regions": ", ".join(GATEWAY_REGIONS)}
    )


def clean_agent_id(raw: str | None) -> str:
    text = (raw or "").strip()
    if text and not _AGENT_ID.match(text):
        raise RouteInputError(
            _("“%(agent)s” is not a Retell agent id: it contains spaces.") % {"agent": text}
        )
    return text


def default_company_id() -> int:
    return int(getattr(settings, "RETELL_DEFAULT_COMPANY_ID", DEFAULT_COMPANY_ID) or 1)


# --- rows ---------------------------------------------------------------------------------


def _number_row(number: PhoneNumber) -> Row:
    company, branch = number.company, number.branch
    return Row(
        kind="phone_number",
        id=number.pk,
        label=number.number,
        company_id=number.company_id,
        company_name=company.name if company else "",
        company_deleted=bool(company and company.deleted_at),
        company_exists=company is not None,
        branch_id=number.branch_id,
        branch_name=branch.name if branch else "",
        branch_company_id=branch.company_id if branch else None,
        branch_deleted=bool(branch and branch.deleted_at),
        is_active=number.is_active,
        marked_deleted=number.deleted_at is not None,
    )


def _agent_row(agent: RetellAgent) -> Row:
    """The agent with its company as annotated by ``_load`` (the company may not exist)."""
    return Row(
        kind="retell_agent",
        id=agent.pk,
        label=agent.agent_id,
        company_id=agent.company_id,
        company_name=agent.route_company_name or "",
        company_deleted=agent.route_company_deleted_at is not None,
        company_exists=bool(agent.route_company_exists),
        is_active=agent.is_active,
    )


def _load(e164: str, agent_id: str, company_cache: dict):
    """The rows any rule could match: one query for numbers, one for the agent."""
    bare = e164.lstrip("+")
    numbers = list(
        PhoneNumber._base_manager.select_related("company", "branch")
        .filter(Q(number_normalized__in=[e164, bare]) | Q(number=e164) | Q(phone_number=e164))
        .order_by("number", "pk")
    )
    agent = None
    if agent_id:
        # Neither select_related nor the model's ordering (companies.name): their inner join
        # would hide an agent whose company does not exist, and the gateway still files the
        # call under that company id.
        companies = Company._base_manager.filter(pk=OuterRef("company_id"))
        agent = (
            RetellAgent._base_manager.filter(agent_id=agent_id)
            .order_by("pk")
            .annotate(
                route_company_name=Subquery(companies.values("name")[:1]),
                route_company_deleted_at=Subquery(companies.values("deleted_at")[:1]),
                route_company_exists=Exists(companies),
            )
            .first()
        )
    return numbers, agent


def _default_company(cache: dict) -> Row:
    if "default" not in cache:
        pk = default_company_id()
        company = Company._base_manager.filter(pk=pk).first()
        cache["default"] = Row(
            kind="company",
            id=pk,
            label=company.name if company else "",
            company_id=pk,
            company_name=company.name if company else "",
            company_deleted=bool(company and company.deleted_at),
            company_exists=company is not None,
        )
    return cache["default"]


def _row_notes(row: Row) -> list[str]:
    notes = []
    if row.kind == "phone_number":
        if row.is_active is False:
            notes.append(_("the number is inactive (is_active = 0), yet the gateway routes by it"))
        if row.marked_deleted:
            notes.append(
                _("the number is marked deleted (deleted_at), yet the gateway routes by it")
            )
        if row.branch_id and row.branch_deleted:
            notes.append(_("the number's branch is deleted"))
        if row.branch_id and row.branch_company_id not in (None, row.company_id):
            notes.append(_("the number's branch belongs to another company"))
        if row.branch_id and row.branch_company_id is None:
            notes.append(_("the number's branch does not exist"))
    if row.kind == "retell_agent" and row.is_active is False:
        notes.append(_("the agent is inactive, yet the gateway routes by it"))
    if row.company_id is not None and row.company_deleted:
        notes.append(_("the company is deleted (soft delete)"))
    if row.company_id is not None and not row.company_exists and row.kind != "company":
        notes.append(_("the company does not exist"))
    if row.company_id is None and row.kind == "phone_number":
        notes.append(_("the number has no company"))
    return notes


def _row_problems(row: Row, sets_branch: bool) -> list[str]:
    """Why the row the path lands on is no working route (branch ones only where it sets one)."""
    problems = []
    if row.company_id is None:
        problems.append(NO_COMPANY)
    elif not row.company_exists:
        problems.append(COMPANY_MISSING)
    elif row.company_deleted:
        problems.append(COMPANY_DELETED)
    if sets_branch and row.branch_id:
        if row.branch_company_id is None:
            problems.append(BRANCH_MISSING)
        else:
            if row.branch_company_id != row.company_id:
                problems.append(BRANCH_OTHER_COMPANY)
            if row.branch_deleted:
                problems.append(BRANCH_DELETED)
    return problems


# --- paths ---------------------------------------------------------------------------------


def _call_inbound(e164: str, region: str, numbers: list[PhoneNumber]) -> PathResult:
    bare = e164.lstrip("+")
    steps = [
        Step(
            rule=_("to_number normalized to E.164 (libphonenumber, region %(region)s): %(e164)s")
            % {"region": region, "e164": e164},
        )
    ]
    rules = (
        (
            _("phone_numbers.number_normalized = “%(value)s”") % {"value": e164},
            "number_normalized",
            e164,
        ),
        (
            _("phone_numbers.number_normalized = “%(value)s” (without +)") % {"value": bare},
            "number_normalized",
            bare,
        ),
        (_("phone_numbers.number = “%(value)s”") % {"value": e164}, "number", e164),
    )
    matched: dict = {}
    for rule, column, value in rules:
        rows = [n for n in numbers if getattr(n, column) == value]
        steps.append(Step(rule=rule, rows=[_number_row(n) for n in rows]))
        for n in rows:
            matched.setdefault(n.pk, n)
    rows = [_number_row(n) for n in matched.values()]
    return _by_number(CALL_INBOUND, steps, rows, sets_branch=True, fallback=None)


def _agent_first(
    key: str, e164: str, agent_id: str, agent, numbers, cache: dict, takes_branch: bool
) -> PathResult:
    steps = []
    if not agent_id:
        steps.append(
            Step(
                rule=_("retell_agents.agent_id = the call's agent id"),
                note=_(
                    "no agent id given: a real call always carries one; enter it to see this step"
                ),
            )
        )
    else:
        rule = _("retell_agents.agent_id = “%(agent)s”") % {"agent": agent_id}
        if agent is not None:
            row = _agent_row(agent)
            steps.append(
                Step(
                    rule=rule,
                    rows=[row],
                    note=_("the company comes from the agent; the branch stays empty"),
                )
            )
            result = PathResult(
                key=key,
                steps=steps,
                outcome=ROUTED,
                company_id=row.company_id,
                company_name=row.company_name,
                sets_branch=False,
                notes=_row_notes(row),
                problems=_row_problems(row, sets_branch=False),
            )
            steps.append(
                Step(
                    rule=_("phone_numbers.number or phone_number = “%(value)s”") % {"value": e164},
                    note=_("not consulted: the agent decided"),
                )
            )
            return result
        steps.append(Step(rule=rule, note=_("the agent is not registered in retell_agents")))
    candidates = [n for n in numbers if n.number == e164 or n.phone_number == e164]
    steps.append(
        Step(
            rule=_("phone_numbers.number = “%(value)s” or phone_number = “%(value)s”")
            % {"value": e164},
            rows=[_number_row(n) for n in candidates],
            note=_("number_normalized is not read on this path"),
        )
    )
    return _by_number(
        key,
        steps,
        [_number_row(n) for n in candidates],
        sets_branch=takes_branch,
        fallback=cache,
    )


def _by_number(key, steps, rows: list[Row], *, sets_branch: bool, fallback) -> PathResult:
    if len(rows) > 1:
        return PathResult(key=key, steps=steps, outcome=UNDEFINED, sets_branch=sets_branch)
    if not rows:
        if fallback is None:
            return PathResult(key=key, steps=steps, outcome=REJECTED, sets_branch=sets_branch)
        default = _default_company(fallback)
        steps.append(
            Step(
                rule=_("neither agent nor number: RETELL_DEFAULT_COMPANY_ID"),
                rows=[default],
            )
        )
        return PathResult(
            key=key,
            steps=steps,
            outcome=DEFAULT_COMPANY,
            company_id=default.company_id,
            company_name=default.company_name,
            sets_branch=False,
        )
    row = rows[0]
    outcome = ROUTED
    if key == CALL_INBOUND and not row.branch_id:
        outcome = NO_BRANCH
    return PathResult(
        key=key,
        steps=steps,
        outcome=outcome,
        company_id=row.company_id,
        company_name=row.company_name,
        branch_id=row.branch_id if sets_branch else None,
        branch_name=row.branch_name if sets_branch else "",
        sets_branch=sets_branch,
        notes=_row_notes(row),
        problems=_row_problems(row, sets_branch),
    )


# --- the verdict ------------------------------------------------------------------------


def _verdict(paths: list[PathResult]) -> tuple[bool, str, set[str]]:
    not_definite = {p.key for p in paths if not p.definite}
    companies = {p.company_id for p in paths if p.definite}
    branches = {p.branch_id for p in paths if p.definite and p.sets_branch}
    if not_definite:
        if any(p.outcome == UNDEFINED for p in paths):
            message = _("Undefined: several rows match the number; the database picks one.")
        elif any(p.outcome == REJECTED for p in paths):
            message = _("The call is rejected: no phone number row matches.")
        elif broken := _first_problem(paths):
            message = _problem_verdict(*broken)
        elif any(p.outcome == NO_BRANCH for p in paths):
            message = _("The number has no branch: every booking on this line fails.")
        else:
            default = next(
                (
                    company_text(p.company_id, p.company_name)
                    for p in paths
                    if p.outcome == DEFAULT_COMPANY
                ),
                "?",
            )
            message = _(
                "A path lands on the default company %(company)s (RETELL_DEFAULT_COMPANY_ID): "
                "the call is filed there."
            ) % {"company": default}
        return False, message, not_definite | _minority(paths)
    if len(companies) > 1:
        return False, _("The paths disagree on the company."), _minority(paths)
    if len(branches) > 1:
        return False, _("The paths disagree on the branch."), _minority(paths)
    return True, _("All paths agree."), set()


def _first_problem(paths: list[PathResult]) -> tuple[str, PathResult] | None:
    for problem in PROBLEMS:
        for result in paths:
            if problem in result.problems:
                return problem, result
    return None


def company_text(company_id, name: str) -> str:
    """A company as people know it: its name; by its id only when it has none (a company
    that does not exist)."""
    return name or _("company %(id)s") % {"id": company_id}


def _problem_verdict(problem: str, result: PathResult) -> str:
    company = {
        "company": result.company_id,
        "name": company_text(result.company_id, result.company_name),
    }
    branch = {"branch": result.branch_name or result.branch_id}
    if problem == NO_COMPANY:
        return _("The number has no company: the call is filed under no company.")
    if problem == COMPANY_MISSING:
        return (
            _("The call lands on company %(company)s, which does not exist: nothing works on it.")
            % company
        )
    if problem == COMPANY_DELETED:
        return (
            _(
                "The call lands on %(name)s, a company that is deleted (soft delete): "
                "nothing works on it."
            )
            % company
        )
    if problem == BRANCH_MISSING:
        return _("The call lands on branch %(branch)s, which does not exist.") % branch
    if problem == BRANCH_OTHER_COMPANY:
        return _("The call lands on branch %(branch)s, which belongs to another company.") % branch
    return _("The call lands on branch %(branch)s, which is deleted.") % branch


def _minority(paths: list[PathResult]) -> set[str]:
    """The paths whose company differs from call_inbound's (the path that lets the call in)."""
    inbound = paths[0]
    if inbound.company_id is None:
        return {p.key for p in paths if p.company_id is not None}
    return {
        p.key
        for p in paths
        if p.company_id != inbound.company_id
        or (p.sets_branch and p.definite and inbound.definite and p.branch_id != inbound.branch_id)
    }


def explain(number: str | None, agent_id: str | None = None) -> Route:
    """What each gateway path does with a call to ``number`` (and its agent); read only."""
    e164, region = parse_number(number)
    agent_id = clean_agent_id(agent_id)
    cache: dict = {}
    numbers, agent = _load(e164, agent_id, cache)
    paths = [
        _call_inbound(e164, region, numbers),
        _agent_first(CALL_STARTED, e164, agent_id, agent, numbers, cache, takes_branch=True),
        _agent_first(CALL_ENDED, e164, agent_id, agent, numbers, cache, takes_branch=False),
    ]
    agree, verdict, disagreeing = _verdict(paths)
    return Route(
        raw=(number or "").strip(),
        e164=e164,
        region=region,
        agent_id=agent_id,
        paths=paths,
        agree=agree,
        verdict=verdict,
        disagreeing=disagreeing,
    )
