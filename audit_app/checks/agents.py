"""Calls filed under the wrong company: the Retell agents the gateway routes by (semantics.md §3a).

Since 2026-02-18 the gateway's call-start and call-end paths take a call's company from
``retell_agents`` (agent id → company) first, and only when the agent is not there from
``phone_numbers`` by plain equality of ``number`` / ``phone_number`` with Retell's E.164
``to_number``; with neither, the call is stored under company 1.
"""

from collections import defaultdict

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Trim
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import (
    APP,
    NUMBER_OF_LIVE_COMPANY,
    branch_row,
    company_row,
    is_e164,
    number_row,
)
from audit_app.checks.number_pass import NumberCheck
from audit_app.checks.passes import PassCheck, RowPass
from audit_app.checks.queried import QueryCheck
from audit_app.registry import Affected, Category, Check, Severity, register
from audit_app.streaming import stream
from integrations_app.integration_kinds import CONFIG_AGENT_ID, RETELL
from integrations_app.labels import local_time
from integrations_app.models import Branch, Company, Integration, PhoneNumber, RetellAgent

AGENT_ADMIN = (APP, "retellagent")


def expected_agents():
    """Every agent id a live company expects its calls under (``companies.retell_agent_id``
    and the ``agent_id`` in the configuration of its active Retell integrations, trimmed), with
    its registration in ``retell_agents``: values_list rows (company id, company name, agent
    id, registered, registered company id, registered company name), by company name, company
    id and agent id, each (company, agent) once. One query (a UNION), whatever the number of
    companies; the checks stream it (nothing held for the audit run, issue 13)."""
    registration = RetellAgent.objects.filter(agent_id=OuterRef("agent")).order_by()

    def expecting(queryset, company_id, company_name):
        return (
            queryset.exclude(agent__isnull=True)
            .exclude(agent="")
            .order_by()  # the union is ordered, its parts may not be
            .annotate(
                registered=Exists(registration),
                registered_company=Subquery(registration.values("company_id")[:1]),
                registered_name=Subquery(registration.values("company__name")[:1]),
            )
            .values_list(company_id, company_name, "agent", "registered", "registered_company",
                         "registered_name")
        )  # fmt: skip

    companies = Company.objects.annotate(agent=Trim("retell_agent_id"))
    integrations = (
        Integration.objects.active()
        .filter(provider=RETELL.provider, company__deleted_at__isnull=True)
        .filter(company__isnull=False)
        # A JSON null (the form saves an empty agent id so) is no agent; MariaDB's
        # JSON_UNQUOTE would turn it into the text "null".
        .exclude(**{f"config__{CONFIG_AGENT_ID}": None})
        .annotate(agent=Trim(KT(f"config__{CONFIG_AGENT_ID}")))
    )
    return (
        expecting(companies, "id", "name")
        .union(expecting(integrations, "company_id", "company__name"))
        .order_by("name", "id", "agent")
    )


class ExpectedAgents(RowPass):
    """expected_agents(), streamed once per audit run for AUD-AGT-001 and 002."""

    key = "expected-agents"

    def rows(self):
        return stream(expected_agents())


EXPECTED_AGENTS = ExpectedAgents()


class _ExpectedAgentCheck(PassCheck):
    row_pass = EXPECTED_AGENTS

    def affected(self, row, detail) -> Affected:
        return _company_affected(row[0], row[1], detail)


def wanted_agents() -> dict[int, dict]:
    """Per live company: its name and the agent ids it expects (expected_agents()); for the
    fixes, which need them all at once."""
    wanted: dict[int, dict] = {}
    for pk, name, agent_id, *_registration in expected_agents():
        wanted.setdefault(pk, {"name": name, "agents": set()})["agents"].add(agent_id)
    return wanted


def registrations(agent_ids) -> dict[str, dict]:
    """agent id → its retell_agents row (company id, company name, deleted); one query."""
    rows = RetellAgent.objects.filter(agent_id__in=list(agent_ids)).values(
        "agent_id", "company_id", "company__name", "company__deleted_at"
    )
    return {row["agent_id"]: row for row in rows}


