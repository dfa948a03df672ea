"""Credentials: the core integrations of each company, and whether its keys can be read.

The key checks decrypt in Python, with the gateway's own keys (GATEWAY_APP_KEY and
GATEWAY_PREVIOUS_KEYS): without them they cannot judge and say so (CheckUnavailable), never
"ok". A secret appears in a finding only as its keyed fingerprint.
"""

import uuid
from collections import defaultdict

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import (
    COMPANY_ADMIN,
    INTEGRATION_ADMIN,
    active_integrations,
    column_named,
    company_row,
)
from audit_app.registry import (
    Affected,
    Category,
    Check,
    CheckUnavailable,
    Severity,
    register,
    shared,
)
from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.integration_kinds import CALCOM, RETELL
from integrations_app.models import Company, Integration
from integrations_app.models.integrations import counts_as_active, integration_title

# Integrations of live companies, and those without a company (they have no soft delete).
INTEGRATION_OF_LIVE_COMPANY = Q(company__isnull=True) | Q(company__deleted_at__isnull=True)
# The companies columns the gateway reads with decrypt() (serialized flavour).
COMPANY_KEY_COLUMNS = Company.encrypted_columns(SERIALIZED)
# The integrations columns the gateway reads with decryptString() (raw flavour).
INTEGRATION_KEY_COLUMNS = Integration.encrypted_columns()


def gateway_encrypter() -> Encrypter:
    try:
        return Encrypter.from_settings()
    except GatewayKeyError as error:
        raise CheckUnavailable(
            _("the gateway's key is needed to read the stored keys: %(error)s") % {"error": error}
        ) from None


class _CoreIntegrationCheck(Check):
    severity = Severity.CRITICAL
    category = Category.CREDENTIALS
    kind = CALCOM

    def find(self) -> list[Affected]:
        of_company = Integration.objects.filter(company=OuterRef("pk"), provider=self.kind.provider)
        rows = (
            Company.objects.annotate(
                has_active=Exists(active_integrations(of_company)), any_row=Exists(of_company)
            )
            .filter(has_active=False)
            .order_by("name", "id")
            .values("id", "name", "any_row")
        )
        found = []
        for row in rows:
            if row["any_row"]:
                detail = _("%(kind)s integration exists but is not active: it needs credentials")
            else:
                detail = _("no %(kind)s integration")
            found.append(company_row(row, detail % {"kind": self.kind.name}))
        return found


@register
class CompaniesWithoutCalcom(_CoreIntegrationCheck):
    id = "AUD-INT-001"
    kind = CALCOM
    title = gettext_lazy(
        "Companies whose booking calendar nobody can check (no active Cal.com connection)"
    )
    explanation = gettext_lazy(
        "Cal.com is the booking calendar the phone agent books into. Without an active "
        "connection in the console nobody can see or test which account and appointment type "
        "the company books with, and its staff and appointment types cannot be imported."
    )
    detail = gettext_lazy(
        "Cal.com is where the gateway books and looks up free slots. The gateway's admin "
        "screens show a company's integrations from the integrations table; without an active "
        "Cal.com integration nobody can see or test which key and event type the company books "
        "with, and its team and event types cannot be imported with the company's own key."
    )
    hint = gettext_lazy(
        "Add the company's Cal.com integration with its API key and event type in the "
        "integration form (the fix creates a placeholder that puts the company on that "
        "work list)."
    )
    fix_id = "calcom-placeholder"


@register
class CompaniesWithoutRetell(_CoreIntegrationCheck):
    id = "AUD-INT-002"
    kind = RETELL
    title = gettext_lazy(
        "Companies whose phone agent nobody can check (no active Retell connection)"
    )
    explanation = gettext_lazy(
        "Retell AI answers the company's calls. Without an active connection in the console "
        "nobody can see which phone agent answers for the company, or check that its numbers "
        "reach that agent."
    )
    detail = gettext_lazy(
        "Retell AI answers the company's calls. Without an active Retell integration the "
        "gateway's admin screens show no agent for the company, and nobody can check that the "
        "company's numbers are bound to the right agent."
    )
    hint = gettext_lazy(
        "Add the company's Retell AI integration with its agent id in the integration form "
        "(the fix creates a placeholder that puts the company on that work list)."
    )
    fix_id = "retell-placeholder"


