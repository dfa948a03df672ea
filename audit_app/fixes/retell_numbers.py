"""Bind a number to its company's agent in Retell (AUD-RTN-003): a write to an external system.

The preview re-reads Retell (the numbers of the stored reconciliation's ``wrong_agent``
findings) and shows, per number, the exact request (method, path, JSON body) and Retell's
binding before and after. `apply_fix` plans again under its lock, so a binding that changed in
Retell since the preview gives a new preview instead of a write.

Who may: on the web, applying needs the permission ``integrations_app.bind_retell_number``
besides ``audit_app.apply_fix`` (the admin's apply view refuses with 403 before anything is
sent; `write` refuses again for a logged-in user without it). ``manage.py audit --fix
AUD-RTN-003`` runs with the operator's own authority, like every management command: whoever
can run commands on the console's host holds the database and the keys already, so no
console permission is checked there (the operation is recorded with source "fix" and no user).

Which key: the gateway's platform key (``GATEWAY_RETELL_API_KEY``, semantics §2) when it is set,
else the company's Retell integration key; each planned request says which.

Recording: each number's change goes into the change store (table ``retell.phone_numbers``,
the E.164 number as key, before/after ``{"inbound_agents": [...]}``) right after Retell
accepted its request, not after the whole batch. Retell cannot be rolled back with the
database, so when a request fails after earlier ones succeeded, `write` does not raise (that
would roll back the records of bindings that did happen): it stops, keeps the records of the
numbers bound, and returns a "partly applied" message that `apply_fix` stores as the record's
summary and the admin shows as an error. When the first request fails nothing was changed and
the fix is refused. A process killed between two requests still loses the uncommitted records
(the fix runs in one database transaction); the next reconciliation shows Retell's real state.
"""

import json
import logging

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.retell_numbers import BIND_FIX
from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.models import ProviderReconciliation
from audit_app.registry import Affected, CheckUnavailable
from changelog.models import Change
from changelog.recording import RowChange, current, record
from integrations_app import reconcile_retell as rr
from integrations_app.connection_tests import testable_integrations
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import GatewayKeyError
from integrations_app.integration_kinds import RETELL
from integrations_app.providers.errors import ProviderError
from integrations_app.providers.retell import RetellClient, agent_id_problem, bind_request
from integrations_app.roles import BIND_RETELL_NUMBER

logger = logging.getLogger("askpro.audit")
TABLE = "retell.phone_numbers"


def request_text(request: dict) -> str:
    return f"{request['method']} {request['path']} {json.dumps(request['json'], sort_keys=True)}"


