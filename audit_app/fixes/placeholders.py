"""calcom-placeholder, retell-placeholder: a pending, inactive integration without any key.

The row puts the company on the "needs credentials" work list that links to the integration
form; nothing is invented or copied (no key, no ids, empty config). A company that has any row
of the provider already, pending or inactive included, gets nothing new.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import APP
from audit_app.registry import Affected
from integrations_app.integration_kinds import CALCOM, RETELL, Kind
from integrations_app.models import Company, Integration
from integrations_app.models.fields import new_uuid
from integrations_app.services import create_rows

# What `provider` may hold for a kind: its key, and display names the gateway's rules reject
# (AUD-INT-003) but that still mean "this company has such a row".
_SPELLINGS = {
    CALCOM.provider: ("calcom", "cal.com", "cal_com", "cal-com"),
    RETELL.provider: ("retell", "retell ai", "retellai", "retell.ai", "retell_ai"),
}


def provider_rows(kind: Kind):
    """Integration rows of this kind, whatever the provider's spelling."""
    return Integration.objects.annotate(_provider=Lower("provider")).filter(
        _provider__in=_SPELLINGS[kind.provider]
    )


def new_integration(values: dict) -> Integration:
    """A new integration row as the console creates one: its own tenant id, the console user."""
    console_user = settings.GATEWAY_CONSOLE_USER_ID
    return Integration(
        tenant_id=new_uuid(),
        environment="production",
        health_status="unknown",
        created_by=console_user,
        updated_by=console_user,
        **values,
    )


class PlaceholderFix(Fix):
    kind: Kind
    per_company = True
    leaves_open = gettext_lazy(
        "It only creates inactive placeholders: the findings stay until a key is entered in "
        "the integration form and the integration is activated."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        rows = provider_rows(self.kind)
        companies = Company.objects.filter(~Exists(rows.filter(company_id=OuterRef("pk"))))
        for company in companies.order_by("pk").only("id", "name"):
            plan.writes.append(
                PlannedWrite(
                    table="integrations",
                    action="create",
                    description=_(
                        "%(provider)s placeholder for %(company)s: pending, inactive, no key; "
                        "the company then needs its credentials entered in the integration form"
                    )
                    % {"provider": self.kind.name, "company": company.name},
                    key=f"{self.kind.provider}-for-company-{company.pk}",
                    company_id=company.pk,
                    company_name=company.name,
                    after={
                        "company_id": company.pk,
                        "provider": self.kind.provider,
                        "type": self.kind.type,
                        "name": self.kind.name,
                        "status": "pending",
                        "is_active": False,
                        "config": {},
                    },
                )
            )
        # The work list: rows of this kind that are not active yet (placeholders among them).
        waiting = (
            rows.filter(company__deleted_at__isnull=True)
            .exclude(pk__in=rows.active().values("pk"))
            .exclude(
                company_id__in=rows.active().filter(company_id__isnull=False).values("company_id")
            )
            .select_related("company")
            .order_by("company_id", "pk")
        )
        for integration in waiting:
            plan.needs_person.append(
                Affected(
                    table="integrations",
                    pk=integration.pk,
                    label=str(integration),  # "Cal.com · <company>", as its pages
                    detail=_("needs credentials: enter the key in the integration form"),
                    admin=(APP, "integration"),
                )
            )
        return plan

    def write(self, plan: Plan) -> None:
        create_rows(rows=[new_integration(write.after) for write in plan.writes])


@register_fix
class CalcomPlaceholder(PlaceholderFix):
    id = "calcom-placeholder"
    check_id = "AUD-INT-001"
    kind = CALCOM
    title = gettext_lazy("Add a pending Cal.com integration for companies without one")
    description = gettext_lazy(
        "Creates a pending, inactive Cal.com integration without a key for each company that has "
        "none, so the company appears on the work list of missing credentials."
    )


@register_fix
class RetellPlaceholder(PlaceholderFix):
    id = "retell-placeholder"
    check_id = "AUD-INT-002"
    kind = RETELL
    title = gettext_lazy("Add a pending Retell integration for companies without one")
    description = gettext_lazy(
        "Creates a pending, inactive Retell integration without a key for each company that has "
        "none, so the company appears on the work list of missing credentials."
    )
