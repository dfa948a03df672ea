"""Bookings break: a call's availability and booking functions need the line's company AND
branch (semantics.md §3-4)."""

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import (
    STAFF_ADMIN,
    branch_row,
    company_row,
)
from audit_app.checks.number_pass import NumberCheck
from audit_app.checks.queried import QueryCheck
from audit_app.registry import Affected, Category, Severity, register
from integrations_app.models import Branch, Company, Staff


@register
class NumbersWithoutBranch(NumberCheck):
    id = "AUD-PHN-005"
    severity = Severity.CRITICAL
    category = Category.BOOKINGS
    title = gettext_lazy("Lines where callers cannot book (number without a branch)")
    explanation = gettext_lazy(
        "Calls on this number are answered, but a booking needs the branch of the number "
        "called: every booking attempt on this line fails."
    )
    detail = gettext_lazy(
        "The gateway's functions a call uses for availability and booking take both company_id and "
        "branch_id from the phone_numbers row the call came in on. A number without a branch "
        "receives the call, but every booking on that line fails."
    )
    hint = gettext_lazy(
        "Give the number a branch of its company (the fix does this where the company has "
        "exactly one branch)."
    )
    fix_id = "attach-numbers-to-branch"

    def judge(self, row):
        return row.branch_id is None

    def describe(self, row, reason) -> str:
        return _("no branch assigned")


@register
class NumbersWithWrongBranch(NumberCheck):
    id = "AUD-PHN-006"
    severity = Severity.CRITICAL
    category = Category.BOOKINGS
    title = gettext_lazy("Lines whose bookings fail or land with another company (wrong branch)")
    explanation = gettext_lazy(
        "The number points to a branch that was deleted or belongs to another company. Bookings"
        " on this line then fail, or land in the other company's calendar."
    )
    detail = gettext_lazy(
        "A call books at the branch of its phone_numbers row. If that branch is soft-deleted the "
        "gateway does not find it and the booking fails; if it belongs to another company, the "
        "call books that company's calendar with the caller's company's services."
    )
    hint = gettext_lazy("Attach the number to a live branch of its own company.")

    def judge(self, row):
        if row.branch_id is None:
            return None  # AUD-PHN-005
        if row.branch__name is None:
            return "missing"
        if row.branch__deleted_at is not None:
            return "deleted"
        if row.branch__company_id != row.company_id:
            return "other company"
        return None

    def describe(self, row, reason) -> str:
        if reason == "missing":
            return _("branch %(branch)s does not exist") % {"branch": row.branch_id}
        if reason == "deleted":
            return _("branch %(branch)s is deleted") % {"branch": row.branch__name}
        return _("branch %(branch)s belongs to another company (%(company)s)") % {
            "branch": row.branch__name,
            "company": row.branch__company__name,
        }


@register
class CompaniesWithoutBranch(QueryCheck):
    id = "AUD-BRN-001"
    severity = Severity.CRITICAL
    category = Category.BOOKINGS
    title = gettext_lazy("Companies that cannot take bookings by phone (no branch)")
    explanation = gettext_lazy(
        "Bookings, staff and phone numbers belong to a branch. A company without an active "
        "branch cannot take a single booking over the phone."
    )
    detail = gettext_lazy(
        "Bookings, staff and phone numbers hang on a branch: the gateway's booking functions "
        "need a branch_id and its default-branch lookup finds none. A company without a live "
        "branch cannot take a booking by phone."
    )
    hint = gettext_lazy(
        'Create a main branch ("Hauptfiliale") for the company (the fix does this).'
    )
    fix_id = "create-main-branch"

    def affected(self):
        branches = Branch.objects.filter(company=OuterRef("pk"))
        return Company.objects.filter(~Exists(branches)).order_by("name", "id").values("id", "name")

    def finding(self, row) -> Affected:
        return company_row(row, _("no live branch"))


def live_branches():
    """The live branches of live companies (the branches AUD-BRN-002 and the staffing measure
    look at)."""
    return Branch.objects.filter(company__deleted_at__isnull=True)


def live_staff():
    return Staff.all_objects.filter(deleted_at__isnull=True)