def agent_situation() -> tuple[dict[int, dict], dict[str, dict]]:
    """What the companies expect and how it is registered, all at once (the register-agents
    fix)."""
    wanted = wanted_agents()
    agent_ids = {a for entry in wanted.values() for a in entry["agents"]}
    return wanted, registrations(agent_ids)


def _company_affected(pk: int, name: str, detail: str) -> Affected:
    return company_row({"id": pk, "name": name}, detail)


@register
class UnregisteredAgents(_ExpectedAgentCheck):
    id = "AUD-AGT-001"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Calls and bookings of these companies may land with another company")
    explanation = gettext_lazy(
        "The gateway files each call under the company of the phone agent that answered it. "
        "These companies' agents are not registered for them, so the gateway falls back to the "
        "dialled number; where that fails too, the call and any booking made in it are filed "
        "under the first company in the database and are missing from this company's lists."
    )
    detail = gettext_lazy(
        "Since 2026-02-18 the gateway files a call on call start and call end under the company "
        "of its Retell agent in retell_agents. An agent that is not registered there falls back "
        "to the called number by plain equality of phone_numbers.number with Retell's E.164 "
        "number, and without such a row the call is stored under company 1: the company's calls "
        "and bookings then appear elsewhere."
    )
    hint = gettext_lazy(
        "Register the agent for its company: save the company's Retell integration again, or "
        "apply the fix (it registers each agent no other company claims, named by its id)."
    )
    fix_id = "register-agents"

    def judge(self, row):
        return not row[3]  # (company, name, agent, registered, ...): not registered

    def describe(self, row, reason) -> str:
        return _("agent %(agent)s is not registered: the gateway does not know it") % {
            "agent": row[2]
        }


@register
class AgentsOfAnotherCompany(_ExpectedAgentCheck):
    id = "AUD-AGT-002"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Calls and bookings of these companies are filed under another company")
    explanation = gettext_lazy(
        "The company's phone agent is registered for another company. Every call it answers and"
        " every booking it makes is filed under that other company: this company does not see "
        "them, and the other one sees calls that are not its own."
    )
    detail = gettext_lazy(
        "Since 2026-02-18 the gateway takes a call's company from retell_agents before it "
        "looks at the number: when the company's agent is registered there under another "
        "company, every call the agent answers, and every booking it makes, is filed under "
        "that other company."
    )
    hint = gettext_lazy(
        "Find out which company really uses the agent in Retell; then correct either the "
        "retell_agents row or the company's agent id. The console never moves it silently."
    )

    def judge(self, row):
        pk, _name, _agent, registered, company, _company_name = row
        return registered and company != pk

    def describe(self, row, reason) -> str:
        _pk, _name, agent_id, _registered, company, company_name = row
        return _("agent %(agent)s is registered to %(company)s: its calls go there") % {
            "agent": agent_id,
            "company": company_name or company,
        }


@register
class AgentsOfDeletedCompanies(QueryCheck):
    id = "AUD-AGT-003"
    severity = Severity.WARNING
    category = Category.CALLS
    title = gettext_lazy("Calls answered by these agents disappear with a deleted company")
    explanation = gettext_lazy(
        "These phone agents are still registered for a company that was deleted. A call one of "
        "them answers is filed under the deleted company, where nobody sees it, and the agent "
        "cannot be registered for the company that uses it now."
    )
    detail = gettext_lazy(
        "The gateway's call-start and call-end paths read retell_agents without looking at the "
        "company's deleted_at: a call answered by such an agent is filed under the deleted "
        "company, where nobody sees it, and the agent id cannot be registered for another "
        "company (agent_id is unique)."
    )
    hint = gettext_lazy(
        "If the agent still answers calls, register it for the company that uses it now; "
        "otherwise delete the retell_agents row."
    )

    def affected(self):
        return (
            RetellAgent.objects.filter(company__deleted_at__isnull=False)
            .order_by("agent_id")
            .values("id", "agent_id", "name", "company__name", "company__deleted_at")
        )

    def finding(self, row) -> Affected:
        return Affected(
            table="retell_agents",
            pk=row["id"],
            label=f"{row['agent_id']} ({row['company__name']})",
            detail=_("company %(company)s was deleted on %(date)s")
            % {
                "company": row["company__name"],
                "date": local_time(row["company__deleted_at"], "DATE_FORMAT"),
            },
            admin=AGENT_ADMIN,
        )


