"""One read of the phone numbers for every check about them, in memory that does not grow with
the numbers (issue 13: the audit's memory flat at the gateway's planned size).

Six checks and a measure judge the numbers (AUD-PHN-002 to 006, AUD-AGT-005, the routable
coverage). They used to share one list of all numbers, held for the whole audit (24 MiB for
40,000 numbers). Now the numbers are streamed once (audit_app/streaming.py), each row is judged
by every number check on the way, and each check keeps its count and only the rows of the page
asked for (a Tally). The one rule that compares numbers with each other, AUD-PHN-003 (the same
E.164 form twice), keeps two bitmaps of fixed size (form hashes seen once, seen twice) and 12
bytes per form (its bit and a hash of the row's id, in arrays); when forms collide the numbers
are streamed a second time and only the rows involved are parsed and compared.
"""

from array import array
from collections import defaultdict
from contextlib import closing

from audit_app.checks.common import (
    NUMBER_COLUMNS,
    NUMBER_OF_LIVE_COMPANY,
    NumberRow,
    number_facts,
    number_row,
)
from audit_app.checks.passes import PassCheck, PassResult, RowPass
from audit_app.registry import Affected
from audit_app.streaming import stream


class NumberPass(RowPass):
    """The phone numbers, judged by every NumberCheck; it also collects the routable companies
    (``extra["routable"]``) and the forms' bits for AUD-PHN-003 (FormBits)."""

    key = "number-pass"

    def rows(self):
        return stream_number_rows()

    def observe(self, result: PassResult, position: int, row) -> None:
        if "forms" not in result.extra:
            result.extra.update(forms=FormBits(), routable=set())
        result.extra["forms"].add(row.id, _forms(row))
        if _routable(row):
            result.extra["routable"].add(row.company_id)

    def finish(self, result: PassResult) -> None:
        forms = result.extra.pop("forms", None)
        result.extra.setdefault("routable", set())
        involved = forms.colliding() if forms else set()
        del forms
        for check in self.checks():
            if check.after_pass:
                tally = result.tallies[check.id]
                with closing(stream_number_rows(only=involved)) as rows:
                    for row, detail in check.findings(rows):
                        tally.add(lambda: number_row(row, detail))  # noqa: B023 (called at once)


NUMBERS = NumberPass()


class NumberCheck(PassCheck):
    """A check decided on each phone number alone (a NumberRow): implement judge() and
    describe()."""

    row_pass = NUMBERS

    def affected(self, row, detail) -> Affected:
        return number_row(row, detail)


def routable_companies() -> set:
    """The live companies with a number callers reach and can book on (the measure), from the
    audit run's pass over the numbers."""
    return NUMBERS.run().extra["routable"]


def stream_number_rows(only: set[int] | None = None):
    """The numbers of live companies and those without a company (NUMBER_OF_LIVE_COMPANY), by
    number and id, each as a NumberRow with its company's and branch's names (one statement,
    read as used). ``only``: the rows whose key hashes to one of these (FormBits.key), no others
    (none when it is empty): a second read finds the same rows whatever was written between."""
    if only is not None and not only:
        return
    from integrations_app.models import PhoneNumber

    rows = (
        PhoneNumber.objects.filter(NUMBER_OF_LIVE_COMPANY)
        .order_by("number", "id")
        .values_list(*NUMBER_COLUMNS, *JOINED)
    )
    for values in stream(rows):
        if only is None or FormBits.key(values[0]) in only:
            yield NumberRow._make((*values, *number_facts(values[1], values[2])))


JOINED = (
    "company__name", "branch__name", "branch__company_id", "branch__company__name",
    "branch__deleted_at",
)  # fmt: skip


def _forms(row: NumberRow) -> set[str]:
    """The E.164 forms a number answers to, and its own E.164 form (the same line even if it is
    not routed in that form yet): two numbers sharing one are duplicates (AUD-PHN-003)."""
    forms = set(row.forms)
    if row.e164:
        forms.add(row.e164)
    return forms


def _routable(row: NumberRow) -> bool:
    """A number the gateway can match AND book on, of a company that exists."""
    return (
        row.company__name is not None
        and row.branch__name is not None  # a branch that exists
        and row.branch__deleted_at is None
        and row.branch__company_id == row.company_id
        and row.problem is None
    )


class FormBits:
    """Which numbers share a form, in memory of fixed size but 12 bytes per form: each form's
    hash as a bit of two bitmaps (seen once, seen twice) and, per form, its bit and its row's
    key (a 64-bit hash of the number's id). A bit seen twice marks its rows as candidates; two
    different forms on one bit (about 1 % of the forms at 40,000 numbers), or two ids on one
    hash, only add candidates, which findings() compares by their real forms."""

    BITS = 1 << 23  # 1 MiB per bitmap

    def __init__(self):
        self.once = bytearray(self.BITS // 8)
        self.twice = bytearray(self.BITS // 8)
        self.bits, self.keys = array("I"), array("q")

    @staticmethod
    def key(pk) -> int:
        return hash(pk)

    def add(self, pk, forms) -> None:
        key = self.key(pk)
        for form in forms:
            bit = hash(form) & (self.BITS - 1)
            byte, mask = bit >> 3, 1 << (bit & 7)
            if self.once[byte] & mask:
                self.twice[byte] |= mask
            else:
                self.once[byte] |= mask
            self.bits.append(bit)
            self.keys.append(key)

    def colliding(self) -> set[int]:
        """The keys of the rows with a form whose bit was seen twice."""
        twice = self.twice
        return {
            key
            for bit, key in zip(self.bits, self.keys, strict=True)
            if twice[bit >> 3] & (1 << (bit & 7))
        }


class DuplicateForms(NumberCheck):
    """A check over numbers compared with each other by their forms (AUD-PHN-003): the pass
    hands it only the numbers whose forms collide (after the pass); findings() decides."""

    after_pass = True

    def findings(self, rows):
        """(row, detail) for each affected number among ``rows``, in the check's order."""
        raise NotImplementedError


def grouped_by_form(rows) -> dict[str, list[NumberRow]]:
    by_form = defaultdict(list)
    for row in rows:
        for form in _forms(row):
            by_form[form].append(row)
    return by_form
