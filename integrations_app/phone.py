"""The gateway's rules for a phone number, declared once (semantics.md §3).

Read by the number form, the service that saves a number, the import, the audit's checks and
fixes, and the connection test:

- ``to_e164``: the one form the gateway routes by (region DE first, then its other regions);
- ``ROUTING_COLUMNS`` / ``routing_values``: the console writes that form into all three
  routing columns, because the gateway's paths read different ones;
- ``routing_forms``: the forms for which the gateway's lookup (plain equality) finds a row;
- ``claimed_forms``: the forms a row claims in any of its columns, in any notation: a second
  row claiming one of them is a duplicate (the gateway would route to whichever it finds first);
- ``duplicates_q``: the same, as a query for a number in E.164;
- ``PRIMARIES_PER_COMPANY`` and ``branch_fits``: a company has at most one primary number, and
  a number's branch belongs to the number's company.
"""

import re
from functools import cache

import phonenumbers
from django.db.models import Q

# The gateway parses with region DE first, then retries these regions in this order.
GATEWAY_REGIONS = ("DE", "AT", "CH", "FR", "NL", "BE")
# The columns the gateway's paths route by; the console writes the E.164 form into each.
ROUTING_COLUMNS = ("number", "number_normalized", "phone_number")
PRIMARIES_PER_COMPANY = 1

# E.164: a plus, a leading digit 1-9, at most 15 digits in all.
E164 = re.compile(r"\A\+[1-9]\d{1,14}\Z")
_PLAIN_DIGITS = re.compile(r"^\+?[1-9]\d{5,14}$")


def to_e164(raw: str | None) -> str | None:
    """The E.164 form the gateway's inbound-call lookup compares with, or None if not a number."""
    found = e164_and_region(raw)
    return found[0] if found else None


def e164_and_region(raw: str | None) -> tuple[str, str] | None:
    """(E.164, the region it parsed in) as the gateway parses: region DE first, then its other
    regions, the first valid parse wins; None if not a number."""
    text = (raw or "").strip()
    if not text:
        return None
    for region in GATEWAY_REGIONS:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if is_valid(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region
    return None


def is_valid(parsed: phonenumbers.PhoneNumber) -> bool:
    """phonenumbers.is_valid_number(parsed), about three times faster for the countries of one
    region (the gateway's own among them): the import of 20,000 numbers and the audit's 40,000
    ask it for every number."""
    if parsed.italian_leading_zero or parsed.number_of_leading_zeros not in (None, 1):
        return phonenumbers.is_valid_number(parsed)
    return is_valid_national(str(parsed.country_code), str(parsed.national_number))


def is_valid_national(country_code: str, national: str) -> bool:
    """Whether +<country_code><national> is a valid number, as phonenumbers.is_valid_number
    says (tests/test_audit_checks.py holds both equal on thousands of numbers)."""
    rules = _validity(country_code)
    if rules is None:
        return phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=int(country_code), national_number=int(national))
        )
    general, types = rules
    return _matches(general, national) and any(_matches(t, national) for t in types)


# phonenumbers.is_valid_number for a country of one region: the national number matches the
# general pattern and the pattern of at least one number type (with its possible lengths).
# phonenumbers tries the types one by one, rarest first, through several calls per pattern;
# here the common ones first, each one fullmatch (~3 µs instead of ~8 µs a number).
_TYPES = ("fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost", "voip")
_TYPES += ("personal_number", "pager", "uan", "voicemail")


@cache
def _validity(country_code: str) -> tuple | None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(country_code), ())
    if len(regions) != 1:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
    if metadata is None or metadata.country_code != int(country_code):
        return None

    def rule(desc):
        if desc is None or not desc.national_number_pattern:
            return None
        return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)

    general = rule(metadata.general_desc)
    return general, tuple(r for r in map(rule, (getattr(metadata, t) for t in _TYPES)) if r)


def _matches(rule, national: str) -> bool:
    if rule is None:
        return False
    lengths, pattern = rule
    if lengths and len(national) not in lengths:
        return False
    return pattern.fullmatch(national) is not None


def is_e164(value: str | None) -> bool:
    return bool(value) and bool(E164.match(value))


def routing_values(e164: str) -> dict[str, str]:
    """What the console writes for a number: its E.164 form in every routing column."""
    return dict.fromkeys(ROUTING_COLUMNS, e164)


def routing_forms(number: str | None, normalized: str | None) -> set[str]:
    """The E.164 values of `to_number` for which the gateway's lookup finds this row.

    The gateway compares `number_normalized` with the E.164 form and with it without its
    plus, and `number` with the E.164 form, by plain equality.
    """
    forms = set()
    if normalized:
        candidate = normalized if normalized.startswith("+") else f"+{normalized}"
        if is_e164(candidate):
            forms.add(candidate)
    if is_e164(number):
        forms.add(number)
    return forms


def claimed_forms(row) -> set[str]:
    """The E.164 numbers a row answers to in any routing column, in any notation.

    ``row`` is a mapping or an object with the routing columns.
    """
    forms = set()
    for column in ROUTING_COLUMNS:
        value = row.get(column) if isinstance(row, dict) else getattr(row, column, None)
        value = (value or "").strip()
        if not value:
            continue
        if _PLAIN_DIGITS.match(value):
            forms.add("+" + value.lstrip("+"))
        elif e164 := to_e164(value):
            forms.add(e164)
    return forms


def duplicates_q(e164: str) -> Q:
    """Rows that already claim ``e164`` in the notations a query can compare."""
    bare = e164.lstrip("+")
    condition = Q()
    for column in ROUTING_COLUMNS:
        condition |= Q(**{column: e164}) | Q(**{column: bare})
    return condition


def number_problem(number: str | None, normalized: str | None) -> str | None:
    """Why the gateway cannot match this number by its E.164 form, or None when it can.

    Returns a short code: "empty", "not_e164", "unparsable", "differs".
    """
    if not (normalized or "").strip():
        return "empty"
    if not is_e164(normalized):
        return "not_e164"
    e164 = to_e164(number)
    if e164 is None:
        return "unparsable"
    if normalized != e164:
        return "differs"
    return None


def branch_fits(branch_company_id, company_id) -> bool:
    """A number books at its branch: the branch must be one of the number's company."""
    return branch_company_id is not None and (company_id is None or branch_company_id == company_id)
