"""Retell AI: does the key see the agent, and are the company's numbers bound to it?

``GET {base}/get-agent/{agent_id}`` proves key and agent; ``GET {base}/v2/list-phone-numbers``
names, for every number of the account, the agent that answers its inbound calls. A number the
gateway routes to the company (its ``phone_numbers`` rows) but that Retell binds to another agent,
or does not know at all, is a known cause of calls that never reach the right agent.
"""

from collections.abc import Iterable
from urllib.parse import quote

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
    ProviderError,
    ProviderReport,
)

PROVIDER = "Retell AI"
LISTED_NUMBERS = 5  # numbers named in a message; the rest are counted


class RetellClient(ProviderClient):
    provider = PROVIDER

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
        answer = self.get_json("/v2/list-phone-numbers")
        if isinstance(answer, dict):
            answer = answer.get("phone_numbers", answer.get("data"))
        if not isinstance(answer, list):
            raise ProviderError(_unexpected_shape())
        numbers: dict[str, set[str]] = {}
        for item in answer:
            if not isinstance(item, dict) or not isinstance(item.get("phone_number"), str):
                continue
            number = to_e164(item["phone_number"]) or item["phone_number"].strip()
            numbers.setdefault(number, set()).update(_inbound_agents(item))
        return numbers


def _unexpected_shape() -> str:
    return _("%(provider)s answered with JSON of an unexpected shape") % {"provider": PROVIDER}


def _inbound_agents(item: dict) -> set[str]:
    """``inbound_agent_id``, and the weighted ``inbound_agents`` of newer API versions."""
    agents = set()
    if isinstance(item.get("inbound_agent_id"), str) and item["inbound_agent_id"]:
        agents.add(item["inbound_agent_id"])
    for entry in item.get("inbound_agents") or ():
        if isinstance(entry, dict) and isinstance(entry.get("agent_id"), str):
            agents.add(entry["agent_id"])
    return agents


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
