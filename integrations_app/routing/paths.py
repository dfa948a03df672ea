"""The gateway's call paths replayed on the rows a call finds (integrations_app/routing): the
rows and their problems, each path step by step, and the verdict over all paths."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from integrations_app.models import Company, PhoneNumber, RetellAgent
from integrations_app.routing.results import (
    BRANCH_DELETED,
    BRANCH_MISSING,
    BRANCH_OTHER_COMPANY,
    CALL_INBOUND,
    COMPANY_DELETED,
    COMPANY_MISSING,
    DEFAULT_COMPANY,
    NO_BRANCH,
    NO_COMPANY,
    PROBLEMS,
    REJECTED,
    ROUTED,
    UNDEFINED,
    PathResult,
    Row,
    Step,
    default_company_id,
)

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
