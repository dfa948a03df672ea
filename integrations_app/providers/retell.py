"""Retell AI: does the key see the agent, and are the company's numbers bound to it?

``GET {base}/get-agent/{agent_id}`` proves key and agent; ``GET {base}/v2/list-phone-numbers``
names, for every number of the account, the agent that answers its inbound calls. A number the
gateway routes to the company (its ``phone_numbers`` rows) but that Retell binds to another agent,
or does not know at all, is a known cause of calls that never reach the right agent.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations_app.phone import to_e164
from integrations_app.providers.base import (
    DEGRADED,
    ERROR,
    HEALTHY,
    OK,
    UNHEALTHY,
    WARNING,
    Check,
    ProviderClient,
    ProviderReport,
)
from integrations_app.providers.errors import ProviderError, not_json_error

PROVIDER = "Retell AI"
LISTED_NUMBERS = 5  # numbers named in a message; the rest are counted
LIST_PATH = "/v2/list-phone-numbers"
PAGE_LIMIT = 1000  # numbers asked for per page (``limit``)
MAX_PAGES = 50  # a listing longer than this is refused as never-ending
# Retell's agent ids: letters, digits, "_" and "-", no spaces (e.g. "agent_1a2b…", "oBeDLoLO…").
AGENT_ID = re.compile(r"\A[A-Za-z0-9_\-]{1,255}\Z")


@dataclass(frozen=True)
class RetellNumber:
    """One number of the account as Retell lists it: its E.164 form (or Retell's text when it
    does not parse) and ``inbound_agents`` ([{agent_id, agent_version, weight}]), read from the
    deprecated ``inbound_agent_id`` when the item has no ``inbound_agents``."""

    number: str
    inbound_agents: tuple[dict, ...]
    parses: bool = True

    @property
    def agent_ids(self) -> set[str]:
        return {entry["agent_id"] for entry in self.inbound_agents}


def agent_id_problem(agent_id) -> str | None:
    """Why ``agent_id`` cannot be a Retell agent id (spaces, empty, other characters), or None."""
    if not isinstance(agent_id, str) or not agent_id:
        return _("the agent id is empty")
    if not AGENT_ID.match(agent_id):
        return _(
            "the agent id %(agent)s contains spaces or characters Retell's ids do not have"
        ) % {"agent": agent_id[:80]}
    return None


def bind_request(number: str, agent_id: str) -> dict:
    """The exact request that binds ``number`` to ``agent_id`` alone (the weights sum to 1)."""
    return {
        "method": "PATCH",
        "path": f"/update-phone-number/{quote(number, safe='+')}",
        "json": {"inbound_agents": [{"agent_id": agent_id, "weight": 1}]},
    }


class RetellClient(ProviderClient):
    provider = PROVIDER
    base_url_setting = "RETELL_API_BASE_URL"

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float | None = None):
        super().__init__(
            api_key=api_key, base_url=base_url or settings.RETELL_API_BASE_URL, timeout=timeout
        )

    def agent(self, agent_id: str) -> dict:
        answer = self.get_json(
            f"/get-agent/{quote(agent_id, safe='')}",
            not_found=_("agent %(agent)s is unknown to this key") % {"agent": agent_id},
        )
        if not isinstance(answer, dict):
            raise ProviderError(_unexpected_shape())
        return answer

    def phone_numbers(self) -> dict[str, set[str]]:
        """E.164 number → the agent ids bound to its inbound calls (empty set: none)."""
        numbers: dict[str, set[str]] = {}
        for item in self.list_phone_numbers():
            numbers.setdefault(item.number, set()).update(item.agent_ids)
        return numbers

    def list_phone_numbers(self, *, max_pages: int = MAX_PAGES) -> list[RetellNumber]:
        """Every number of the account, all pages: ``limit`` and ``pagination_key`` (the last
        number of the page before) in the query; the answer is a list, or an object with the
        list (``phone_numbers``, ``items`` or ``data``) and ``pagination_key``/``has_more``.

        A listing that goes on past ``max_pages`` pages, or names the same key twice, is a
        ProviderError: it never ends, and a partial list would make false findings.
        """
        found: list[RetellNumber] = []
        key = None
        seen_keys: set[str] = set()
        for _page in range(max_pages):
            query = f"?limit={PAGE_LIMIT}"
            if key is not None:
                query += f"&pagination_key={quote(key, safe='')}"
            items, next_key, more = _page_of(self.get_json(LIST_PATH + query))
            numbers = [_number_of(item) for item in items]
            if any(number is None for number in numbers):
                # A partial list would report the dropped numbers as missing in Retell.
                raise ProviderError(_unexpected_shape())
            found.extend(numbers)
            if more and not next_key:
                raise ProviderError(_unexpected_shape())  # more pages, but no way to ask
            if not more:
                return found
            if next_key in seen_keys:
                raise ProviderError(_never_ending(max_pages))
            seen_keys.add(next_key)
            key = next_key
        raise ProviderError(_never_ending(max_pages))

    def phone_number(self, number: str) -> RetellNumber | None:
        """One number as Retell has it now (``GET /get-phone-number/{E.164}``); None: unknown."""
        try:
            answer = self.get_json(f"/get-phone-number/{quote(number, safe='+')}")
        except ProviderError as error:
            if error.status == 404:
                return None
            raise
        item = _number_of(answer) if isinstance(answer, dict) else None
        if item is None:
            raise ProviderError(_unexpected_shape())
        return item

    def bind(self, number: str, agent_id: str) -> RetellNumber:
        """Bind ``number``'s inbound calls to ``agent_id`` alone; Retell's answer, read back."""
        problem = agent_id_problem(agent_id)
        if problem:
            raise ProviderError(problem)
        if to_e164(number) != number:
            raise ProviderError(
                _("%(number)s is not a phone number in E.164 form") % {"number": number[:40]}
            )
        request = bind_request(number, agent_id)
        answer = self.send_json(request["method"], request["path"], request["json"])
        item = _number_of(answer) if isinstance(answer, dict) else None
        if item is None:
            raise ProviderError(_unexpected_shape())
        return item

    def send_json(self, method: str, path: str, body: dict):
        """One write (no retry, no redirect); the parsed answer, or ProviderError."""
        try:
            response = self._client.request(
                method, path, content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as error:
            raise self._transport_error(error) from None
        if not 200 <= response.status_code < 300:
            raise self._status_error(response.status_code, path, response, None)
        try:
            return response.json()
        except ValueError:
            raise not_json_error(
                self.provider, response.status_code, self.base_url_setting
            ) from None


def _page_of(answer) -> tuple[list, str | None, bool]:
    """(items, the next page's key, whether there is one) of one answer of the list."""
    if isinstance(answer, list):
        last = answer[-1] if answer else None
        key = last.get("phone_number") if isinstance(last, dict) else None
        return answer, key if isinstance(key, str) else None, len(answer) >= PAGE_LIMIT
    if not isinstance(answer, dict):
        raise ProviderError(_unexpected_shape())
    items = next(
        (answer[k] for k in ("phone_numbers", "items", "data") if isinstance(answer.get(k), list)),
        None,
    )
    if items is None:
        raise ProviderError(_unexpected_shape())
    key = answer.get("pagination_key") or answer.get("next_pagination_key")
    key = key if isinstance(key, str) and key else None
    more = answer.get("has_more")
    more = bool(key) if more is None else bool(more)
    return items, key, more


def _number_of(item) -> RetellNumber | None:
    if not isinstance(item, dict) or not isinstance(item.get("phone_number"), str):
        return None
    raw = item["phone_number"].strip()
    number = to_e164(raw)
    return RetellNumber(number or raw, inbound_agents_of(item), parses=number is not None)


def inbound_agents_of(item: dict) -> tuple[dict, ...]:
    """``inbound_agents`` as [{agent_id, agent_version, weight}]; when the item has none, the
    deprecated ``inbound_agent_id`` (with ``inbound_agent_version``) as the one agent, weight 1."""
    agents = []
    for entry in item.get("inbound_agents") or ():
        if isinstance(entry, dict) and isinstance(entry.get("agent_id"), str) and entry["agent_id"]:
            agents.append(
                {
                    "agent_id": entry["agent_id"],
                    "agent_version": entry.get("agent_version"),
                    "weight": entry.get("weight"),
                }
            )
    if not agents and isinstance(item.get("inbound_agent_id"), str) and item["inbound_agent_id"]:
        agents.append(
            {
                "agent_id": item["inbound_agent_id"],
                "agent_version": item.get("inbound_agent_version"),
                "weight": 1,
            }
        )
    return tuple(agents)


def _never_ending(max_pages: int) -> str:
    return _(
        "%(provider)s's list of phone numbers did not end after %(pages)d pages: "
        "nothing was compared"
    ) % {"provider": PROVIDER, "pages": max_pages}


def _unexpected_shape() -> str:
    return _("%(provider)s answered with JSON of an unexpected shape") % {"provider": PROVIDER}


def run_checks(*, api_key: str, agent_id: str, company_numbers: Iterable[str]) -> ProviderReport:
    """``company_numbers``: the E.164 numbers the gateway routes to the company."""
    company_numbers = sorted(set(company_numbers))
    agent_label = _("agent")
    numbers_label = _("phone numbers")
    with RetellClient(api_key=api_key) as client:
        try:
            agent = client.agent(agent_id)
        except ProviderError as error:
            return ProviderReport(
                UNHEALTHY, 0, (Check("agent", agent_label, ERROR, error.message),)
            )
        name = agent.get("agent_name")
        agent_check = Check(
            "agent",
            agent_label,
            OK,
            _("the API key works and sees agent %(agent)s (%(name)s)")
            % {"agent": agent_id, "name": name}
            if isinstance(name, str) and name
            else _("the API key works and sees agent %(agent)s") % {"agent": agent_id},
        )
        if not company_numbers:
            numbers_check = Check(
                "phone_numbers",
                numbers_label,
                OK,
                _("the company has no active phone numbers in the database to compare"),
            )
            return ProviderReport(HEALTHY, 100, (agent_check, numbers_check))
        try:
            in_retell = client.phone_numbers()
        except ProviderError as error:
            message = _("the phone numbers could not be listed: %(error)s") % {
                "error": error.message
            }
            return ProviderReport(
                DEGRADED, 50, (agent_check, Check("phone_numbers", numbers_label, WARNING, message))
            )
    return _compare(agent_id, agent_check, numbers_label, company_numbers, in_retell)


def _compare(agent_id, agent_check, label, company_numbers, in_retell) -> ProviderReport:
    missing = [n for n in company_numbers if n not in in_retell]
    elsewhere = [n for n in company_numbers if n in in_retell and agent_id not in in_retell[n]]
    total = len(company_numbers)
    wrong = len(missing) + len(elsewhere)
    if not wrong:
        check = Check(
            "phone_numbers",
            label,
            OK,
            ngettext(
                "the company's %(count)d phone number is bound to agent %(agent)s",
                "all %(count)d phone numbers of the company are bound to agent %(agent)s",
                total,
            )
            % {"count": total, "agent": agent_id},
        )
        return ProviderReport(HEALTHY, 100, (agent_check, check))
    parts = []
    if elsewhere:
        parts.append(
            _("not bound to this agent: %(numbers)s") % {"numbers": _listing(elsewhere, in_retell)}
        )
    if missing:
        parts.append(_("not in Retell at all: %(numbers)s") % {"numbers": _listing(missing)})
    message = ngettext(
        "%(wrong)d of %(count)d phone number of the company will not reach agent %(agent)s",
        "%(wrong)d of %(count)d phone numbers of the company will not reach agent %(agent)s",
        total,
    ) % {"wrong": wrong, "count": total, "agent": agent_id}
    message = f"{message} ({'; '.join(parts)})"
    score = 50 + (49 * (total - wrong)) // total
    return ProviderReport(
        DEGRADED, score, (agent_check, Check("phone_numbers", label, WARNING, message))
    )


def _listing(numbers: list[str], in_retell: dict[str, set[str]] | None = None) -> str:
    shown = []
    for number in numbers[:LISTED_NUMBERS]:
        agents = sorted((in_retell or {}).get(number, ()))
        if in_retell is not None and agents:
            shown.append(
                _("%(number)s → %(agents)s") % {"number": number, "agents": ", ".join(agents)}
            )
        elif in_retell is not None:
            shown.append(_("%(number)s → no agent") % {"number": number})
        else:
            shown.append(number)
    if len(numbers) > LISTED_NUMBERS:
        shown.append(_("and %(count)d more") % {"count": len(numbers) - LISTED_NUMBERS})
    return ", ".join(shown)
