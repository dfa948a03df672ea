"""Registering a Retell agent for a company in ``retell_agents`` (semantics.md §3a).

Since 2026-02-18 the gateway's call-start and call-end paths find a call's company by
``retell_agents.agent_id`` first: an agent registered under the wrong company sends that
company's calls there, so an agent id registered to another company is refused, never moved.
"""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations_app.models import Company, RetellAgent
from integrations_app.services.records import save_record

MAX_AGENT_ID = 255
_WHITESPACE = re.compile(r"\s")


def agent_id_problem(agent_id: str | None) -> str | None:
    """Why ``agent_id`` cannot be a Retell agent id, or None."""
    if not agent_id:
        return _("The Retell agent id is empty.")
    if _WHITESPACE.search(agent_id):
        return _(
            "The Retell agent id %(agent)s contains spaces or line breaks: paste only the id "
            "itself (for example agent_1a2b3c...)."
        ) % {"agent": agent_id.strip()[:60]}
    if len(agent_id) > MAX_AGENT_ID:
        return _("The Retell agent id is longer than %(max)d characters.") % {"max": MAX_AGENT_ID}
    return None


def other_company_message(agent: RetellAgent) -> str:
    company = Company.all_objects.filter(pk=agent.company_id).first()
    name = company.name if company is not None else str(agent.company_id)
    if company is not None and company.deleted_at is not None:
        name = _("%(name)s (deleted)") % {"name": name}
    return _(
        "The Retell agent %(agent)s is registered to another company (%(company)s) in "
        "retell_agents: the gateway files that agent's calls under that company. Use the "
        "company's own agent, or correct the registration first."
    ) % {"agent": agent.agent_id, "company": name}


def register_agent(*, company: Company, agent_id: str, name: str | None = None) -> RetellAgent:
    """The ``retell_agents`` row of ``agent_id`` for ``company``, created or brought up to date.

    ``name`` is the agent's name in Retell (None when Retell could not be asked: a new row is
    named by its id, an existing row keeps its name). Refused (ValidationError, nothing
    written) when the id is malformed or registered to another company. Runs in the caller's
    transaction; the row is recorded in the change store like every write.
    """
    problem = agent_id_problem(agent_id)
    if problem:
        raise ValidationError(problem)
    agent = RetellAgent.objects.select_for_update().filter(agent_id=agent_id).first()
    if agent is not None and agent.company_id != company.pk:
        raise ValidationError(other_company_message(agent))
    now = timezone.now().replace(microsecond=0)
    if agent is None:
        agent = RetellAgent(
            agent_id=agent_id,
            name=(name or agent_id)[:255],
            company=company,
            is_active=True,
            active=True,
            sync_status="synced" if name else "pending",
            last_synced_at=now if name else None,
        )
        try:
            with transaction.atomic():
                return save_record(instance=agent)
        except IntegrityError:
            # Registered at the same moment by another save (agent_id is unique).
            raise ValidationError(
                _("The Retell agent %(agent)s was just registered by another save: try again.")
                % {"agent": agent_id}
            ) from None
    changed = []
    if name and agent.name != name[:255]:
        agent.name = name[:255]
        changed.append("name")
    for column in ("is_active", "active"):
        if not getattr(agent, column):
            setattr(agent, column, True)
            changed.append(column)
    if name and changed:
        agent.sync_status, agent.last_synced_at = "synced", now
        changed += ["sync_status", "last_synced_at"]
    if changed:
        save_record(instance=agent, fields=changed)
    return agent
