"""normalize-numbers and attach-numbers-to-branch: what an inbound call needs (semantics.md §3).

The gateway finds a number's row by `number_normalized` (or `number`, some paths
`phone_number`) equal to the E.164 form, and books with the row's branch. Phone numbers have
no soft delete for the gateway: every row routes, so every row is considered.
"""

from collections import Counter, defaultdict

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import APP
from audit_app.registry import Affected
from integrations_app.models import Branch, PhoneNumber
from integrations_app.phone import (
    GATEWAY_REGIONS,
    ROUTING_COLUMNS,
    claimed_forms,
    is_valid,
    routing_values,
    to_e164,
)
from integrations_app.services import update_rows

_E164_COLUMNS = ROUTING_COLUMNS


def _number_row(number: PhoneNumber, detail: str) -> Affected:
    return Affected(
        table="phone_numbers",
        pk=number.pk,
        label=number.number,
        detail=detail,
        admin=(APP, "phonenumber"),
    )


def unambiguous_e164(raw: str, country: str | None) -> tuple[str | None, str | None]:
    """(E.164 form, None) or (None, why not).

    The form is the gateway's own (to_e164). A number written without its country code is
    taken only when the company's country, if the gateway knows it, reads it the same way:
    "030 1234567" of an Austrian company is no German number.
    """
    e164 = to_e164(raw)
    if e164 is None:
        return None, _("not a valid phone number: correct it by hand")
    text = raw.strip()
    region = (country or "").upper()
    if not text.startswith(("+", "00")) and region in GATEWAY_REGIONS:
        try:
            local = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            local = None
        if local is not None and is_valid(local):
            other = phonenumbers.format_number(local, phonenumbers.PhoneNumberFormat.E164)
            if other != e164:
                return None, _("ambiguous without its country code: %(a)s or %(b)s") % {
                    "a": e164,
                    "b": other,
                }
    return e164, None


@register_fix
class NormalizeNumbers(Fix):
    id = "normalize-numbers"
    check_id = "AUD-PHN-002"
    title = gettext_lazy("Store phone numbers in the international form the gateway matches")
    description = gettext_lazy(
        "Writes each number in its international form (+49 …) into every field the gateway "
        "reads it from, where the number reads unambiguously and no other number has that "
        "form already."
    )
    detail = gettext_lazy(
        "Writes the E.164 form of each number into number, number_normalized and phone_number "
        "where the number reads unambiguously and no other row has that form already."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        numbers = list(
            PhoneNumber.objects.select_related("company")
            .only(*_E164_COLUMNS, "id", "company_id", "company__country", "company__name")
            .order_by("number", "pk")
        )
        # Every form a row claims now (the duplicate rule of integrations_app.phone), to refuse
        # a second row with the same form.
        claims = {number.pk: claimed_forms(number) for number in numbers}
        forms = Counter(form for claimed in claims.values() for form in claimed)
        candidates = []
        for number in numbers:
            country = number.company.country if number.company_id and number.company else None
            e164, problem = unambiguous_e164(number.number, country)
            current = {column: getattr(number, column) for column in _E164_COLUMNS}
            if e164 is not None and all(value == e164 for value in current.values()):
                continue  # routes as it is
            if problem:
                plan.needs_person.append(_number_row(number, problem))
                continue
            candidates.append((number, e164, current))
        planned = Counter(e164 for _n, e164, _c in candidates)
        for number, e164, current in candidates:
            own = 1 if e164 in claims[number.pk] else 0
            if forms[e164] - own > 0 or planned[e164] > 1:
                plan.needs_person.append(
                    _number_row(
                        number,
                        _("%(e164)s is already used by another number: decide which one routes")
                        % {"e164": e164},
                    )
                )
                continue
            plan.writes.append(
                PlannedWrite(
                    table="phone_numbers",
                    action="update",
                    description=_("%(number)s routes as %(e164)s")
                    % {"number": number.number, "e164": e164},
                    pk=number.pk,
                    before=current,
                    after=routing_values(e164),
                )
            )
        return plan

    def write(self, plan: Plan) -> None:
        update_rows(model=PhoneNumber, values={write.pk: write.after for write in plan.writes})


@register_fix
class AttachNumbersToBranch(Fix):
    id = "attach-numbers-to-branch"
    check_id = "AUD-PHN-005"
    title = gettext_lazy("Attach phone numbers without a branch to the company's branch")
    description = gettext_lazy(
        "Gives each number without a branch the branch of its company, where the company has "
        "exactly one. Numbers of companies with several branches or none need a person."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        numbers = list(
            PhoneNumber.objects.filter(branch_id__isnull=True)
            .select_related("company")
            .only("id", "number", "company_id", "company__name", "company__deleted_at")
            .order_by("number", "pk")
        )
        company_ids = {n.company_id for n in numbers if n.company_id is not None}
        branches = defaultdict(list)
        for branch in Branch.objects.filter(company_id__in=company_ids).only(
            "id", "name", "company_id"
        ):
            branches[branch.company_id].append(branch)
        for number in numbers:
            company = number.company if number.company_id is not None else None
            if company is None or company.deleted_at is not None:
                plan.needs_person.append(
                    _number_row(number, _("the number has no company (or a deleted one)"))
                )
                continue
            found = branches.get(company.pk, [])
            if len(found) != 1:
                detail = (
                    _("%(company)s has no branch") % {"company": company.name}
                    if not found
                    else _("%(company)s has %(count)d branches: choose one")
                    % {"company": company.name, "count": len(found)}
                )
                plan.needs_person.append(_number_row(number, detail))
                continue
            branch = found[0]
            plan.writes.append(
                PlannedWrite(
                    table="phone_numbers",
                    action="update",
                    description=_("%(number)s books at %(branch)s (%(company)s)")
                    % {"number": number.number, "branch": branch.name, "company": company.name},
                    pk=number.pk,
                    before={"branch_id": None},
                    after={"branch_id": branch.pk},
                )
            )
        return plan

    def write(self, plan: Plan) -> None:
        update_rows(
            model=PhoneNumber,
            values={write.pk: {"branch_id": write.after["branch_id"]} for write in plan.writes},
        )
