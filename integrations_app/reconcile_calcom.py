"""Event types in Cal.com against `services` in the gateway (semantics.md §2, §3b).

For each live company with a Cal.com key (`companies.calcom_api_key`, decrypted with the
gateway's Encrypter, the key the gateway's own team import uses): read the team's event types
(`GET /v2/teams/{calcom_team_id}/event-types`, or the key user's `GET /v2/event-types` without a
team) and compare them with `services` by `calcom_event_type_id`:

- ``missing_service``: an event type without a service (calls cannot book it);
- ``orphan_service``: a service of the company whose event type Cal.com no longer lists;
- ``switched_off``: a service switched off with ``sync_error = 'Event Type not found in
  Cal.com'`` whose event type does exist (the gateway's own 30-minute sync, §3b);
- ``drift``: name or duration (``lengthInMinutes``) differ;
- ``other_company``: the event type's service is filed under another company (a webhook without
  ``metadata.company_id``): shown, never moved.

A company whose key cannot be read or whose Cal.com cannot be read is ``available = False`` with
the reason, never "in sync". Provider answers are cached for one run (`Run`), companies are read
by at most `MAX_WORKERS` threads; the database is read before and after, never in a thread.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.labels import local_time
from integrations_app.models import Company, Service
from integrations_app.providers.calcom import CalcomClient
from integrations_app.providers.errors import ProviderError, key_problem

KIND = "calcom_event_types"
SWITCHED_OFF_ERROR = "Event Type not found in Cal.com"
MAX_WORKERS = 4

MISSING_SERVICE = "missing_service"
ORPHAN_SERVICE = "orphan_service"
SWITCHED_OFF = "switched_off"
DRIFT = "drift"
OTHER_COMPANY = "other_company"


@dataclass
class CompanyResult:
    company_id: int
    company_name: str
    available: bool = True
    reason: str = ""
    event_types: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)


class Run:
    """One reconciliation: its cache of Cal.com answers, keyed by (key, team id)."""

    def __init__(self, *, max_workers: int = MAX_WORKERS):
        self.max_workers = max_workers
        self._cache: dict[tuple[str, int | None], list[dict] | ProviderError] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, int | None], threading.Lock] = {}
        self.requests = 0

    def event_types(self, api_key: str, team_id: int | None) -> list[dict]:
        cache_key = (api_key, team_id)
        with self._lock:  # one lock per key and team: a second thread waits for the first
            key_lock = self._key_locks.setdefault(cache_key, threading.Lock())
        with key_lock:
            cached = self._cache.get(cache_key)
            if cached is None:
                try:
                    with CalcomClient(api_key=api_key) as client:
                        cached = client.event_types(team_id=team_id)
                except ProviderError as error:
                    cached = error
                with self._lock:
                    self.requests += 1
                self._cache[cache_key] = cached
        if isinstance(cached, ProviderError):
            raise cached
        return cached


CONFIGURED = (Q(calcom_api_key__isnull=False) & ~Q(calcom_api_key="")) | Q(
    calcom_team_id__isnull=False
)


def companies_configured() -> bool:
    """Whether any live company has a Cal.com key or team id (one query)."""
    return Company.objects.filter(CONFIGURED).exists()


def companies_with_key(company_ids=None):
    """Live companies with a Cal.com key or team id, in id order (one query)."""
    companies = Company.objects.filter(CONFIGURED).order_by("pk")
    if company_ids:
        companies = companies.filter(pk__in=company_ids)
    return list(companies.only("id", "name", "calcom_api_key", "calcom_team_id"))


def reconcile(company_ids=None, *, run: Run | None = None) -> list[CompanyResult]:
    """Compare every company with a key (or only ``company_ids``); nothing is written."""
    run = run or Run()
    companies = companies_with_key(company_ids)
    if not companies:
        return []
    jobs = []  # (result, key, team id)
    results = []
    encrypter, encrypter_error = _encrypter()
    for company in companies:
        result = CompanyResult(company.pk, company.name)
        results.append(result)
        key, problem = _company_key(company, encrypter, encrypter_error)
        if problem:
            result.available, result.reason = False, problem
        else:
            jobs.append((result, key, company.calcom_team_id))

    def read(job):
        result, key, team_id = job
        try:
            result.event_types = run.event_types(key, team_id)
        except ProviderError as error:
            result.available, result.reason = False, error.message

    if len(jobs) > 1 and run.max_workers > 1:
        with ThreadPoolExecutor(max_workers=min(run.max_workers, len(jobs))) as pool:
            list(pool.map(read, jobs))
    else:
        for job in jobs:
            read(job)
    _compare(results)
    return results


def _encrypter():
    try:
        return Encrypter.from_settings(), ""
    except GatewayKeyError as error:
        return None, str(error)


def _company_key(company, encrypter, encrypter_error) -> tuple[str, str]:
    """(the decrypted key, "") or ("", why there is no usable key); never the key in a text."""
    if not company.calcom_api_key:
        return "", _("the company has no Cal.com key (companies.calcom_api_key)")
    if encrypter is None:
        return "", _("the gateway's key is needed to read the Cal.com key: %(error)s") % {
            "error": encrypter_error
        }
    try:
        key = encrypter.decrypt(company.calcom_api_key)
    except (DecryptionError, ValueError):
        return "", _("the company's Cal.com key cannot be decrypted with the gateway's keys")
    problem = key_problem(key)
    if problem:
        return "", _("the company's Cal.com key is not usable: %(problem)s") % {"problem": problem}
    return key, ""


def _compare(results: list[CompanyResult]) -> None:
    """Fill each available result's findings; two queries, whatever the number of companies."""
    available = [r for r in results if r.available]
    if not available:
        return
    ids = {str(et["id"]) for r in available for et in r.event_types}
    # Every service holding one of these ids, soft-deleted ones too (the column is unique).
    by_event_type = {
        s.calcom_event_type_id: s
        for s in Service.all_objects.filter(calcom_event_type_id__in=ids).select_related("company")
    }
    company_ids = [r.company_id for r in available]
    of_companies: dict[int, list] = {}
    for service in Service.objects.filter(
        company_id__in=company_ids, calcom_event_type_id__isnull=False
    ).exclude(calcom_event_type_id=""):
        of_companies.setdefault(service.company_id, []).append(service)
    for result in available:
        listed = set()
        for et in result.event_types:
            et_id = str(et["id"])
            listed.add(et_id)
            base = {"event_type_id": et_id, "title": et["title"], "length": et["lengthInMinutes"]}
            service = by_event_type.get(et_id)
            if service is None:
                result.findings.append({"kind": MISSING_SERVICE, **base, "hidden": et["hidden"]})
                continue
            base |= {"service_id": service.pk, "service_name": service.name}
            if service.deleted_at is not None or service.company_id != result.company_id:
                other = service.company
                result.findings.append(
                    {
                        "kind": OTHER_COMPANY,
                        **base,
                        "company_id": service.company_id,
                        "company_name": other.name if other else str(service.company_id),
                        "deleted": service.deleted_at is not None,
                    }
                )
                continue
            if not service.is_active and (service.sync_error or "").strip() == SWITCHED_OFF_ERROR:
                result.findings.append({"kind": SWITCHED_OFF, **base, "hidden": et["hidden"]})
            differences = {}
            ours = service.calcom_name or service.name
            if ours != et["title"]:
                differences["name"] = [ours, et["title"]]
            if service.duration_minutes != et["lengthInMinutes"]:
                differences["duration_minutes"] = [service.duration_minutes, et["lengthInMinutes"]]
            if differences:
                result.findings.append({"kind": DRIFT, **base, "differences": differences})
        for service in of_companies.get(result.company_id, []):
            if service.calcom_event_type_id not in listed:
                result.findings.append(
                    {
                        "kind": ORPHAN_SERVICE,
                        "event_type_id": service.calcom_event_type_id,
                        "service_id": service.pk,
                        "service_name": service.name,
                    }
                )