@register
class RejectedIntegrationRows(Check):
    id = "AUD-INT-003"
    severity = Severity.WARNING
    category = Category.CREDENTIALS
    title = gettext_lazy("Connections the gateway ignores (malformed entries)")
    explanation = gettext_lazy(
        "These connection entries are not in the form the gateway expects (for example the "
        "provider written as a display name): the gateway never finds them, so they do nothing "
        "for the company's calls and bookings."
    )
    detail = gettext_lazy(
        "The gateway's integrations table needs a tenant_id (NOT NULL, a UUID), a provider "
        "given by its lowercase key (calcom, retell, webhook, api, oauth2) and a status it "
        'knows. A row with a display name such as "Cal.com" in provider is never found by the '
        "gateway's provider lookups, and one without tenant_id could not have been written by "
        "the gateway itself."
    )
    hint = gettext_lazy(
        "Correct the row in the integration form: provider as its lowercase key, a UUID as "
        "tenant_id."
    )

    def find(self) -> list[Affected]:
        rows = (
            Integration.objects.filter(INTEGRATION_OF_LIVE_COMPANY)
            .order_by("company__name", "id")
            .values("id", "name", "provider", "tenant_id", "status", "company__name")
        )
        found = []
        for row in rows:
            problems = []
            if not _is_uuid(row["tenant_id"]):
                problems.append(_("the tenant ID is empty or not valid"))
            if row["provider"] not in Integration.PROVIDERS:
                problems.append(
                    _("the provider %(provider)r is not one of %(keys)s")
                    % {"provider": row["provider"], "keys": ", ".join(Integration.PROVIDERS)}
                )
            if row["status"] not in Integration.STATUSES:
                problems.append(_("status %(status)r is not known") % {"status": row["status"]})
            if problems:
                found.append(_integration_row(row, "; ".join(str(p) for p in problems)))
        return found


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value or ""))
    except ValueError:
        return False
    return len(str(value)) == 36


def _integration_row(row: dict, detail: str) -> Affected:
    company = row.get("company__name") or _("no company")
    return Affected(
        table="integrations",
        pk=row["id"],
        label=integration_title(row["provider"], row["name"], company),
        detail=detail,
        admin=INTEGRATION_ADMIN,
    )


def _company_key_rows() -> list[dict]:
    """The companies with a stored key, each encrypted column holding what it opens to
    (_opened); read once per audit run (three key checks use them)."""
    return shared("company-key-rows", _read_company_key_rows)


def _read_company_key_rows() -> list[dict]:
    return _opened(
        Company.objects.filter(
            Q(calcom_api_key__gt="") | Q(retell_api_key__gt="") | Q(calcom_v2_api_key__gt="")
        )
        .order_by("name", "id")
        .values("id", "name", "calcom_api_key", "retell_api_key", "calcom_v2_api_key"),
        COMPANY_KEY_COLUMNS,
    )


def _integration_key_rows() -> list[dict]:
    """The integrations with a stored key, opened as _company_key_rows(); once per audit run."""
    return shared("integration-key-rows", _read_integration_key_rows)


def _read_integration_key_rows() -> list[dict]:
    having = Q()
    for column in INTEGRATION_KEY_COLUMNS:
        having |= Q(**{f"{column}__gt": ""})
    return _opened(
        Integration.objects.filter(INTEGRATION_OF_LIVE_COMPANY)
        .filter(having)
        .order_by("company__name", "id")
        .values(
            "id",
            "name",
            "provider",
            "company_id",
            "company__name",
            "is_active",
            "status",
            *INTEGRATION_KEY_COLUMNS,
        ),
        INTEGRATION_KEY_COLUMNS,
    )


def _opened(rows, columns) -> list[dict]:
    """The rows with each stored value of ``columns`` replaced by what it opens to: the
    Decrypted value or the DecryptionError (Encrypter.inspect_many: each distinct value
    once). The stored payloads are not kept (~300 bytes each, ~30,000 at the gateway's
    planned size)."""
    encrypter = gateway_encrypter()
    rows = list(rows)
    openings = encrypter.inspect_many(row[c] for row in rows for c in columns if row[c])
    for row in rows:
        for column in columns:
            if row[column]:
                row[column] = openings[row[column]]
    return rows


def _reader(_encrypter: Encrypter):
    """read(opened, expected) -> (plaintext, problem): a stored value of the key rows (opened
    by _opened) as the gateway reads it, or why it cannot."""
    return _reading


