"""Retell's numbers beside the gateway's (semantics.md §3, §3a), from the last stored
reconciliation (``manage.py reconcile_retell``): the audit never calls Retell itself.

No stored reconciliation: the checks cannot judge (CheckUnavailable). A company whose provider
could not be read is a row "not available" with the reason, never counted as in sync.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import COMPANY_ADMIN, NUMBER_ADMIN
from audit_app.models import ProviderReconciliation
from audit_app.registry import (
    Affected,
    Category,
    Check,
    CheckUnavailable,
    Severity,
    register,
    shared,
)
from integrations_app import reconcile_retell as rr
from integrations_app.labels import local_time

BIND_FIX = "retell-bind-number"


def stored_results() -> list[ProviderReconciliation]:
    """The stored results; [] when no company has a Retell integration (nothing to compare);
    CheckUnavailable when there are, but none was compared or none could be read. Read once
    per audit run (three checks read them)."""
    rows = shared(("reconciliation", rr.KIND), _stored_rows)
    if not rows and not shared(("configured", rr.KIND), rr.companies_configured):
        return []
    if not rows:
        raise CheckUnavailable(
            _("Retell's numbers have not been compared yet: run manage.py reconcile_retell")
        )
    if not any(row.available for row in rows):
        raise CheckUnavailable(
            _("Retell could not be read for any company: %(reasons)s")
            % {"reasons": "; ".join(f"{r.company_name}: {r.reason}" for r in rows)}
        )
    return rows


def _stored_rows() -> list[ProviderReconciliation]:
    return list(
        ProviderReconciliation.objects.filter(kind=rr.KIND).order_by("company_name", "company_id")
    )


def agents_text(entries) -> str:
    ids = [e.get("agent_id", "") for e in entries or () if isinstance(e, dict)]
    return ", ".join(ids) if ids else _("no agent")


class _RetellNumbersCheck(Check):
    category = Category.CALLS
    kinds: tuple[str, ...] = ()

    def find(self) -> list[Affected]:
        found = []
        for result in stored_results():
            checked = local_time(result.checked_at)
            if not result.available:
                found.append(
                    Affected(
                        table="companies",
                        pk=result.company_id,
                        label=result.company_name or str(result.company_id),
                        detail=_("not available (%(checked)s): %(reason)s")
                        % {"checked": checked, "reason": result.reason},
                        admin=COMPANY_ADMIN,
                    )
                )
                continue
            for finding in result.findings or ():
                if isinstance(finding, dict) and finding.get("kind") in self.kinds:
                    found.append(self.row(result, finding, checked))
        return found

    def row(self, result, finding: dict, checked: str) -> Affected:
        raise NotImplementedError


@register
class RetellNumbersMissingInDatabase(_RetellNumbersCheck):
    id = "AUD-RTN-001"
    severity = Severity.CRITICAL
    kinds = (rr.MISSING_IN_DB,)
    title = gettext_lazy("Calls to these numbers are turned away (number unknown to the gateway)")
    explanation = gettext_lazy(
        "The phone service (Retell) answers calls on these numbers, but the gateway does not "
        "know which company they belong to: every call is turned away."
    )
    detail = gettext_lazy(
        "Retell answers calls to these numbers, but no phone_numbers row routes them: the "
        "gateway's call_inbound path finds no company and rejects the call."
    )
    hint = gettext_lazy("Add the number to the company it belongs to, or release it in Retell.")

    def row(self, result, finding, checked):
        return Affected(
            table="retell.phone_numbers",
            pk=finding.get("number", ""),
            label=f"{finding.get('number', '')} ({result.company_name})",
            detail=_("in %(company)s's Retell account, answered by %(agents)s (%(checked)s)")
            % {
                "company": result.company_name,
                "agents": agents_text(finding.get("inbound_agents")),
                "checked": checked,
            },
        )


@register
class DatabaseNumbersMissingInRetell(_RetellNumbersCheck):
    id = "AUD-RTN-002"
    severity = Severity.WARNING
    kinds = (rr.MISSING_IN_RETELL, rr.UNPARSABLE)
    title = gettext_lazy("Numbers no call reaches (missing at the phone service)")
    explanation = gettext_lazy(
        "The gateway would put these numbers through to their company, but the phone service "
        "(Retell) does not have them: no call on them reaches the company."
    )
    detail = gettext_lazy(
        "The gateway routes these numbers to the company, but the company's Retell account "
        "does not have them (or they do not parse as phone numbers): no call reaches them "
        "through Retell."
    )
    hint = gettext_lazy("Correct or deactivate the number, or add it to the Retell account.")

    def row(self, result, finding, checked):
        if finding["kind"] == rr.UNPARSABLE:
            detail = _("%(number)s does not parse as a phone number") % {
                "number": finding.get("number", "")
            }
        else:
            detail = _("not in %(company)s's Retell account (%(checked)s)") % {
                "company": result.company_name,
                "checked": checked,
            }
        return Affected(
            table="phone_numbers",
            pk=finding.get("phone_number_id", ""),
            label=f"{finding.get('number', '')} ({result.company_name})",
            detail=detail,
            admin=NUMBER_ADMIN,
        )


@register
class NumbersNotBoundToCompanyAgent(_RetellNumbersCheck):
    id = "AUD-RTN-003"
    severity = Severity.CRITICAL
    kinds = (rr.WRONG_AGENT,)
    fix_id = BIND_FIX
    title = gettext_lazy("Calls to these numbers are answered by another agent")
    explanation = gettext_lazy(
        "The phone service hands calls on this number to an agent that is not the company's "
        "own: callers talk to another agent, and their calls and bookings may be filed under "
        "another company."
    )
    detail = gettext_lazy(
        "Retell hands the number's inbound calls to the agents in its inbound_agents; since "
        "2026-02-18 the gateway files a call under the company of that agent (retell_agents). "
        "When none of them is the company's registered agent, the company's calls go to "
        "another agent and possibly another company."
    )
    hint = gettext_lazy("Bind the number to the company's agent in Retell (fix with preview).")

    def row(self, result, finding, checked):
        expected = finding.get("expected") or []
        return Affected(
            table="phone_numbers",
            pk=finding.get("phone_number_id", ""),
            label=f"{finding.get('number', '')} ({result.company_name})",
            detail=_("Retell: %(agents)s; the company's agent: %(expected)s (%(checked)s)")
            % {
                "agents": agents_text(finding.get("inbound_agents")),
                "expected": ", ".join(expected) if expected else _("none registered"),
                "checked": checked,
            },
            admin=NUMBER_ADMIN,
        )
