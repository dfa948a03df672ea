"""Retell's phone numbers beside the gateway's (semantics.md §3, §3a): what differs, per company.

For every live company with an active Retell integration, its account's numbers are read from
Retell (``GET /v2/list-phone-numbers``, all pages) and compared with ``phone_numbers``:

- ``missing_in_db``: Retell has the number, no ``phone_numbers`` row routes it: its calls arrive
  and are rejected;
- ``missing_in_retell``: the company's active number is not in its Retell account;
- ``unparsable``: the company's number does not parse as a phone number (nothing to compare);
- ``wrong_agent``: Retell's ``inbound_agents`` for the number do not include the company's
  registered agent (``retell_agents`` of the company, or ``companies.retell_agent_id``).

Which key: the gateway's own (semantics §2: every Retell client of the gateway uses its platform
key) when ``GATEWAY_RETELL_API_KEY`` is set; then all companies share that one account, read once.
Without it, each company's Retell integration key, which may be another account than the
gateway's; each finding says which key was used (``key``: ``platform`` or ``integration``).

A company whose key or provider cannot be read is "not available" with the reason, never
"in sync". One account is read once per run (a cache keyed by the key), several accounts at once
within a bound (``RETELL_RECONCILE_WORKERS``). The result is stored, one row per company, in
``audit_app.ProviderReconciliation`` (kind ``retell_phone_numbers``), where the audit reads it.
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations_app.connection_tests import _e164, _read_key, testable_integrations
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import GatewayKeyError
from integrations_app.integration_kinds import RETELL
from integrations_app.models import Company, PhoneNumber, RetellAgent
from integrations_app.phone import is_e164, routing_forms, to_e164
from integrations_app.providers.errors import ProviderError
from integrations_app.providers.retell import RetellClient, RetellNumber

KIND = "retell_phone_numbers"
MISSING_IN_DB = "missing_in_db"
MISSING_IN_RETELL = "missing_in_retell"
UNPARSABLE = "unparsable"
WRONG_AGENT = "wrong_agent"
DEFAULT_WORKERS = 4
PLATFORM = "platform"
INTEGRATION = "integration"


def platform_key() -> str:
    """The gateway's Retell platform key (``GATEWAY_RETELL_API_KEY``), "" when not set."""
    return (getattr(settings, "GATEWAY_RETELL_API_KEY", "") or "").strip()


def key_note(source: str) -> str:
    """Which key was used, in words (never the key itself)."""
    if source == PLATFORM:
        return _("read with the gateway's platform key (GATEWAY_RETELL_API_KEY)")
    return _("read with the company's Retell integration key; the gateway uses its platform key")


@dataclass
class CompanyResult:
    company_id: int
    company_name: str
    available: bool = True
    reason: str = ""
    provider_count: int = 0
    findings: list[dict] = field(default_factory=list)
    expected_agents: list[str] = field(default_factory=list)
    key_source: str = INTEGRATION


class Run:
    """One reconciliation's cache: each account (key) is listed once, however many companies
    share it; several accounts are listed at once, at most ``workers`` at a time."""

    def __init__(self, workers: int | None = None):
        self.workers = max(
            1, int(workers or getattr(settings, "RETELL_RECONCILE_WORKERS", 0) or DEFAULT_WORKERS)
        )
        self._lists: dict[str, list[RetellNumber] | ProviderError] = {}

    @staticmethod
    def _cache_key(api_key: str) -> str:
        base = settings.RETELL_API_BASE_URL
        return hashlib.sha256(f"{base}\0{api_key}".encode()).hexdigest()

    def fetch(self, api_keys) -> None:
        wanted = {self._cache_key(k): k for k in api_keys if self._cache_key(k) not in self._lists}
        if not wanted:
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(wanted))) as pool:
            language = translation.get_language()  # the messages in the caller's language
            listed = pool.map(lambda key: _list_numbers(key, language), wanted.values())
            for cache_key, result in zip(wanted, listed, strict=True):
                self._lists[cache_key] = result

    def listing(self, api_key: str) -> list[RetellNumber] | ProviderError:
        self.fetch([api_key])
        return self._lists[self._cache_key(api_key)]


def _list_numbers(api_key: str, language: str | None) -> list[RetellNumber] | ProviderError:
    with translation.override(language):
        try:
            with RetellClient(api_key=api_key) as client:
                return client.list_phone_numbers()
        except ProviderError as error:
            return error


def companies_configured() -> bool:
    """Whether any live company has an active Retell integration (one query)."""
    return testable_integrations(provider=RETELL.provider).exists()


def company_key(integration, encrypter: Encrypter) -> tuple[str | None, str]:
    """The company's usable Retell key, or (None, why not)."""
    api_key, problems = _read_key(integration, encrypter)
    if problems:
        return None, problems[0].message
    return api_key, ""


