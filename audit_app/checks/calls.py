"""Calls cannot arrive: how the gateway finds a company for an inbound call (semantics.md §3)."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import company_row
from audit_app.checks.number_pass import DuplicateForms, NumberCheck, grouped_by_form
from audit_app.checks.queried import QueryCheck
from audit_app.registry import Affected, Category, Severity, register
from integrations_app.labels import local_time
from integrations_app.models import Company, PhoneNumber


@register
class CompaniesWithoutNumber(QueryCheck):
    id = "AUD-PHN-001"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Companies callers cannot reach (no phone number)")
    explanation = gettext_lazy(
        "The gateway puts a call through by the number dialled. A company without a phone "
        "number is not reachable: every call is turned away or filed under another company."
    )
    detail = gettext_lazy(
        "On an inbound call the gateway looks up the dialled number in phone_numbers. A company "
        "without a row there cannot be called: every call to it is rejected with HTTP 404 "
        '("not configured") or, by a later fallback, booked under company 1.'
    )
    hint = gettext_lazy(
        "Import or add the company's numbers in the phone number admin, in E.164 form and with "
        "a branch."
    )

    def affected(self):
        numbers = PhoneNumber.objects.filter(company=OuterRef("pk"))
        return Company.objects.filter(~Exists(numbers)).order_by("name", "id").values("id", "name")

    def finding(self, row) -> Affected:
        return company_row(row, _("no phone number"))


PROBLEMS = {
    "empty": gettext_lazy(
        "the number the gateway looks up is empty: the gateway's lookup never matches it"
    ),
    "not_e164": gettext_lazy(
        "the number the gateway looks up, %(normalized)s, is not in the international form"
    ),
    "unparsable": gettext_lazy("number %(number)s is not a phone number the gateway can parse"),
    "differs": gettext_lazy(
        "the number the gateway looks up, %(normalized)s, is not the international form of the "
        "number (%(e164)s)"
    ),
}


@register
class UnmatchableNumbers(NumberCheck):
    id = "AUD-PHN-002"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Numbers whose calls are turned away")
    explanation = gettext_lazy(
        "The number is stored in a form the gateway does not recognise when a call comes in (it"
        " needs the international form, +49 …): every call to it is turned away."
    )
    detail = gettext_lazy(
        "On a call the gateway normalises the dialled number to E.164 and looks for a row whose "
        "number_normalized equals it (or equals it without the plus, or whose number equals "
        'it). Nothing fills number_normalized on save: a number entered as "+49 30 1234567" '
        "without it, or with a value that is not its E.164 form, is never found and the call is "
        "rejected with HTTP 404."
    )
    hint = gettext_lazy(
        "Fill number_normalized and phone_number with the E.164 form of the number (the fix "
        "does this where the number parses unambiguously)."
    )
    fix_id = "normalize-numbers"

    def judge(self, row):
        return row.problem

    def describe(self, row, reason) -> str:
        return PROBLEMS[reason] % {
            "number": row.number,
            "normalized": row.number_normalized,
            "e164": row.e164,
        }


@register
class DuplicateNumbers(DuplicateForms):
    id = "AUD-PHN-003"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Numbers entered twice: calls may reach the wrong company or branch")
    explanation = gettext_lazy(
        "The same number is stored more than once. The gateway takes whichever entry it finds "
        "first, so it is a matter of chance which company and branch a call reaches and where "
        "its booking lands."
    )
    detail = gettext_lazy(
        "The gateway takes the first phone_numbers row that matches the dialled number, without "
        "any ordering and without looking at is_active or deleted_at. When two rows share an "
        "E.164 form, which company and branch a call reaches is undefined."
    )
    hint = gettext_lazy(
        "Keep one row per number: remove the duplicate, or correct the number that was "
        "entered wrongly."
    )

    def findings(self, rows):
        # The pass hands over every number that shares a form with another (and a few more):
        # grouped by their real forms here.
        by_form = grouped_by_form(rows)
        seen = set()
        for form in sorted(by_form):
            group = by_form[form]
            if len(group) < 2:
                continue
            for row in group:
                if row.id in seen:
                    continue
                seen.add(row.id)
                others = ", ".join(
                    f"{o['number']} ({o['company__name'] or '—'})" for o in group if o is not row
                )
                detail = _("%(form)s is also the international form of %(others)s") % {
                    "form": form,
                    "others": others,
                }
                yield row, detail


@register
class InactiveNumbersStillRouting(NumberCheck):
    id = "AUD-PHN-004"
    severity = Severity.WARNING
    category = Category.CALLS
    title = gettext_lazy("Switched-off numbers that still take calls")
    explanation = gettext_lazy(
        "These numbers are marked inactive or deleted, but the gateway does not look at that "
        "mark: they still take calls and book for their company. Only changing or removing the "
        "entry ends that."
    )
    detail = gettext_lazy(
        "The gateway's lookup does not filter on is_active or deleted_at: a number switched off "
        "or marked deleted in phone_numbers still receives calls and books for its company. "
        "Only changing or removing the row stops the routing."
    )
    hint = gettext_lazy(
        "If the line is gone, delete the row; if it moved, change its company and branch; "
        "otherwise mark it active again."
    )

    def judge(self, row):
        # marked inactive or deleted, and still matched (AUD-PHN-002 has the others)
        return (not row.is_active or row.deleted_at is not None) and bool(row.forms)

    def describe(self, row, reason) -> str:
        marks = []
        if not row.is_active:
            marks.append(_("marked inactive"))
        if row.deleted_at is not None:
            deleted = local_time(row.deleted_at, "DATE_FORMAT")
            marks.append(_("marked deleted on %(date)s") % {"date": deleted})
        return _("%(marks)s, but the gateway still routes calls to it") % {
            "marks": ", ".join(str(m) for m in marks)
        }
