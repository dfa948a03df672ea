"""The company page as the place to configure a company: its parts above the form.

- its integrations (provider, status, health, last test, key fingerprint) with "set up" for
  each kind it has none of, "change" and "test the connection" (a POST with CSRF, no script);
- its branches, numbers and staff as counts linked to the filtered lists;
- its open findings in the latest audit snapshot (audit_app/company_findings.py);
- what sets each flag of the companies table and what the gateway does with it (FLAG_HELP).

Queries: the company row already carries the counts (CompanyAdmin.get_queryset annotates
them); one query reads its integrations, the findings a fixed few (company_findings.py).
Nothing here runs a query per row, so a company with 300 branches costs what one with 3 does.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext, pgettext_lazy

from integrations_app import roles
from integrations_app.admin.credential_forms import stored_key_state
from integrations_app.connection_tests import TESTABLE_PROVIDERS
from integrations_app.integration_kinds import KINDS
from integrations_app.models import Branch, Integration, PhoneNumber, Staff
from integrations_app.models.integrations import counts_as_active

# A company has a handful of integrations; the page lists at most this many (the rest: the
# integrations' list, filtered for the company).
INTEGRATIONS_SHOWN = 50

# What sets each flag (and the Cal.com / Retell columns) of the companies table, and what the
# gateway does with it (semantics.md §2-§3; the writes: integrations_app/credentials.py).
FLAG_HELP = {
    "is_active": _(
        "Set by hand only (here or in the gateway's own admin). The gateway finds a company for "
        "a call through its numbers and Retell agents and does not check this flag: calls "
        "still arrive and book while it is off. To stop calls, change or remove the numbers."
    ),
    "active": _(
        "The gateway's older column beside “active”, set by hand only. The call routing does "
        "not read it either; keep it equal to “active”."
    ),
    "retell_enabled": _(
        "Set by hand only: no form, fix or import of the console changes it, and saving the "
        "Retell integration leaves it as it is. The call routing (number or agent → company) "
        "does not read it: calls arrive and book whether it is on or off."
    ),
    "retell_agent_id": _(
        "Written when the Retell integration of this company is saved (its agent id), which "
        "also registers the agent in retell_agents: the gateway finds a call's company by that "
        "registration first. A branch's own agent id overrides this one."
    ),
    "calcom_team_id": _(
        "Written when the Cal.com integration of this company is saved. The gateway imports "
        "the event types of this Cal.com team as the company's services; empty: nothing is "
        "imported."
    ),
    "calcom_team_slug": _(
        "Written when the Cal.com integration of this company is saved (the team's slug)."
    ),
    "calcom_event_type_id": _(
        "Written when the Cal.com integration of this company is saved (its event type)."
    ),
    "billing_status": _("Set by hand; the call routing and the bookings do not read it."),
}

_STATUS = {
    "active": _("active"),
    "inactive": _("inactive"),
    "error": _("error"),
    "syncing": pgettext_lazy("integration status", "syncing"),
    "pending": pgettext_lazy("integration status", "pending"),
    "suspended": pgettext_lazy("integration status", "suspended"),
}
_HEALTH = {
    "healthy": _("healthy"),
    "degraded": _("degraded"),
    "unhealthy": _("unhealthy"),
    "unknown": _("not tested"),
}


@dataclass
class IntegrationLine:
    provider: str  # the provider's label ("Cal.com (appointment booking)")
    name: str
    active: bool  # counts as active (the one rule: models/integrations.py)
    status: str
    health: str  # healthy, degraded, unhealthy, unknown (the CSS class)
    health_label: str
    last_test: object  # the newer of last_success_at and last_error_at, or None
    last_error: str
    key: str  # "not set" / "set · fingerprint …" / why it cannot be read
    change_url: str
    can_change: bool  # else the link says "view": the page opens read only
    test_url: str  # "" when it cannot be tested or the user may not


@dataclass
class SetUpLine:
    provider: str
    add_url: str


@dataclass
class CountLink:
    label: str
    count: int
    url: str


def _integration_line(row: Integration, user) -> IntegrationLine:
    kind = KINDS.get(row.provider or "")
    health = row.health_status if row.health_status in _HEALTH else "unknown"
    tests = [t for t in (row.last_success_at, row.last_error_at) if t is not None]
    can_test = row.provider in TESTABLE_PROVIDERS and user.has_perm(roles.TEST_CONNECTION)
    return IntegrationLine(
        provider=str(kind.label if kind else row.provider or "—"),
        name=row.name,
        active=counts_as_active(row.is_active, row.status),
        status=str(_STATUS.get(row.status, row.status))
        if row.is_active
        else str(pgettext_lazy("integration", "switched off")),
        health=health,
        health_label=str(_HEALTH[health]),
        last_test=max(tests) if tests else None,
        last_error=(row.last_error or "") if health != "healthy" else "",
        key=stored_key_state(row.api_key),
        change_url=reverse("admin:integrations_app_integration_change", args=[row.pk]),
        can_change=user.has_perm("integrations_app.change_integration"),
        test_url=reverse("admin:integrations_app_integration_test", args=[row.pk])
        if can_test
        else "",
    )


def integrations(company, user) -> tuple[list[IntegrationLine], list[SetUpLine]]:
    """The company's integrations (one query), and a "set up" link for each kind it lacks."""
    rows = list(
        Integration.objects.filter(company_id=company.pk)
        .order_by("provider", "-is_active", "-id")
        .only(
            "id", "name", "provider", "status", "is_active", "health_status", "last_error",
            "last_success_at", "last_error_at", "api_key",
        )[:INTEGRATIONS_SHOWN]
    )  # fmt: skip
    lines = [_integration_line(row, user) for row in rows]
    present = {row.provider for row in rows}
    add = reverse("admin:integrations_app_integration_add")
    can_add = user.has_perm("integrations_app.add_integration")
    missing = [
        SetUpLine(
            str(kind.label),
            f"{add}?{urlencode({'company': company.pk, 'provider': kind.provider})}"
            if can_add
            else "",
        )
        for kind in KINDS.values()
        if kind.provider not in present
    ]
    return lines, missing


# What the counts count, singular and plural ("1 phone number", "2 phone numbers").
COUNTED = (
    (Branch, "branch_count", lambda n: npgettext("count", "branch", "branches", n)),
    (
        PhoneNumber,
        "phone_number_count",
        lambda n: npgettext("count", "phone number", "phone numbers", n),
    ),
    (Staff, "staff_count", lambda n: npgettext("count", "staff member", "staff members", n)),
)


def counts(company) -> list[CountLink]:
    """Branches, numbers and staff: the counts the company row carries, each linked to its
    list filtered for the company (no query)."""
    query = urlencode({"company__id__exact": company.pk})
    lines = []
    for model, attribute, label in COUNTED:
        count = getattr(company, attribute, 0) or 0
        url = reverse(f"admin:integrations_app_{model._meta.model_name}_changelist")
        lines.append(CountLink(label(count), count, f"{url}?{query}"))
    return lines


def context(request, company) -> dict:
    """The parts of the page above the form (templates/admin/integrations_app/company/)."""
    from audit_app import company_findings

    lines, missing = integrations(company, request.user)
    return {
        "company_integrations": lines,
        "company_missing_integrations": missing,
        "company_integrations_url": reverse("admin:integrations_app_integration_changelist")
        + "?"
        + urlencode({"company__id__exact": company.pk}),
        "company_counts": counts(company),
        "company_findings": company_findings.for_company(company),
        "can_view_checks": request.user.has_perm(roles.VIEW_DASHBOARD),
        "dashboard_url": reverse("admin:audit_app_dashboard"),
    }
