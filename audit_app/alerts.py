"""Alerts: mail the managers when the audit got worse since the previous snapshot.

``audit --record --notify`` calls ``notify(snapshot)`` right after recording (before the
retention thins the previous snapshot away). Worse means: a critical check has affected rows
that the previous snapshot did not have, or a measure fell below its threshold
(``AUDIT_ALERT_THRESHOLDS``) and was not below it in the previous snapshot (so a measure that
stays low does not alert on every run). Nothing got worse, or there is no previous snapshot:
nothing is sent.

Recipients: the active users of the Manager group with an e-mail address, and the addresses of
``AUDIT_ALERT_RECIPIENTS``; one mail each (addresses compared without case). The console keeps no
language per user: a recipient's language is the one ``AUDIT_ALERT_RECIPIENTS`` names for the
address ("chef@example.org:en"), else ``LANGUAGE_CODE``. Each mail is rendered in its language.

Queries: a fixed number whatever the number of snapshots, rows or recipients.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from audit_app import measures as audit_measures
from audit_app import snapshots
from audit_app.models import AuditSnapshot
from audit_app.registry import get_check
from integrations_app.roles import MANAGER

logger = logging.getLogger("askpro.audit.alerts")

CRITICAL = "critical"


@dataclass(frozen=True)
class NewFindings:
    check_id: str
    new: int  # affected rows not in the previous snapshot
    total: int  # affected rows now


@dataclass(frozen=True)
class Drop:
    key: str
    before: float | None  # None: the previous snapshot had no such measure
    after: float
    threshold: float


@dataclass
class Worse:
    findings: list[NewFindings] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    unknown_thresholds: list[str] = field(default_factory=list)  # keys that name no measure

    def __bool__(self) -> bool:
        return bool(self.findings or self.drops)


@dataclass
class Result:
    worse: Worse
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # address -> error


def compare(older: AuditSnapshot | None, newer: AuditSnapshot) -> Worse:
    """What got worse from ``older`` to ``newer`` (nothing when there is no older snapshot)."""
    thresholds = settings.AUDIT_ALERT_THRESHOLDS
    worse = Worse(unknown_thresholds=sorted(set(thresholds) - set(newer.measures)))
    if older is None:
        return worse
    changes = snapshots.delta(older, newer)
    for check_id, count in sorted(newer.counts.items()):
        change = changes.get(check_id)
        if count.get("severity") == CRITICAL and change and change.new:
            worse.findings.append(NewFindings(check_id, len(change.new), count.get("count", 0)))
    for key, threshold in thresholds.items():
        if key not in newer.measures:
            continue
        after = newer.measures[key]["percent"]
        before = older.measures.get(key, {}).get("percent")
        if after < threshold and (before is None or before >= threshold):
            worse.drops.append(Drop(key, before, after, threshold))
    return worse


def recipients() -> dict[str, str]:
    """{address: language}: the active managers with an address, then the extra addresses."""
    configured = {
        address.lower(): (address, language)
        for address, language in settings.AUDIT_ALERT_RECIPIENTS.items()
    }
    found: dict[str, str] = {}
    managers = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=MANAGER)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    for address in managers:
        address = address.strip()
        if address and address.lower() not in {a.lower() for a in found}:
            language = configured.get(address.lower(), ("", ""))[1]
            found[address] = language or settings.LANGUAGE_CODE
    for address, language in configured.values():
        if address.lower() not in {a.lower() for a in found}:
            found[address] = language or settings.LANGUAGE_CODE
    return found


def dashboard_url() -> str:
    return settings.CONSOLE_BASE_URL.rstrip("/") + reverse("admin:audit_app_dashboard")


def render(worse: Worse, snapshot: AuditSnapshot, previous: AuditSnapshot, language: str):
    """(subject, text, html) of the alert in ``language``."""
    with translation.override(language):
        labels = _measure_labels() if worse.drops else {}
        context = {
            "findings": [
                {
                    "id": f.check_id,
                    "title": _title(f.check_id),
                    "new": f.new,
                    "total": f.total,
                }
                for f in worse.findings
            ],
            "drops": [
                {
                    "key": d.key,
                    "label": labels.get(d.key, d.key),
                    "before": d.before,
                    "after": d.after,
                    "threshold": d.threshold,
                }
                for d in worse.drops
            ],
            "changes": len(worse.findings) + len(worse.drops),
            "snapshot": snapshot,
            "previous": previous,
            "dashboard_url": dashboard_url(),
            "language": language,
        }
        subject = render_to_string("audit_app/mail/alert_subject.txt", context)
        text = render_to_string("audit_app/mail/alert.txt", context)
        html = render_to_string("audit_app/mail/alert.html", context)
    return " ".join(subject.split()), text, html


def notify(snapshot: AuditSnapshot) -> Result:
    """Compare ``snapshot`` with the one before it and mail what got worse (one mail each)."""
    previous = snapshots.before(snapshot)
    result = Result(worse=compare(previous, snapshot))
    if not result.worse:
        return result
    messages = []
    rendered: dict[str, tuple] = {}
    for address, language in recipients().items():
        if language not in rendered:
            rendered[language] = render(result.worse, snapshot, previous, language)
        subject, text, html = rendered[language]
        message = EmailMultiAlternatives(
            subject, text, settings.DEFAULT_FROM_EMAIL, [address], headers={
                "Content-Language": language,
                "Auto-Submitted": "auto-generated",
            }
        )  # fmt: skip
        message.attach_alternative(html, "text/html")
        messages.append((address, message))
    if not messages:
        return result
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 - said per address, as a failed send
        for address, _message in messages:
            result.failed[address] = str(error) or error.__class__.__name__
        logger.warning("audit alerts not sent: %s", error)
        return result
    try:
        for address, message in messages:
            message.connection = connection
            try:
                message.send()
            except Exception as error:  # noqa: BLE001 - one address failing must not stop the rest
                logger.warning("audit alert to %s not sent: %s", address, error)
                result.failed[address] = str(error) or error.__class__.__name__
            else:
                result.sent.append(address)
    finally:
        connection.close()
    return result


def _title(check_id: str) -> str:
    check = get_check(check_id)
    return str(check.title) if check else check_id


def _measure_labels() -> dict[str, str]:
    return {key: str(measure.label) for key, measure in audit_measures.compute().items()}
