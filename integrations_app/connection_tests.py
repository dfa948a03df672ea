"""Test connection: prove an integration's key and configuration against its provider.

Cal.com: the key (``/me``) and the configured event type. Retell AI: the key and the configured
agent, and whether the company's phone numbers are bound to that agent in Retell. The outcomes
land in the integrations' health fields in one transaction, one operation (source
connection_test) recorded in the change store like every other write (``services.update_rows``,
a fixed number of queries however many integrations were tested); the provider calls happen
before, outside any transaction, so no row stays locked while a provider is slow.

A test passes (``ConnectionResult.ok``) only when the integration is healthy:

- healthy (score 100): every check passed; success_count + 1, last_success_at, last_error NULL;
- degraded (score 50-99): key and agent work, but numbers are not bound to the agent (or
  could not be listed); unhealthy (score 0, or 25 when the Cal.com key works but the event type
  does not): the key, the configuration or the provider failed. Both: error_count + 1,
  last_error_at, last_error = what is wrong, never a secret.

Nothing is written when the console cannot judge the integration: a provider without a
connection test, or GATEWAY_APP_KEY missing (the console's problem, not the integration's).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import router, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from changelog.models import Source
from changelog.naming import integrations_name
from changelog.recording import current, operation
from integrations_app import services
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.integration_kinds import (
    CALCOM,
    CONFIG_AGENT_ID,
    CONFIG_EVENT_TYPE_ID,
    KINDS,
    RETELL,
)
from integrations_app.models import Integration, PhoneNumber
from integrations_app.phone import to_e164
from integrations_app.providers import calcom, retell
from integrations_app.providers.base import (
    ERROR,
    HEALTHY,
    UNHEALTHY,
    UNKNOWN,
    Check,
    ProviderReport,
)
from integrations_app.providers.errors import key_problem, redact_key

logger = logging.getLogger("askpro.connection_tests")

TESTABLE_PROVIDERS = (CALCOM.provider, RETELL.provider)
LAST_ERROR_CHARS = 2000
HEALTH_FIELDS = (
    "health_status",
    "health_score",
    "last_error",
    "last_success_at",
    "last_error_at",
    "success_count",
    "error_count",
)


@dataclass(frozen=True)
class ConnectionResult:
    """The outcome of one connection test; every text is safe to show (no secret in it)."""

    integration_id: int
    company_id: int | None
    company_name: str
    provider: str  # the integration's provider key, e.g. "calcom"
    provider_label: str  # "Cal.com", "Retell AI"
    title: str  # the integration as every page names it: "Cal.com · <company>"
    status: str  # healthy, degraded, unhealthy; unknown when the console could not test
    score: int  # 0-100, as written to health_score
    message: str  # one line: the problems, or what was proven; becomes last_error on failure
    checks: tuple[Check, ...]  # every check with its own severity and message
    key_fingerprint: str | None  # keyed fingerprint of the decrypted key, None if unreadable
    recorded: bool  # the health fields were written
    tested_at: datetime

    @property
    def ok(self) -> bool:
        return self.status == HEALTHY


def test_connection(*, integration: Integration) -> ConnectionResult:
    """Test one integration and write its health fields; never raises for a bad key or config.

    The write is recorded under a connection-test operation named after the integration (the
    request's user in the admin). The integration instance gets the new health values too.
    """
    numbers = _company_numbers(
        [integration.company_id] if integration.provider == RETELL.provider else []
    )
    return _test_all([integration], _encrypter(), numbers)[0]


def test_connections(*, queryset: QuerySet) -> list[ConnectionResult]:
    """Test every integration of ``queryset``, in its order, one provider call set each.

    A fixed number of queries whatever the number of rows: two reads (the integrations with
    their companies, the phone numbers of the Retell companies) and one recorded bulk write
    of every outcome.
    """
    integrations = list(queryset.select_related("company"))
    numbers = _company_numbers(
        {i.company_id for i in integrations if i.provider == RETELL.provider and i.company_id}
    )
    return _test_all(integrations, _encrypter(), numbers)


# pytest must not collect these when a test module imports them.
test_connection.__test__ = False
test_connections.__test__ = False


def testable_integrations(
    *, company_id: int | None = None, provider: str | None = None
) -> QuerySet:
    """Active Cal.com and Retell integrations of live companies, optionally filtered."""
    queryset = (
        Integration.objects.active()
        .filter(provider__in=TESTABLE_PROVIDERS)
        .filter(company__deleted_at__isnull=True)
        .order_by("company_id", "provider", "pk")
    )
    if company_id is not None:
        queryset = queryset.filter(company_id=company_id)
    if provider is not None:
        queryset = queryset.filter(provider=provider)
    return queryset


# -- one integration -------------------------------------------------------------------------


def _encrypter() -> Encrypter | GatewayKeyError:
    try:
        return Encrypter.from_settings()
    except GatewayKeyError as error:
        return error


@dataclass
class _Outcome:
    integration: Integration
    report: ProviderReport
    message: str
    key_fingerprint: str | None
    now: datetime


def _test_all(
    integrations: list[Integration],
    encrypter: Encrypter | GatewayKeyError,
    numbers: dict[int, list[str]],
) -> list[ConnectionResult]:
    outcomes = judge_all(integrations, encrypter, numbers)
    recorded = _record(outcomes)
    return [_result(outcome, outcome.integration.pk in recorded) for outcome in outcomes]


def judge_all(integrations, encrypter, numbers, concurrency: int | None = None) -> list[_Outcome]:
    """``_judge`` each integration, up to ``CONNECTION_TEST_CONCURRENCY`` at once, in order.

    Threads, because a test waits on the provider, not on the CPU; each thread speaks the
    caller's language and touches no database (the rows and numbers were read before).
    """
    workers = min(concurrency or settings.CONNECTION_TEST_CONCURRENCY, len(integrations))
    if workers <= 1:
        return [_judge(integration, encrypter, numbers) for integration in integrations]
    language = translation.get_language()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="connection-test") as pool:
        return list(pool.map(lambda i: judge_in(language, i, encrypter, numbers), integrations))


def judge_in(language: str | None, integration, encrypter, numbers) -> _Outcome:
    """``_judge`` in ``language`` (a worker thread does not speak its caller's language)."""
    with translation.override(language):
        return _judge(integration, encrypter, numbers)


def _judge(
    integration: Integration, encrypter: Encrypter | GatewayKeyError, numbers: dict[int, list[str]]
) -> _Outcome:
    """Ask the provider (no transaction is open): the report of one integration."""
    now = timezone.now().replace(microsecond=0)
    key_fingerprint = None
    if integration.provider not in TESTABLE_PROVIDERS:
        report = _not_tested(_("connection tests exist for Cal.com and Retell AI only"))
    elif isinstance(encrypter, GatewayKeyError):
        report = _not_tested(
            _("cannot test: %(error)s, so the stored API key cannot be decrypted")
            % {"error": encrypter}
        )
    else:
        api_key, problems = _read_key(integration, encrypter)
        if api_key is not None:
            key_fingerprint = fingerprint(api_key)
        problems += _config_problems(integration)
        if problems:
            report = ProviderReport(UNHEALTHY, 0, tuple(problems))
        elif integration.provider == CALCOM.provider:
            report = calcom.run_checks(
                api_key=api_key, event_type_id=_event_type_id(integration.config)
            )
        else:
            report = retell.run_checks(
                api_key=api_key,
                agent_id=_agent_id(integration.config),
                company_numbers=numbers.get(integration.company_id, ()),
            )
    # What is shown and stored in last_error: every provider text in it is made safe again here.
    message = redact_key("; ".join(c.message for c in (report.problems or report.checks)))
    return _Outcome(integration, report, message, key_fingerprint, now)


def _result(outcome: _Outcome, recorded: bool) -> ConnectionResult:
    integration, report = outcome.integration, outcome.report
    kind = KINDS.get(integration.provider or "")
    company = integration.company if integration.company_id else None
    result = ConnectionResult(
        integration_id=integration.pk,
        company_id=integration.company_id,
        company_name=company.name if company is not None else "",
        provider=integration.provider or "",
        provider_label=kind.name if kind else (integration.provider or ""),
        title=str(integration),
        status=report.status,
        score=report.score,
        message=outcome.message,
        checks=report.checks,
        key_fingerprint=outcome.key_fingerprint,
        recorded=recorded,
        tested_at=outcome.now,
    )
    logger.log(
        logging.INFO if result.ok else logging.WARNING,
        "connection test of integration %s (%s, company %s): %s, score %s: %s",
        result.integration_id,
        result.provider,
        result.company_id,
        result.status,
        result.score,
        result.message,
    )
    return result


def _not_tested(message: str) -> ProviderReport:
    return ProviderReport(UNKNOWN, 0, (Check("setup", _("connection test"), ERROR, message),))


def _read_key(integration: Integration, encrypter: Encrypter) -> tuple[str | None, list[Check]]:
    """The decrypted integrations.api_key (encryptString flavour), or why there is none."""
    label = _("API key")
    if not integration.api_key:
        return None, [Check("key", label, ERROR, _("no API key is stored"))]
    try:
        api_key = encrypter.decrypt_string(integration.api_key)
    except DecryptionError as error:
        return None, [
            Check(
                "key",
                label,
                ERROR,
                _("the stored API key cannot be decrypted: %(reason)s") % {"reason": error.message},
            )
        ]
    problem = key_problem(api_key)
    if problem:
        return api_key, [
            Check(
                "key",
                label,
                ERROR,
                _("the stored key is unusable: %(problem)s") % {"problem": problem},
            )
        ]
    return api_key, []


def _config_problems(integration: Integration) -> list[Check]:
    label = _("configuration")
    config = integration.config if isinstance(integration.config, dict) else {}
    if integration.provider == CALCOM.provider:
        raw = config.get(CONFIG_EVENT_TYPE_ID)
        if raw in (None, ""):
            return [Check("config", label, ERROR, _("no Cal.com event type id is configured"))]
        if _event_type_id(config) is None:
            return [
                Check(
                    "config",
                    label,
                    ERROR,
                    _("the configured event type id %(value)s is not a positive whole number")
                    % {"value": str(raw)[:40]},
                )
            ]
    elif not _agent_id(config):
        return [Check("config", label, ERROR, _("no Retell agent id is configured"))]
    return []


def _event_type_id(config) -> int | None:
    raw = (config or {}).get(CONFIG_EVENT_TYPE_ID)
    if isinstance(raw, bool):
        return None
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _agent_id(config) -> str:
    raw = (config or {}).get(CONFIG_AGENT_ID)
    return raw.strip() if isinstance(raw, str) else ""


def _company_numbers(company_ids: Iterable[int]) -> dict[int, list[str]]:
    """The E.164 numbers the gateway routes to each company: active rows not marked deleted."""
    company_ids = {pk for pk in company_ids if pk is not None}
    if not company_ids:
        return {}
    rows = PhoneNumber.objects.filter(
        company_id__in=company_ids, is_active=True, deleted_at__isnull=True
    ).values_list("company_id", "number_normalized", "number")
    numbers: dict[int, list[str]] = defaultdict(list)
    for company_id, normalized, number in rows:
        numbers[company_id].append(_e164(normalized, number))
    return numbers


def _e164(normalized: str | None, number: str) -> str:
    value = (normalized or "").strip() or (number or "").strip()
    if value.isdigit():
        value = "+" + value  # the gateway also stores E.164 without its plus
    return to_e164(value) or value


# -- the write -------------------------------------------------------------------------------


def _record(outcomes: list[_Outcome]) -> set:
    """Write the judged outcomes into the health fields; the keys of the rows written.

    One transaction and one operation (source connection_test, named after what it tested:
    ``operation_name``; in the admin, the request's user) for all of them: the rows are locked
    and read once, so that concurrent tests never lose a count, then written by one
    ``update_rows``. A row removed while its provider was being asked is not written (nor
    recreated).
    """
    judged = {o.integration.pk: o for o in outcomes if o.report.status != UNKNOWN}
    if not judged:
        return set()
    ambient = current()
    with (
        operation(
            source=Source.CONNECTION_TEST,
            name=operation_name([o.integration for o in judged.values()]),
            user=ambient.user if ambient is not None else None,
        ),
        transaction.atomic(using=router.db_for_write(Integration)),
    ):
        rows = Integration.objects.select_for_update().order_by().in_bulk(list(judged))
        values = {pk: _health_values(row, judged[pk]) for pk, row in rows.items()}
        services.update_rows(model=Integration, values=values, touch=False)
    for pk, new_values in values.items():
        for name, value in new_values.items():
            setattr(judged[pk].integration, name, value)
    return set(values)


def operation_name(integrations: list[Integration]) -> str:
    """A test of one integration is named after it ("Cal.com · Praxis Dr. Lindenberg", its
    company loaded with it), of several by their number, shown in the reader's language
    ("12 Integrationen": changelog/naming.py)."""
    if len(integrations) == 1:
        return str(integrations[0])[:120]
    return integrations_name(len(integrations))


def _health_values(row: Integration, outcome: _Outcome) -> dict:
    """Every health column (and updated_at) as the outcome leaves it: one set of columns for
    every row, so that the bulk write is one statement per batch."""
    status, now = outcome.report.status, outcome.now
    values = {name: getattr(row, name) for name in HEALTH_FIELDS}
    values |= {"health_status": status, "health_score": outcome.report.score, "updated_at": now}
    if status == HEALTHY:
        values |= {
            "last_error": None,
            "last_success_at": now,
            "success_count": (row.success_count or 0) + 1,
        }
    else:
        values |= {
            "last_error": outcome.message[:LAST_ERROR_CHARS],
            "last_error_at": now,
            "error_count": (row.error_count or 0) + 1,
        }
    return values
