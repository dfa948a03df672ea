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

from integrations_app.routing.paths import _agent_first, _call_inbound, _load, _verdict
from integrations_app.routing.results import (  # noqa: F401 (the package's public names)
    CALL_ENDED,
    CALL_INBOUND,
    CALL_STARTED,
    DEFAULT_COMPANY_ID,
    OUTCOME_LABELS,
    PATH_TITLES,
    PATHS,
    PROBLEMS,
    PathResult,
    Route,
    RouteInputError,
    Row,
    Step,
    clean_agent_id,
    parse_number,
)


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
