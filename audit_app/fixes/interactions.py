"""first-contact-interactions: a `phone_call` interaction at the customer's first call.

For each live customer with live calls and no customer_interactions row at all. The columns
follow semantics.md §4: the enum value `phone_call`, channel `phone`, `interaction_at` NOT NULL
(the first call's start, else its creation), `branch_id` left NULL (bigint against UUID keys).
"""

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import APP, stamp
from audit_app.registry import Affected
from integrations_app.labels import local_time
from integrations_app.models import Call, Customer, CustomerInteraction
from integrations_app.services import create_rows


def _first_calls():
    return Call.objects.filter(customer_id=OuterRef("pk")).order_by(
        Coalesce("start_timestamp", "created_at").asc(nulls_last=True), "pk"
    )


@register_fix
class FirstContactInteractions(Fix):
    id = "first-contact-interactions"
    check_id = "AUD-CUS-001"
    title = gettext_lazy("Record the first contact of customers who called")
    description = gettext_lazy(
        "Records a phone-call interaction at the time of the first call for each customer who "
        "called and has no interaction recorded yet."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        customers = (
            Customer.objects.filter(Exists(Call.objects.filter(customer_id=OuterRef("pk"))))
            .exclude(Exists(CustomerInteraction.objects.filter(customer_id=OuterRef("pk"))))
            .annotate(first_call_id=Subquery(_first_calls().values("pk")[:1]))
            .order_by("pk")
            .only("id", "name", "company_id")
        )
        customers = list(customers)
        calls = Call.objects.in_bulk(
            [c.first_call_id for c in customers],
        )
        context = {}
        for customer in customers:
            call = calls[customer.first_call_id]
            moment = call.start_timestamp or call.created_at
            problem = None
            if customer.company_id is None:
                problem = _("the customer has no company")
            elif moment is None:
                problem = _("the first call has no time")
            if problem:
                plan.needs_person.append(
                    Affected(
                        table="customers",
                        pk=customer.pk,
                        label=customer.name,
                        detail=problem,
                        admin=(APP, "customer"),
                    )
                )
                continue
            moment = moment.replace(microsecond=0)
            key = f"first-contact-of-customer-{customer.pk}"
            context[key] = moment
            plan.writes.append(
                PlannedWrite(
                    table="customer_interactions",
                    action="create",
                    description=_("Phone call of %(customer)s on %(date)s (call %(call)s)")
                    % {
                        "customer": customer.name,
                        "date": local_time(moment),
                        "call": call.retell_call_id,
                    },
                    key=key,
                    after={
                        "customer_id": customer.pk,
                        "company_id": customer.company_id,
                        "interaction_type": "phone_call",
                        "channel": "phone",
                        "interaction_at": stamp(moment),
                        "call_id": call.retell_call_id,
                        "branch_id": None,
                    },
                )
            )
        plan.context["moments"] = context
        return plan

    def write(self, plan: Plan) -> None:
        rows = []
        for write in plan.writes:
            values = dict(write.after)
            values.pop("branch_id")  # NULL: the model leaves `branch_ref` unset
            values["interaction_at"] = plan.context["moments"][write.key]
            rows.append(
                CustomerInteraction(
                    requires_follow_up=False,
                    follow_up_completed=False,
                    **values,
                )
            )
        create_rows(rows=rows)