def store(results: list[CompanyResult], *, company_ids=None) -> int:
    """Replace the stored reconciliation (of ``company_ids``, else of every company)."""
    from audit_app.models import ProviderReconciliation

    now = timezone.now()
    rows = [
        ProviderReconciliation(
            kind=KIND,
            company_id=r.company_id,
            company_name=r.company_name[:255],
            available=r.available,
            reason=r.reason,
            provider_count=len(r.event_types),
            findings=r.findings,
            checked_at=now,
        )
        for r in results
    ]
    with transaction.atomic():
        old = ProviderReconciliation.objects.filter(kind=KIND)
        if company_ids:
            old = old.filter(company_id__in=company_ids)
        old.delete()
        ProviderReconciliation.objects.bulk_create(rows)
    return len(rows)


def finding_text(finding: dict) -> str:
    """One finding in words (translated), for the company page and the audit."""
    values = {k: v for k, v in finding.items() if not isinstance(v, dict | list)}
    kind = finding.get("kind")
    if kind == MISSING_SERVICE:
        return (
            _(
                'event type %(event_type_id)s "%(title)s" (%(length)s min) has no service: calls '
                "cannot book it"
            )
            % values
        )
    if kind == ORPHAN_SERVICE:
        return (
            _(
                'service "%(service_name)s" names event type %(event_type_id)s, which Cal.com no '
                "longer lists"
            )
            % values
        )
    if kind == SWITCHED_OFF:
        return (
            _(
                'service "%(service_name)s" was switched off ("Event Type not found in Cal.com"), '
                "but event type %(event_type_id)s exists"
            )
            % values
        )
    if kind == DRIFT:
        parts = []
        for column, (ours, theirs) in finding["differences"].items():
            label = _("name") if column == "name" else _("duration")
            parts.append(
                _("%(field)s %(ours)s here, %(theirs)s in Cal.com")
                % {"field": label, "ours": ours, "theirs": theirs}
            )
        return _(
            'service "%(service_name)s" differs from event type %(event_type_id)s: %(parts)s'
        ) % {
            **values,
            "parts": "; ".join(parts),
        }
    if kind == OTHER_COMPANY:
        return (
            _(
                'event type %(event_type_id)s "%(title)s" is filed under %(company_name)s (service '
                '"%(service_name)s"): shown, not moved'
            )
            % values
        )
    return str(finding)