def _other_company():
    """Annotations: the agent named by the row is registered to a company not the row's."""
    agents = RetellAgent.objects.filter(agent_id=OuterRef("retell_agent_id")).exclude(
        company_id=OuterRef("company_id")
    )
    return {
        "foreign_agent": Exists(agents),
        "agent_company": Subquery(agents.values("company__name")[:1]),
    }


@register
class LocalAgentOfAnotherCompany(Check):
    id = "AUD-AGT-004"
    severity = Severity.WARNING
    category = Category.CALLS
    title = gettext_lazy("Lines or branches whose calls are filed under another company")
    explanation = gettext_lazy(
        "A phone number or branch names the phone agent of another company. Calls on this line "
        "or at this branch, and the bookings made in them, are filed under that other company."
    )
    detail = gettext_lazy(
        "phone_numbers.retell_agent_id and branches.retell_agent_id say which agent answers a "
        "line or a branch. Since 2026-02-18 the gateway files each call under the company of "
        "its agent in retell_agents: if that agent is registered to another company, the calls "
        "of this number or branch are filed, and booked, under that other company."
    )
    hint = gettext_lazy(
        "Set the number's or branch's agent id to its own company's agent (and bind the number "
        "to that agent in Retell), or correct the agent's registration."
    )

    def each(self):
        numbers = (
            PhoneNumber.objects.filter(NUMBER_OF_LIVE_COMPANY)
            .annotate(**_other_company())
            .filter(foreign_agent=True)
            .order_by("number", "id")
            .values("id", "number", "company__name", "retell_agent_id", "agent_company")
        )
        branches = (
            Branch.objects.filter(company__deleted_at__isnull=True)
            .annotate(**_other_company())
            .filter(foreign_agent=True)
            .order_by("name", "id")
            .values("id", "name", "company__name", "retell_agent_id", "agent_company")
        )
        for row in stream(numbers):
            yield number_row(row, self._detail(row))
        for row in stream(branches):
            yield branch_row(row, self._detail(row))

    @staticmethod
    def _detail(row) -> str:
        return _("agent %(agent)s is registered to %(company)s") % {
            "agent": row["retell_agent_id"],
            "company": row["agent_company"],
        }


@register
class NumbersNotInE164(NumberCheck):
    id = "AUD-AGT-005"
    severity = Severity.WARNING
    category = Category.CALLS
    title = gettext_lazy("Numbers whose calls may be filed under the wrong company")
    explanation = gettext_lazy(
        "The number is not stored in the international form (+49 …). The call is still put "
        "through, but when the gateway records the start and end of the call it may not "
        "recognise the number: such calls are then filed under the first company in the "
        "database and without a branch."
    )
    detail = gettext_lazy(
        "Since 2026-02-18 the gateway's call-start and call-end paths, when the agent is not "
        "registered, look for the called number by plain equality of phone_numbers.number (or "
        "phone_number) with Retell's E.164 number; number_normalized is not read there. A "
        "number written in another form is found only by the call_inbound path: the other "
        "paths store the call under company 1 and without a branch."
    )
    hint = gettext_lazy(
        "Save the number again in the phone number admin (or import it): the console writes "
        "its E.164 form into number, number_normalized and phone_number."
    )
    fix_id = "normalize-numbers"  # the same E.164 form in every routing column

    def judge(self, row):
        # The §3a paths compare number OR phone_number: either in E.164 is found.
        return not (is_e164(row.number) or is_e164(row.phone_number))

    def describe(self, row, reason) -> str:
        return _("number %(number)s is not in the international form (+ and digits only)") % {
            "number": row.number
        }


def agent_companies() -> dict[str, set[int]]:
    """agent id → the live companies that expect it; for the fix (no other query)."""
    claimed = defaultdict(set)
    for pk, entry in wanted_agents().items():
        for agent_id in entry["agents"]:
            claimed[agent_id].add(pk)
    return claimed
