"""register-agents: register each missing Retell agent for the one company that expects it.

Only where the answer is unambiguous (semantics.md §3a): the agent id is in no retell_agents
row, exactly one live company expects it (``companies.retell_agent_id`` or its active Retell
integration) and it is a well-formed id. The row is named by its agent id (Retell is not
asked: saving the integration again gives it Retell's name), ``sync_status`` pending. Two
companies expecting the same agent, or a malformed id, stay on the work list.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.agents import agent_situation
from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import company_row
from integrations_app.models import Company, RetellAgent
from integrations_app.services import create_rows
from integrations_app.services.agents import agent_id_problem


@register_fix
class RegisterAgents(Fix):
    id = "register-agents"
    check_id = "AUD-AGT-001"
    title = gettext_lazy("Register missing Retell agents for their companies")
    description = gettext_lazy(
        "Registers each phone agent that exactly one company expects and no company has "
        "registered yet for that company (named by its agent number, waiting for its first "
        "synchronisation), so the gateway files that agent's calls under that company."
    )
    detail = gettext_lazy(
        "Creates a retell_agents row per agent_id: name = agent_id, company_id, is_active and "
        "active true, sync_status pending."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        wanted, registered = agent_situation()
        claims: dict[str, list[int]] = {}
        for pk, entry in wanted.items():
            for agent_id in entry["agents"]:
                if agent_id not in registered:
                    claims.setdefault(agent_id, []).append(pk)
        for agent_id in sorted(claims):
            companies = sorted(claims[agent_id], key=lambda pk: (wanted[pk]["name"], pk))
            problem = agent_id_problem(agent_id)
            if problem or len(companies) > 1:
                detail = problem or _(
                    "agent %(agent)s is expected by %(count)d companies: decide which one uses it"
                ) % {"agent": agent_id, "count": len(companies)}
                for pk in companies:
                    plan.needs_person.append(
                        company_row(Company(pk=pk, name=wanted[pk]["name"]), str(detail))
                    )
                continue
            pk = companies[0]
            plan.writes.append(
                PlannedWrite(
                    table="retell_agents",
                    action="create",
                    description=_("register agent %(agent)s for %(company)s")
                    % {"agent": agent_id, "company": wanted[pk]["name"]},
                    key=f"agent-{agent_id}",
                    after={
                        "agent_id": agent_id,
                        "name": agent_id,
                        "company_id": pk,
                        "is_active": True,
                        "active": True,
                        "sync_status": "pending",
                    },
                )
            )
        return plan

    def write(self, plan: Plan) -> None:
        create_rows(rows=[RetellAgent(**write.after) for write in plan.writes])