def company_panel(company_id: int):
    """The company page's section: the last comparison of its event types (one query)."""
    from django.utils.html import format_html, format_html_join

    from audit_app.models import ProviderReconciliation

    stored = ProviderReconciliation.objects.filter(kind=KIND, company_id=company_id).first()
    if stored is None:
        return _("not compared yet (manage.py reconcile_calcom)")
    when = local_time(stored.checked_at)
    if not stored.available:
        return format_html(
            '<span class="askpro-unavailable-text">{}</span>',
            _("not available (%(when)s): %(reason)s") % {"when": when, "reason": stored.reason},
        )
    if not stored.findings:
        return ngettext(
            "%(count)s event type, with its service (%(when)s)",
            "%(count)s event types, all with their service (%(when)s)",
            stored.provider_count,
        ) % {"count": stored.provider_count, "when": when}
    items = format_html_join("", "<li>{}</li>", ((finding_text(f),) for f in stored.findings))
    return format_html(
        "{}<ul>{}</ul>",
        _("%(event_types)s, %(differences)s (%(when)s):")
        % {
            "event_types": ngettext(
                "%(count)s event type", "%(count)s event types", stored.provider_count
            )
            % {"count": stored.provider_count},
            "differences": ngettext(
                "%(count)s difference", "%(count)s differences", len(stored.findings)
            )
            % {"count": len(stored.findings)},
            "when": when,
        },
        items,
    )