@register_fix
class BindRetellNumber(Fix):
    id = BIND_FIX
    check_id = "AUD-RTN-003"
    permission = BIND_RETELL_NUMBER
    title = gettext_lazy("Bind numbers to the company's agent in Retell")
    description = gettext_lazy(
        "Asks Retell, one number at a time, to answer the number's calls with the company's "
        "registered agent alone. This changes Retell, not the database; the history records "
        "which agent Retell used before and after."
    )
    detail = gettext_lazy(
        "Sends Retell one request per number: PATCH /update-phone-number/{number} with "
        "inbound_agents = the company's registered agent alone (weight 1). Changes Retell, not "
        "the database; recorded in the history with Retell's binding before and after."
    )

    def plan(self) -> Plan:
        plan = Plan(self)
        company_ids = {
            row.company_id
            for row in ProviderReconciliation.objects.filter(kind=rr.KIND).only(
                "company_id", "findings"
            )
            if any(
                isinstance(f, dict) and f.get("kind") == rr.WRONG_AGENT for f in row.findings or ()
            )
        }
        if not company_ids:
            return plan
        results = rr.reconcile(company_ids=company_ids, store=False)
        unavailable = [r for r in results if not r.available]
        targets = {}
        for result in results:
            if not result.available:
                plan.needs_person.append(
                    Affected(
                        "companies",
                        result.company_id,
                        result.company_name,
                        _("not available: %(reason)s") % {"reason": result.reason},
                    )
                )
                continue
            for finding in result.findings:
                if finding["kind"] != rr.WRONG_AGENT:
                    continue
                label = f"{finding['number']} ({result.company_name})"
                # Only a registered agent (retell_agents) files the calls under the company
                # (semantics §3a); an unregistered one goes to AUD-AGT-001 first.
                expected = finding.get("registered") or []
                if len(expected) != 1:
                    why = (
                        _("the company has no registered Retell agent")
                        if not expected
                        else _(
                            "the company has several agents (%(agents)s): which one is not clear"
                        )
                        % {"agents": ", ".join(expected)}
                    )
                    plan.needs_person.append(
                        Affected("phone_numbers", finding["phone_number_id"], label, why)
                    )
                    continue
                problem = agent_id_problem(expected[0])
                if problem:
                    plan.needs_person.append(
                        Affected("phone_numbers", finding["phone_number_id"], label, problem)
                    )
                    continue
                request = bind_request(finding["number"], expected[0])
                plan.writes.append(
                    PlannedWrite(
                        table=TABLE,
                        action="update",
                        description=_("%(number)s: %(request)s (%(key)s)")
                        % {
                            "number": label,
                            "request": request_text(request),
                            "key": _key_text(result.key_source),
                        },
                        pk=finding["number"],
                        before={"inbound_agents": finding.get("inbound_agents") or []},
                        after={"inbound_agents": request["json"]["inbound_agents"]},
                    )
                )
                targets[finding["number"]] = {
                    "company_id": result.company_id,
                    "agent_id": expected[0],
                    "request": request,
                }
        if unavailable and not plan.writes:
            raise CheckUnavailable("; ".join(f"{r.company_name}: {r.reason}" for r in unavailable))
        plan.context["targets"] = targets
        return plan

    def write(self, plan: Plan) -> str | None:
        """Send the requests in order; record each one as soon as Retell accepted it.

        Returns None when every number was bound, else the "partly applied" message (see the
        module's docstring); raises FixError when nothing was changed.
        """
        context = current()
        user = context.user if context is not None else None
        authenticated = user is not None and getattr(user, "is_authenticated", False)
        if authenticated and not user.has_perm(BIND_RETELL_NUMBER):
            raise PermissionDenied
        targets = plan.context["targets"]
        keys = _keys({t["company_id"] for t in targets.values()})
        bound: list[str] = []
        failure = None
        for write in plan.writes:
            target = targets[write.pk]
            api_key = keys.get(target["company_id"])
            try:
                if api_key is None:
                    raise ProviderError(_("the company's Retell key cannot be read"))
                with RetellClient(api_key=api_key) as client:
                    answer = client.bind(write.pk, target["agent_id"])
            except Exception as error:
                if not bound:
                    if not isinstance(error, ProviderError):
                        raise
                    from audit_app.fixes.service import FixError

                    raise FixError(
                        _("Retell refused %(number)s: %(error)s. Nothing was changed.")
                        % {"number": write.pk, "error": error.message}
                    ) from None
                # Earlier numbers are bound in Retell already: their records stay, stop here.
                if isinstance(error, ProviderError):
                    logger.warning("Retell bind stopped at %s: %s", write.pk, error.message)
                    failure = (write.pk, error.message)
                else:
                    logger.exception("Retell bind stopped at %s", write.pk)
                    failure = (write.pk, type(error).__name__)
                break
            record(
                [
                    RowChange(
                        table=TABLE,
                        pk=write.pk,
                        action=Change.Action.UPDATE,
                        before=write.before,
                        after={"inbound_agents": list(answer.inbound_agents)},
                        company_id=target["company_id"],
                        label=write.pk,
                    )
                ]
            )
            bound.append(write.pk)
        _forget_bound(set(bound))
        if failure is None:
            return None
        return _(
            "Partly applied: %(done)d of %(total)d numbers bound in Retell; %(number)s: "
            "%(error)s. The numbers not bound were not changed and are still listed."
        ) % {
            "done": len(bound),
            "total": len(plan.writes),
            "number": failure[0],
            "error": failure[1],
        }


def _key_text(source: str) -> str:
    if source == rr.PLATFORM:
        return _("sent with the gateway's platform key")
    return _("sent with the company's Retell integration key; the gateway uses its platform key")


def _keys(company_ids) -> dict[int, str]:
    platform = rr.platform_key()
    if platform:  # one account for every company, as the gateway reads it
        return dict.fromkeys(company_ids, platform)
    try:
        encrypter = Encrypter.from_settings()
    except GatewayKeyError:
        return {}
    keys = {}
    for integration in testable_integrations(provider=RETELL.provider).filter(
        company_id__in=company_ids
    ):
        if integration.company_id in keys:
            continue
        api_key, _why = rr.company_key(integration, encrypter)
        if api_key:
            keys[integration.company_id] = api_key
    return keys


def _forget_bound(numbers: set[str]) -> None:
    """The stored reconciliation no longer lists the numbers just bound (two queries)."""
    rows = list(ProviderReconciliation.objects.filter(kind=rr.KIND))
    changed = []
    for row in rows:
        kept = [
            f
            for f in row.findings or ()
            if not (
                isinstance(f, dict)
                and f.get("kind") == rr.WRONG_AGENT
                and f.get("number") in numbers
            )
        ]
        if len(kept) != len(row.findings or ()):
            row.findings = kept
            changed.append(row)
    if changed:
        ProviderReconciliation.objects.bulk_update(changed, ["findings"])
