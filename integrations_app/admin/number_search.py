"""Phone numbers as people write them (issue 12, point 4), found through an index (issue 13).

The search of the phone-number changelist, and the company search by one of its numbers or by
a Retell agent id. A search written like a phone number (digits, a leading plus, and the
separators people type: spaces, ``-``, ``/``, ``.``, parentheses) is normalised like the data:

- its start in E.164 (``030 555`` → ``+4930555``, ``0049 30`` and ``+49 30`` → ``+4930``; a
  whole number by `phone.to_e164` with the gateway's regions, a part of one in the gateway's
  first region) is a prefix of ``number_normalized`` (with and without its plus: some rows
  lack it) and of ``number``, and the text as typed a prefix of ``number`` (rows that hold it
  so): index ranges of ``idx_phone_numbers_normalized`` and of the unique ``number``, which
  MariaDB merges (index_merge, sort_union);
- digits without a leading ``0`` or ``+`` are the start of an international number without its
  plus (``4930 555`` → ``+4930555``); from ``MIN_FRAGMENT`` digits on, digits without a plus
  that are not a whole number written nationally are also the end of one (``5559911``: the
  subscriber number without its area code; ``070762``). ``LIKE '%5559911'`` cannot use
  an index range, so that is a query of its own that reads only the index (its entries hold
  the key: 40,000 short entries at the gateway's planned size, no table rows) and keeps at
  most ``MAX_KEYS`` keys; the page then reads those rows by key.

Any other text finds a number by the start of its label, of its number as stored, of its
company's name (a subquery over the companies) or of its branch's name (`branch_keys`: a
query of its own, at most ``MAX_KEYS`` numbers, like the end of a number).

``phone_number`` (the legacy column) is not searched: it has no index, and a single unindexed
alternative makes every number search read the whole table. The console writes it equal to
the other two; the audit reports a row where it differs.
"""

import re

import phonenumbers
from django.contrib import messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integrations_app.admin.scale import PrefixSearch
from integrations_app.models import Branch, PhoneNumber, RetellAgent
from integrations_app.phone import GATEWAY_REGIONS, to_e164

MIN_FRAGMENT = 6
MAX_KEYS = 200
# The country code a number written nationally (``030 …``) has: the gateway's first region.
HOME_CODE = str(phonenumbers.country_code_for_region(GATEWAY_REGIONS[0]))
_WRITTEN_AS_NUMBER = re.compile(r"\+?[\d\s\-/.()]*\d[\d\s\-/.()]*")
_NOT_DIGITS = re.compile(r"\D")
_AGENT_ID = re.compile(r"\S{1,255}")


def typed_number(text: str) -> str | None:
    """The digits of a search written like a phone number (a leading plus kept), else None."""
    if not _WRITTEN_AS_NUMBER.fullmatch(text):
        return None
    digits = _NOT_DIGITS.sub("", text)
    return f"+{digits}" if text.startswith("+") else digits


def e164_starts(text: str, compact: str) -> set[str]:
    """How the start of the typed number reads in E.164 (see the module docstring)."""
    if compact.startswith("+"):
        start = compact
    elif compact.startswith("00"):
        start = f"+{compact[2:]}"
    elif compact.startswith("0"):
        start = f"+{HOME_CODE}{compact[1:]}"
    else:
        start = f"+{compact}"
    starts = {start}
    if compact.startswith(("0", "+")) and (e164 := to_e164(text)):
        starts.add(e164)  # a whole number of another of the gateway's regions
    return starts


def capped_keys(request, condition: Q, message) -> list:
    """Keys of at most ``MAX_KEYS`` numbers matching ``condition`` (one query, no
    order); ``message`` is the warning when more match."""
    keys = list(
        PhoneNumber._default_manager.filter(condition)
        .order_by()
        .values_list("pk", flat=True)[: MAX_KEYS + 1]
    )
    if len(keys) > MAX_KEYS and request is not None:
        messages.warning(request, message)
    return keys[:MAX_KEYS]