def _reading(found, expected: str) -> tuple[str | None, str | None]:
    if isinstance(found, DecryptionError):
        return None, found.message
    if found.flavour != expected:
        # Which functions (encrypt() / encryptString()): the check's detail says it.
        return None, _("stored in another encryption format than the gateway reads")
    return found.value, None


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

    def find(self) -> list[Affected]:
        read = _reader(gateway_encrypter())
        found = []
        for row in _company_key_rows():
            if problems := _unreadable(read, row, "companies", COMPANY_KEY_COLUMNS, SERIALIZED):
                found.append(company_row(row, problems))
        for row in _integration_key_rows():
            if problems := _unreadable(read, row, "integrations", INTEGRATION_KEY_COLUMNS, RAW):
                found.append(_integration_row(row, problems))
        return found


def _unreadable(read, row: dict, table: str, columns, flavour) -> str:
    """What no key opens in the row's secret columns ("table.column: problem; ..."), or ""."""
    problems = []
    for column in columns:
        if row[column]:
            _value, problem = read(row[column], flavour)
            if problem:
                problems.append(f"{column_named(table, column)}: {problem}")
    return "; ".join(problems)


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

    def find(self) -> list[Affected]:
        read = _reader(gateway_encrypter())
        company_keys = {}
        for row in _company_key_rows():
            keys = {}
            for column in COMPANY_KEY_COLUMNS:
                if row[column]:
                    value, _problem = read(row[column], SERIALIZED)
                    if value:
                        keys[f"companies.{column}"] = value
            if row["calcom_v2_api_key"]:
                keys["companies.calcom_v2_api_key"] = row["calcom_v2_api_key"]
            company_keys[row["id"]] = (row, keys)
        compared = {
            CALCOM.provider: ("companies.calcom_api_key", "companies.calcom_v2_api_key"),
            RETELL.provider: ("companies.retell_api_key",),
        }
        found = []
        for row in _integration_key_rows():
            active = counts_as_active(row["is_active"], row["status"])
            if not (active and row["api_key"] and row["provider"] in compared):
                continue
            if row["company_id"] not in company_keys:
                continue
            value, _problem = read(row["api_key"], RAW)
            if not value:
                continue  # AUD-KEY-001
            _company, keys = company_keys[row["company_id"]]
            differing = [
                _("%(column)s holds %(fp)s")
                % {"column": _named(column, "integrations"), "fp": fingerprint(keys[column])}
                for column in compared[row["provider"]]
                if column in keys and keys[column] != value
            ]
            if differing:
                detail = _("the connection's API key is %(fp)s, but %(others)s") % {
                    "fp": fingerprint(value),
                    "others": ", ".join(str(d) for d in differing),
                }
                found.append(_integration_row(row, detail))
        return found


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

    def find(self) -> list[Affected]:
        read = _reader(gateway_encrypter())
        holders = defaultdict(dict)  # key -> {company_id: (name, [columns])}
        for row in _company_key_rows():
            for column in COMPANY_KEY_COLUMNS:
                if row[column]:
                    value, _problem = read(row[column], SERIALIZED)
                    if value:
                        _hold(holders, value, row["id"], row["name"], f"companies.{column}")
            if row["calcom_v2_api_key"]:
                _hold(
                    holders,
                    row["calcom_v2_api_key"],
                    row["id"],
                    row["name"],
                    "companies.calcom_v2_api_key",
                )
        for row in _integration_key_rows():
            if row["company_id"] is None or row["company__name"] is None:
                continue
            for column in INTEGRATION_KEY_COLUMNS:
                if row[column]:
                    value, _problem = read(row[column], RAW)
                    if value:
                        _hold(
                            holders, value, row["company_id"], row["company__name"],
                            f"integrations.{column}",
                        )  # fmt: skip
        found = []
        for value, companies in holders.items():
            if len(companies) < 2:
                continue
            fp = fingerprint(value)
            for company_id, (name, columns) in sorted(companies.items(), key=lambda i: i[1][0]):
                others = ", ".join(
                    sorted(n for cid, (n, _c) in companies.items() if cid != company_id)
                )
                detail = _("key %(fp)s in %(columns)s is also held by %(others)s") % {
                    "fp": fp,
                    "columns": ", ".join(sorted(_named(c, "companies") for c in columns)),
                    "others": others,
                }
                found.append(
                    Affected(
                        table="companies",
                        pk=company_id,
                        label=name,
                        detail=detail,
                        admin=COMPANY_ADMIN,
                    )
                )
        return found


def _named(column: str, row_table: str) -> str:
    """ "companies.calcom_api_key" (how the checks key a stored value) for people."""
    table, _dot, name = column.partition(".")
    return column_named(table, name, row_table)


def _hold(holders, value: str, company_id, name: str, column: str) -> None:
    _name, columns = holders[value].setdefault(company_id, (name, []))
    if column not in columns:
        columns.append(column)
