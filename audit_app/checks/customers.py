"""Customer journey: what the gateway records about a caller (semantics.md §4)."""

from django.db.models import Count, Exists, Min, OuterRef, Window
from django.utils.translation import gettext_lazy, ngettext

from audit_app.checks.common import CUSTOMER_ADMIN
from audit_app.registry import Affected, Category, Check, Severity, register
from integrations_app.labels import local_time
from integrations_app.models import Call, Customer, CustomerInteraction

# Customer ids per query of their calls (SQLite binds at most 999 parameters by default).
IDS_PER_QUERY = 900


@register
class CallersWithoutInteraction(Check):
    id = "AUD-CUS-001"
    severity = Severity.INFO
    category = Category.CUSTOMERS
    title = gettext_lazy("Returning callers treated as strangers (no contact history)")
    explanation = gettext_lazy(
        "The agent and the staff see a caller's earlier contacts in the customer history. These"
        " customers called, but no contact is recorded: on their next call they are treated as "
        "strangers."
    )
    detail = gettext_lazy(
        "The gateway's customer history (customer_interactions) is what its agents and staff "
        "see of a caller: previous contacts, follow-ups, the journey. A customer who called but "
        "has no interaction recorded appears to the next call as a stranger."
    )
    hint = gettext_lazy(
        "Record the first contact (the fix adds a phone_call interaction at the time of the "
        "customer's first call)."
    )
    fix_id = "first-contact-interactions"

    paged = True
    # Its time is one query the server spends over calls (no index on (customer_id,
    # deleted_at): see bench/README.md), not Python's: run_all runs it on its own connection.
    server_bound = True

    # At the gateway's size (200,000 customers, 1,000,000 calls) the old shape (every customer
    # LEFT JOINed to its calls and grouped on all its columns) took 17-30 s. Now: which customers
    # are affected is a semi-join (EXISTS a live call, NOT EXISTS an interaction), counted or
    # paged in the database; their calls are aggregated for the listed customers only, in one
    # query over calls.customer_id. See bench/README.md, "Audit at scale".

    def affected(self):
        live_calls = Call.all_objects.filter(customer=OuterRef("pk"), deleted_at__isnull=True)
        return (
            Customer.objects.filter(company__deleted_at__isnull=True)
            .filter(
                ~Exists(CustomerInteraction.objects.filter(customer=OuterRef("pk"))),
                Exists(live_calls),
            )
            .order_by("company__name", "name", "id")
        )

    def find(self) -> list[Affected]:
        return self.rows_of(list(self.affected().values("id", "name", "company__name")))

    def count_and_page(self, limit: int, offset: int = 0) -> tuple[int, list[Affected]]:
        affected = self.affected()
        if not limit:
            return affected.count(), []
        # One pass: the page and, by a window over all affected rows, their number.
        page = list(
            affected.annotate(total=Window(Count("pk"))).values(
                "id", "name", "company__name", "total"
            )[offset : offset + limit]
        )
        if not page:
            return (affected.count() if offset else 0), []
        return page[0]["total"], self.rows_of(page)

    def rows_of(self, customers: list[dict]) -> list[Affected]:
        """The listed customers with their live calls' number and first start: one query."""
        calls = {}
        ids = [c["id"] for c in customers]
        for start in range(0, len(ids), IDS_PER_QUERY):
            calls.update(
                (row["customer_id"], row)
                for row in Call.all_objects.filter(
                    customer_id__in=ids[start : start + IDS_PER_QUERY], deleted_at__isnull=True
                )
                .order_by()
                .values("customer_id")
                .annotate(call_total=Count("pk"), first_call=Min("start_timestamp"))
            )
        found = []
        for customer in customers:
            row = calls.get(customer["id"], {"call_total": 0, "first_call": None})
            first = row["first_call"]
            detail = ngettext(
                "%(count)d call, on %(date)s, no interaction",
                "%(count)d calls, the first on %(date)s, no interaction",
                row["call_total"],
            ) % {
                "count": row["call_total"],
                "date": local_time(first, "DATE_FORMAT") if first else "?",
            }
            found.append(
                Affected(
                    table="customers",
                    pk=customer["id"],
                    label=f"{customer['name']} ({customer['company__name'] or '—'})",
                    detail=detail,
                    admin=CUSTOMER_ADMIN,
                )
            )
        return found