def fragment_keys(request, digits: str) -> list:
    """Numbers whose ``number_normalized`` ends with ``digits``: a scan of its index."""
    message = _(
        "More than %(count)s numbers end with %(digits)s: the list shows %(count)s of them. "
        "Type more digits to narrow it."
    ) % {"count": MAX_KEYS, "digits": digits}
    return capped_keys(request, Q(number_normalized__endswith=digits), message)


def branch_keys(request, text: str) -> list:
    """Numbers of the branches whose name starts with ``text``: MariaDB reads the branches'
    names, then each branch's numbers by ``phone_numbers.branch_id`` (a join; as a subquery
    ORed with the other columns it probes every row of the table: 300-400 ms where 4,000
    numbers match at the planned size, against a few ms here)."""
    message = _(
        "More than %(count)s numbers belong to branches whose name starts with “%(text)s”: "
        "the list shows %(count)s of them. Type more of the name to narrow it."
    ) % {"count": MAX_KEYS, "text": text}
    return capped_keys(request, Q(branch__name__istartswith=text), message)


def is_fragment(text: str, compact: str) -> bool:
    """Digits that may be the end of a number: at least ``MIN_FRAGMENT``, no plus, and not a
    whole number written nationally (``030 5559911`` is one; ``070762`` is not)."""
    return (
        compact.isdigit()
        and len(compact) >= MIN_FRAGMENT
        and not (compact.startswith("0") and to_e164(text))
    )


def number_condition(request, text: str, *, starts: bool = True) -> Q | None:
    """The phone numbers a search written like a number finds, or None for any other text.
    ``starts=False``: a whole number and the end of one only, not the start of one."""
    compact = typed_number(text)
    if compact is None:
        return None
    condition = Q(number__istartswith=text) if starts else Q(number=text)
    for start in e164_starts(text, compact) if starts else ():
        condition |= (
            Q(number_normalized__istartswith=start)
            | Q(number_normalized__istartswith=start[1:])
            | Q(number__istartswith=start)
        )
    if not starts and compact.startswith(("0", "+")) and (e164 := to_e164(text)):
        condition |= Q(number_normalized__in=[e164, e164[1:]]) | Q(number=e164)
    if is_fragment(text, compact):
        condition |= Q(pk__in=fragment_keys(request, compact))
    return condition


class NumberSearch(PrefixSearch):
    """The phone-number changelist's search: a number in any notation or its last digits
    (`number_condition`), else the start of the label, the number as stored, the branch's or
    the company's name."""

    def search_condition(self, request, text: str) -> Q:
        numbers = number_condition(request, text)
        if numbers is not None:
            return numbers
        return super().search_condition(request, text) | Q(pk__in=branch_keys(request, text))


def company_condition(request, text: str) -> Q:
    """Companies by one of their phone numbers (a whole number in any notation, or its end:
    the start of one, ``+49``, would list every company) or by a Retell agent id: the
    company's own, one registered in ``retell_agents`` (the call paths' first lookup,
    semantics.md §3a) or a branch's. Subqueries, one index each where the gateway has one
    (``companies.retell_agent_id`` and ``branches.retell_agent_id`` have none: the company
    search reads the companies anyway)."""
    condition = Q()
    numbers = number_condition(request, text, starts=False)
    if numbers is not None:
        rows = PhoneNumber._default_manager.filter(numbers).order_by().values("company_id")
        condition |= Q(pk__in=rows)
    elif _AGENT_ID.fullmatch(text):
        agents = RetellAgent._base_manager.filter(agent_id=text).order_by().values("company_id")
        branches = Branch.all_objects.filter(retell_agent_id=text).order_by().values("company_id")
        condition |= Q(retell_agent_id=text) | Q(pk__in=agents) | Q(pk__in=branches)
    return condition
