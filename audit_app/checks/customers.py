"""Customer journey: what the gateway records about a caller (semantics.md §4)."""

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils.translation import gettext_lazy, ngettext

from audit_app.checks.common import CUSTOMER_ADMIN
from audit_app.registry import Affected, Category, Check, Severity, register
from integrations_app.models import Customer, CustomerInteraction


@register
class CallersWithoutInteraction(Check):
    id = "AUD-CUS-001"
    severity = Severity.INFO
    category = Category.CUSTOMERS
    title = gettext_lazy("Customers with calls but no interaction recorded")
    explanation = gettext_lazy(
        "The gateway's customer history (customer_interactions) is what its agents and staff "
        "see of a caller: previous contacts, follow-ups, the journey. A customer who called but "
        "has no interaction recorded appears to the next call as a stranger."
    )
    hint = gettext_lazy(
        "Record the first contact (the fix adds a phone_call interaction at the time of the "
        "customer's first call)."
    )
    fix_id = "first-contact-interactions"

    def find(self) -> list[Affected]:
        live_calls = Q(calls__deleted_at__isnull=True)
        rows = (
            Customer.objects.filter(company__deleted_at__isnull=True)
            .annotate(
                recorded=Exists(CustomerInteraction.objects.filter(customer=OuterRef("pk"))),
                call_total=Count("calls", filter=live_calls),
                first_call=Min("calls__start_timestamp", filter=live_calls),
            )
            .filter(recorded=False, call_total__gt=0)
            .order_by("company__name", "name", "id")
            .values("id", "name", "company__name", "call_total", "first_call")
        )
        found = []
        for row in rows:
            first = row["first_call"]
            detail = ngettext(
                "%(count)d call, on %(date)s, no interaction",
                "%(count)d calls, the first on %(date)s, no interaction",
                row["call_total"],
            ) % {
                "count": row["call_total"],
                "date": first.date().isoformat() if first else "?",
            }
            found.append(
                Affected(
                    table="customers",
                    pk=row["id"],
                    label=f"{row['name']} ({row['company__name'] or '—'})",
                    detail=detail,
                    admin=CUSTOMER_ADMIN,
                )
            )
        return found
