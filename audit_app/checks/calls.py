"""Calls cannot arrive: how the gateway finds a company for an inbound call (semantics.md §3)."""

from collections import defaultdict

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import (
    company_row,
    number_row,
    number_rows,
    to_e164,
)
from audit_app.registry import Affected, Category, Check, Severity, register
from integrations_app.models import Company, PhoneNumber


@register
class CompaniesWithoutNumber(Check):
    id = "AUD-PHN-001"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Companies without any phone number")
    explanation = gettext_lazy(
        "On an inbound call the gateway looks up the dialled number in phone_numbers. A company "
        "without a row there cannot be called: every call to it is rejected with HTTP 404 "
        '("not configured") or, by a later fallback, booked under company 1.'
    )
    hint = gettext_lazy(
        "Import or add the company's numbers in the phone number admin, in E.164 form and with "
        "a branch."
    )

    def find(self) -> list[Affected]:
        numbers = PhoneNumber.objects.filter(company=OuterRef("pk"))
        rows = Company.objects.filter(~Exists(numbers)).order_by("name", "id").values("id", "name")
        return [company_row(row, _("no row in phone_numbers")) for row in rows]


PROBLEMS = {
    "empty": gettext_lazy("number_normalized is empty: the gateway's lookup never matches it"),
    "not_e164": gettext_lazy("number_normalized %(normalized)s is not in E.164 form"),
    "unparsable": gettext_lazy("number %(number)s is not a phone number the gateway can parse"),
    "differs": gettext_lazy(
        "number_normalized %(normalized)s is not the E.164 form of the number (%(e164)s)"
    ),
}


@register
class UnmatchableNumbers(Check):
    id = "AUD-PHN-002"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Numbers the gateway cannot match")
    explanation = gettext_lazy(
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

    def find(self) -> list[Affected]:
        found = []
        for row in number_rows():
            problem = row.problem
            if problem:
                detail = PROBLEMS[problem] % {
                    "number": row["number"],
                    "normalized": row["number_normalized"],
                    "e164": to_e164(row["number"]),
                }
                found.append(number_row(row, detail))
        return found


@register
class DuplicateNumbers(Check):
    id = "AUD-PHN-003"
    severity = Severity.CRITICAL
    category = Category.CALLS
    title = gettext_lazy("Two or more numbers with the same E.164 form")
    explanation = gettext_lazy(
        "The gateway takes the first phone_numbers row that matches the dialled number, without "
        "any ordering and without looking at is_active or deleted_at. When two rows share an "
        "E.164 form, which company and branch a call reaches is undefined."
    )
    hint = gettext_lazy(
        "Keep one row per number: remove the duplicate, or correct the number that was "
        "entered wrongly."
    )

    def find(self) -> list[Affected]:
        by_form = defaultdict(list)
        for row in number_rows():
            forms = set(row.forms)
            e164 = row.e164
            if e164:
                forms.add(e164)  # the same line, even if it is not routed in this form yet
            for form in forms:
                by_form[form].append(row)
        found, seen = [], set()
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
                detail = _("%(form)s is also the E.164 form of %(others)s") % {
                    "form": form,
                    "others": others,
                }
                found.append(number_row(row, detail))
        return found


@register
class InactiveNumbersStillRouting(Check):
    id = "AUD-PHN-004"
    severity = Severity.WARNING
    category = Category.CALLS
    title = gettext_lazy("Numbers marked inactive or deleted that still route")
    explanation = gettext_lazy(
        "The gateway's lookup does not filter on is_active or deleted_at: a number switched off "
        "or marked deleted in phone_numbers still receives calls and books for its company. "
        "Only changing or removing the row stops the routing."
    )
    hint = gettext_lazy(
        "If the line is gone, delete the row; if it moved, change its company and branch; "
        "otherwise mark it active again."
    )

    def find(self) -> list[Affected]:
        found = []
        for row in number_rows():
            if row.is_active and row.deleted_at is None:
                continue
            if not row.forms:
                continue  # the gateway cannot match it anyway (AUD-PHN-002)
            marks = []
            if not row["is_active"]:
                marks.append(_("marked inactive"))
            if row["deleted_at"] is not None:
                marks.append(
                    _("marked deleted on %(date)s") % {"date": row["deleted_at"].date().isoformat()}
                )
            detail = _("%(marks)s, but the gateway still routes calls to it") % {
                "marks": ", ".join(str(m) for m in marks)
            }
            found.append(number_row(row, detail))
        return found