def reconcile(
    *, company_ids=None, store: bool = True, run: Run | None = None
) -> list[CompanyResult]:
    """Compare; store the results (``store``) and return them, one per company."""
    run = run or Run()
    integrations = testable_integrations(provider=RETELL.provider).select_related("company")
    if company_ids is not None:
        integrations = integrations.filter(company_id__in=list(company_ids))
    chosen = {}
    for integration in integrations:
        chosen.setdefault(integration.company_id, integration)  # the first per company
    results = {
        pk: CompanyResult(pk, integration.company.name) for pk, integration in chosen.items()
    }
    keys: dict[int, str] = {}
    platform = platform_key()
    if platform:
        for pk, result in results.items():
            result.key_source = PLATFORM
            keys[pk] = platform
        encrypter = None
    else:
        try:
            encrypter = Encrypter.from_settings()
        except GatewayKeyError as error:
            encrypter = None
            for result in results.values():
                _unavailable(
                    result,
                    _("the gateway's key is needed to read the stored Retell key: %(error)s")
                    % {"error": error},
                )
    if encrypter is not None:
        for pk, integration in chosen.items():
            api_key, why = company_key(integration, encrypter)
            if api_key is None:
                _unavailable(results[pk], why)
            else:
                keys[pk] = api_key
    run.fetch(keys.values())
    _compare(results, keys, run)
    for result in results.values():
        for finding in result.findings:
            finding["key"] = result.key_source  # which key read it, never the key
    ordered = [results[pk] for pk in sorted(results)]
    if store:
        save(ordered, company_ids=company_ids)
    return ordered


def _unavailable(result: CompanyResult, reason: str) -> None:
    result.available = False
    result.reason = reason


def _compare(results: dict[int, CompanyResult], keys: dict[int, str], run: Run) -> None:
    expected: dict[int, set[str]] = {pk: set() for pk in results}
    registered: dict[int, set[str]] = {pk: set() for pk in results}
    for company_id, agent_id in RetellAgent.objects.filter(
        company_id__in=list(results)
    ).values_list("company_id", "agent_id"):
        expected[company_id].add(agent_id)
        registered[company_id].add(agent_id)
    rows = list(
        PhoneNumber.objects.values(
            "id",
            "company_id",
            "number",
            "number_normalized",
            "phone_number",
            "is_active",
            "deleted_at",
        )
    )

    for pk, agent_id in Company.objects.filter(pk__in=list(results)).values_list(
        "pk", "retell_agent_id"
    ):
        if agent_id and agent_id.strip():
            expected[pk].add(agent_id.strip())
    known: set[str] = set()  # every form a gateway row routes, of any company
    for row in rows:
        known |= routing_forms(row["number"], row["number_normalized"])
        if is_e164(row["phone_number"]):
            known.add(row["phone_number"])
    # Companies that share one account: a number missing in the database goes to the company
    # whose agent answers it, else to each of them.
    sharing: dict[str, list[int]] = {}
    for pk, api_key in keys.items():
        sharing.setdefault(Run._cache_key(api_key), []).append(pk)
    for pk, result in results.items():
        result.expected_agents = sorted(expected[pk])
        if pk not in keys:
            continue
        listing = run.listing(keys[pk])
        if isinstance(listing, ProviderError):
            _unavailable(result, f"{listing.message} ({key_note(result.key_source)})")
            continue
        result.provider_count = len(listing)
        in_retell = {item.number: item for item in listing}
        group = sharing[Run._cache_key(keys[pk])]
        for item in listing:
            if item.number in known:
                continue
            owners = [other for other in group if item.agent_ids & expected[other]]
            if owners and pk not in owners:
                continue
            result.findings.append(
                {
                    "kind": MISSING_IN_DB,
                    "number": item.number,
                    "parses": item.parses,
                    "inbound_agents": list(item.inbound_agents),
                }
            )
        for row in rows:
            if row["company_id"] != pk or not row["is_active"] or row["deleted_at"] is not None:
                continue
            number = _e164(row["number_normalized"], row["number"])
            if not is_e164(to_e164(number)):
                result.findings.append(
                    {"kind": UNPARSABLE, "number": row["number"], "phone_number_id": str(row["id"])}
                )
                continue
            item = in_retell.get(number)
            if item is None:
                result.findings.append(
                    {"kind": MISSING_IN_RETELL, "number": number, "phone_number_id": str(row["id"])}
                )
            elif not item.agent_ids & expected[pk]:
                result.findings.append(
                    {
                        "kind": WRONG_AGENT,
                        "number": number,
                        "phone_number_id": str(row["id"]),
                        "inbound_agents": list(item.inbound_agents),
                        "expected": sorted(expected[pk]),
                        # the fix binds only to an agent in retell_agents: the one §3a reads
                        "registered": sorted(registered[pk]),
                    }
                )


def save(results: list[CompanyResult], *, company_ids=None) -> None:
    """Replace the stored results (all of them, or those of ``company_ids``): a fixed number of
    queries, however many companies."""
    from audit_app.models import ProviderReconciliation

    now = timezone.now()
    with transaction.atomic():
        old = ProviderReconciliation.objects.filter(kind=KIND)
        if company_ids is not None:
            old = old.filter(company_id__in=list(company_ids))
        old.delete()
        ProviderReconciliation.objects.bulk_create(
            ProviderReconciliation(
                kind=KIND,
                company_id=r.company_id,
                company_name=r.company_name[:255],
                available=r.available,
                reason=r.reason,
                provider_count=r.provider_count,
                findings=r.findings,
                checked_at=now,
            )
            for r in results
        )
