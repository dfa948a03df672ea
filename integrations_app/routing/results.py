"""What a replay of the gateway's call paths says (integrations_app/routing): the paths, their
outcomes and problems, the rows a path reads, and the parsed input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from integrations_app.phone import GATEWAY_REGIONS, e164_and_region

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
    found = e164_and_region(raw)
    if found:
        return found
    raise RouteInputError(
        _("“%(number)s” is not a phone number the gateway can parse (regions %(regions)s).")
        % {"number": (raw or "").strip(), "regions": ", ".join(GATEWAY_REGIONS)}
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
