"""The stored keys: whether the gateway can read them (AUD-KEY-001), whether the key tested in
the console is the one bookings use (AUD-KEY-002), whether several companies share one
(AUD-KEY-003).

They decrypt in Python, with the gateway's own keys (GATEWAY_APP_KEY and GATEWAY_PREVIOUS_KEYS):
without them they cannot judge and say so (CheckUnavailable), never "ok". A secret appears in a
finding only as its keyed fingerprint. The keys are read once per audit run, streamed, and kept
only as digests (audit_app/checks/key_scan.py).
"""

from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import column_named, company_row, integration_row
from audit_app.checks.key_scan import HELD_IN, WRONG_FORMAT, key_scan
from audit_app.registry import Affected, Category, Check, Severity, register
from integrations_app.crypto.errors import REASONS
from integrations_app.crypto.fingerprint import fingerprint_of


@register
class UnreadableKeys(Check):
    id = "AUD-KEY-001"
    severity = Severity.CRITICAL
    category = Category.CREDENTIALS
    title = gettext_lazy("Keys the gateway cannot read: bookings use the wrong account or fail")
    explanation = gettext_lazy(
        "The company's stored key for the booking calendar or the phone service cannot be read "
        "with the gateway's own key. The gateway then silently uses the platform's shared key "
        "instead, or the connection fails: bookings may land in the wrong account or not happen"
        " at all."
    )
    detail = gettext_lazy(
        "The gateway decrypts companies.calcom_api_key and retell_api_key with decrypt() "
        "(serialized) and the integrations' secret columns with decryptString() (raw), under "
        "APP_KEY and then APP_PREVIOUS_KEYS. A value no key opens, or one stored in the other "
        "flavour, is silently treated as empty for a company column (the platform key is used "
        "instead) and throws for an integration; a wrong flavour may hand the literal "
        's:NN:"..."; wrapper to the provider as the key.'
    )
    hint = gettext_lazy(
        "Enter the key again in the company's integration form: the console encrypts it under "
        "the current key in the column's flavour."
    )

    def each(self) -> Iterator[Affected]:
        for table, pk, title, problems in key_scan().unreadable:
            detail = "; ".join(
                f"{column_named(table, column)}: {_problem(problem)}"
                for column, problem in problems
            )
            if table == "companies":
                yield company_row({"id": pk, "name": title}, detail)
            else:
                yield _integration_row(pk, title, detail)


def _problem(problem: str) -> str:
    if problem == WRONG_FORMAT:
        # Which functions (encrypt() / encryptString()): the check's detail says it.
        return _("stored in another encryption format than the gateway reads")
    return str(REASONS[problem])


def _integration_row(pk, title: tuple, detail: str) -> Affected:
    provider, name, company = title
    return integration_row(
        {"id": pk, "provider": provider, "name": name, "company__name": company}, detail
    )


@register
class DivergingCompanyKeys(Check):
    id = "AUD-KEY-002"
    severity = Severity.WARNING
    category = Category.CREDENTIALS
    title = gettext_lazy("The key tested in the console is not the one bookings use")
    explanation = gettext_lazy(
        "The company has two different keys stored for the same provider: the one the console "
        "tests and shows, and the one the gateway books with. A successful connection test here"
        " says nothing about the company's bookings."
    )
    detail = gettext_lazy(
        "The gateway's team import reads companies.calcom_api_key and its booking sync "
        "companies.calcom_v2_api_key; the integrations table is read by no runtime path. When "
        "the integration holds another key than the company columns, the key that was tested "
        "in the console is not the one the gateway books with."
    )
    hint = gettext_lazy(
        "Save the company's key once more in the integration form: it is written to the "
        "integration and to the company columns the gateway reads."
    )

    def each(self) -> Iterator[Affected]:
        for title, pk, api_key, differing in key_scan().diverging:
            others = [
                _("%(column)s holds %(fp)s")
                % {"column": _named(HELD_IN[place], "integrations"), "fp": fingerprint_of(digest)}
                for place, digest in differing
            ]
            detail = _("the connection's API key is %(fp)s, but %(others)s") % {
                "fp": fingerprint_of(api_key),
                "others": ", ".join(str(o) for o in others),
            }
            yield _integration_row(pk, title, detail)


@register
class SharedKeys(Check):
    id = "AUD-KEY-003"
    severity = Severity.WARNING
    category = Category.CREDENTIALS
    title = gettext_lazy("Several companies book through one shared account")
    explanation = gettext_lazy(
        "These companies hold the same key, so their bookings, appointment types and call data "
        "land in one provider account, and revoking the key for one company stops the bookings "
        "of all of them."
    )
    detail = gettext_lazy(
        "A key belongs to one company's provider account, and the gateway calls the provider "
        "with the key it finds for the company. When several companies hold the same "
        "key (the same fingerprint), their bookings, event types and call data land in one "
        "account, and revoking the key for one company breaks them all. The database review "
        "proposed exactly that: one platform key for every company."
    )
    hint = gettext_lazy(
        "Enter each company's own key in its integration form; the platform key belongs in the "
        "gateway's environment, not in a company's row."
    )

    def each(self) -> Iterator[Affected]:
        for digest, holders in key_scan().shared_keys:
            fp = fingerprint_of(digest)
            # By name; companies of one name in the order their key was first read.
            for company_id, (name, _at, places) in sorted(
                holders.items(), key=lambda item: (item[1][0], item[1][1])
            ):
                others = ", ".join(
                    sorted(n for cid, (n, *_r) in holders.items() if cid != company_id)
                )
                detail = _("key %(fp)s in %(columns)s is also held by %(others)s") % {
                    "fp": fp,
                    "columns": ", ".join(sorted(_named(HELD_IN[p], "companies") for p in places)),
                    "others": others,
                }
                yield company_row({"id": company_id, "name": name}, detail)


def _named(column: str, row_table: str) -> str:
    """ "companies.calcom_api_key" (how the checks key a stored value) for people."""
    table, _dot, name = column.partition(".")
    return column_named(table, name, row_table)
