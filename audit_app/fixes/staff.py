"""attach-staff-to-branch: staff whose branch is missing or deleted get the company's branch.

`staff.branch_id` is NOT NULL without a foreign key, so it can name a branch that does not
exist (semantics.md §4); the gateway then finds nobody to book at any branch.
"""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import APP
from audit_app.registry import Affected
from integrations_app.models import Branch, Staff
from integrations_app.services import update_rows


@register_fix
class AttachStaffToBranch(Fix):
    id = "attach-staff-to-branch"
    check_id = "AUD-STF-001"
    title = gettext_lazy("Attach staff without a branch to the company's branch")
    description = gettext_lazy(
        "Gives each staff member whose branch is missing or deleted the branch of their company, "
        "where the company has exactly one. The others need a person."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        staff = list(
            Staff.objects.exclude(branch_id__in=Branch.objects.values("id"))
            .select_related("company")
            .only("id", "name", "branch_id", "company_id", "company__name", "company__deleted_at")
            .order_by("company_id", "name", "pk")
        )
        branches = defaultdict(list)
        for branch in Branch.objects.filter(company_id__in={s.company_id for s in staff}).only(
            "id", "name", "company_id"
        ):
            branches[branch.company_id].append(branch)
        for member in staff:
            company = member.company
            found = branches.get(member.company_id, [])
            if company.deleted_at is not None or len(found) != 1:
                if company.deleted_at is not None:
                    detail = _("the company %(company)s is deleted")
                elif not found:
                    detail = _("%(company)s has no branch")
                else:
                    detail = _("%(company)s has %(count)d branches: choose one")
                plan.needs_person.append(
                    Affected(
                        table="staff",
                        pk=member.pk,
                        label=member.name,
                        detail=detail % {"company": company.name, "count": len(found)},
                        admin=(APP, "staff"),
                    )
                )
                continue
            branch = found[0]
            plan.writes.append(
                PlannedWrite(
                    table="staff",
                    action="update",
                    description=_("%(staff)s works at %(branch)s (%(company)s)")
                    % {"staff": member.name, "branch": branch.name, "company": company.name},
                    pk=member.pk,
                    before={"branch_id": member.branch_id},
                    after={"branch_id": branch.pk},
                )
            )
        return plan

    def write(self, plan: Plan) -> None:
        update_rows(
            model=Staff,
            values={write.pk: {"branch_id": write.after["branch_id"]} for write in plan.writes},
        )