def understaffed_branches(minimum: int):
    """The live branches with fewer than ``minimum`` live staff, by company name, name and id,
    each with its staff count (values()).

    At the gateway's size (20,000 branches, 60,000 staff) the branches that have enough staff
    are one grouped pass over staff, which MariaDB makes once (a materialised semi-join); only
    the branches listed get their count, by a correlated count over staff.branch_id. Filtering
    on the correlated count instead evaluated it twice per branch, and holding every branch
    with its count for the whole audit cost 7.6 MiB (issue 13: memory flat)."""
    if minimum <= 0:
        return Branch.objects.none()
    staffed = (
        live_staff()
        .filter(branch_id__isnull=False)  # NOT IN over a NULL would exclude every branch
        .order_by()
        .values("branch_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=minimum)
        .values("branch_id")
    )
    count = (
        live_staff()
        .filter(branch_id=OuterRef("pk"))
        .order_by()
        .values("branch_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        live_branches()
        .exclude(pk__in=staffed)
        .annotate(staff_count=Coalesce(Subquery(count), 0))
        .order_by("company__name", "name", "id")
        .values("id", "name", "company__name", "staff_count")
    )


def staffing_totals() -> tuple[int, int]:
    """(live staff on live branches of live companies, those branches): the staffing measure,
    two counts."""
    staff = live_staff().filter(branch_id__in=live_branches().values("pk")).count()
    return staff, live_branches().count()


@register
class UnderstaffedBranches(QueryCheck):
    id = "AUD-BRN-002"
    severity = Severity.WARNING
    category = Category.BOOKINGS
    title = gettext_lazy("Branches with few or no bookable times (too few staff)")
    explanation = gettext_lazy(
        "Callers are offered appointments with the staff of the branch they called. A branch "
        "with fewer staff than the minimum has few or no free times to offer, and one absence "
        "leaves it with none."
    )
    detail = gettext_lazy(
        "The gateway offers and books appointments with the staff of the branch a call came in "
        "on. A branch with fewer staff than the minimum has few or no bookable slots, and an "
        "absence leaves it without any."
    )
    hint = gettext_lazy(
        "Add staff to the branch, or attach existing staff to it (AUDIT_MIN_STAFF_PER_BRANCH "
        "sets the minimum)."
    )

    def affected(self):
        return understaffed_branches(settings.AUDIT_MIN_STAFF_PER_BRANCH)

    def finding(self, row) -> Affected:
        return branch_row(
            row,
            _("%(count)d staff, minimum %(minimum)d")
            % {"count": row["staff_count"], "minimum": settings.AUDIT_MIN_STAFF_PER_BRANCH},
        )


@register
class StaffWithoutBranch(QueryCheck):
    id = "AUD-STF-001"
    severity = Severity.WARNING
    category = Category.BOOKINGS
    title = gettext_lazy("Staff who never get a booking (branch missing or deleted)")
    explanation = gettext_lazy(
        "The gateway offers appointments with the staff of a branch. These people belong to a "
        "branch that does not exist or was deleted, so no caller is ever booked with them."
    )
    detail = gettext_lazy(
        "staff.branch_id is NOT NULL but has no foreign key in the gateway: it can name a branch "
        "that does not exist or is soft-deleted. The gateway looks for staff by branch, so "
        "such a person never gets a booking."
    )
    hint = gettext_lazy(
        "Attach the person to a live branch of their company (the fix does this where the "
        "company has exactly one branch)."
    )
    fix_id = "attach-staff-to-branch"

    def affected(self):
        # staff.branch_id may name no branch at all: which staff have no live branch is an
        # anti-join on the branches' primary key (NOT EXISTS); the branch's name is read for
        # the listed staff only. Filtering on the name and deleted_at subqueries ran three
        # correlated subqueries per person (1.5 s for 60,000 staff).
        branch = Branch.all_objects.filter(pk=OuterRef("branch_id"))
        return (
            Staff.objects.filter(company__deleted_at__isnull=True)
            .filter(~Exists(branch.filter(deleted_at__isnull=True)))
            .annotate(branch_name=Subquery(branch.values("name")[:1]))
            .order_by("company__name", "name", "id")
            .values("id", "name", "company__name", "branch_id", "branch_name")
        )

    def finding(self, row) -> Affected:
        if row["branch_id"] is None:
            detail = _("no branch assigned")
        elif row["branch_name"] is None:
            detail = _("the assigned branch %(branch)s does not exist") % {
                "branch": row["branch_id"]
            }
        else:
            detail = _("branch %(branch)s is deleted") % {"branch": row["branch_name"]}
        return Affected(
            table="staff",
            pk=row["id"],
            label=f"{row['name']} ({row['company__name']})",
            detail=detail,
            admin=STAFF_ADMIN,
        )
