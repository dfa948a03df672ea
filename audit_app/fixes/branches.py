"""create-main-branch: a "Hauptfiliale" for each live company without a live branch."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from integrations_app.models import Branch, Company
from integrations_app.models.fields import new_uuid
from integrations_app.services import create_rows

MAIN_BRANCH_NAME = "Hauptfiliale"  # data for the gateway, German like its other branches
# Branch columns are narrower than the company's: a value that does not fit is left out.
_LIMITS = {"address": 255, "postal_code": 10, "city": 255}


@register_fix
class CreateMainBranch(Fix):
    id = "create-main-branch"
    per_company = True
    check_id = "AUD-BRN-001"
    title = gettext_lazy("Create a main branch for companies without one")
    description = gettext_lazy(
        'Creates an active branch "Hauptfiliale" for each company without a branch, with the '
        "company's address where it has one. Numbers and staff can then be attached to it."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        companies = Company.objects.filter(
            ~Exists(Branch.objects.filter(company_id=OuterRef("pk")))
        ).order_by("pk")
        for company in companies.only("id", "name", "address", "postal_code", "city"):
            after = {"company_id": company.pk, "name": MAIN_BRANCH_NAME}
            for column, limit in _LIMITS.items():
                value = (getattr(company, column) or "").strip()
                after[column] = value if value and len(value) <= limit else None
            after |= {"is_active": True, "active": True}
            plan.writes.append(
                PlannedWrite(
                    table="branches",
                    action="create",
                    description=_('Branch "%(name)s" for %(company)s')
                    % {"name": MAIN_BRANCH_NAME, "company": company.name},
                    key=f"branch-for-company-{company.pk}",
                    company_id=company.pk,
                    company_name=company.name,
                    after=after,
                )
            )
        return plan

    def write(self, plan: Plan) -> None:
        create_rows(rows=[Branch(id=new_uuid(), **write.after) for write in plan.writes])
