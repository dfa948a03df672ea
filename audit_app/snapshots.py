"""The audit over time: snapshots, what changed between two of them, and their retention.

``record`` stores the audit as it is now (the ``audit --record`` command and the dashboard's
"record now" button); ``delta`` says per check which affected rows are new and which were
resolved between two snapshots; ``thin`` keeps one snapshot a day for
``AUDIT_SNAPSHOT_DAILY_DAYS`` days and one a week before that.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit_app import measures as audit_measures
from audit_app.models import AuditSnapshot
from audit_app.registry import Affected, Outcome, audit_run, get_check, run_all

# What the trend pages read: never the affected rows' keys.
LIGHT = ("id", "taken_at", "taken_by", "source", "measures", "counts")


def row_key(row: Affected) -> str:
    return f"{row.table}:{row.pk}"


def record(
    *, user=None, source: str = "command", outcomes: list[Outcome] | None = None, taken_at=None
) -> AuditSnapshot:
    """Store the audit as it is now: every measure, every check's count, the affected rows' keys."""
    with audit_run():
        outcomes = run_all() if outcomes is None else outcomes
        computed = audit_measures.compute()
    return AuditSnapshot.objects.create(
        taken_at=taken_at or timezone.now(),
        taken_by=user if getattr(user, "is_authenticated", False) else None,
        source=source,
        measures={
            key: {"numerator": m.numerator, "denominator": m.denominator, "percent": m.percent}
            for key, m in computed.items()
        },
        counts={
            o.check.id: {
                "severity": o.check.severity.value,
                "count": o.count,
                "available": o.available,
            }
            for o in outcomes
        },
        findings={
            o.check.id: sorted({row_key(r) for r in o.rows})
            for o in outcomes
            if o.available and o.rows
        },
    )


def latest() -> AuditSnapshot | None:
    return AuditSnapshot.objects.only(*LIGHT).order_by("-taken_at", "-id").first()


def before(snapshot: AuditSnapshot) -> AuditSnapshot | None:
    """The snapshot just before ``snapshot``."""
    return (
        AuditSnapshot.objects.only(*LIGHT)
        .filter(
            Q(taken_at__lt=snapshot.taken_at) | Q(taken_at=snapshot.taken_at, id__lt=snapshot.pk)
        )
        .order_by("-taken_at", "-id")
        .first()
    )


def at_or_before(moment) -> AuditSnapshot | None:
    """The newest snapshot taken no later than ``moment`` (for "since 7 / 30 days")."""
    return (
        AuditSnapshot.objects.only(*LIGHT)
        .filter(taken_at__lte=moment)
        .order_by("-taken_at", "-id")
        .first()
    )


@dataclass
class Delta:
    new: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)


def known_keys(findings: dict, check_id: str) -> set[str]:
    """The row keys a snapshot's ``findings`` knew for ``check_id``: its own rows and those of
    the check it improves on (Check.improves_on), which are no new damage when found here."""
    keys = set(findings.get(check_id, ()))
    check = get_check(check_id)
    if check is not None and check.improves_on:
        keys |= set(findings.get(check.improves_on, ()))
    return keys


def delta(older: AuditSnapshot | None, newer: AuditSnapshot) -> dict[str, Delta]:
    """Per check: the affected rows in ``newer`` that ``older`` did not have, and the reverse.

    Without an older snapshot nothing is new (a first snapshot has no "since").
    """
    if older is None:
        return {}
    old, new = _findings(older), _findings(newer)
    return {
        check_id: Delta(
            set(new.get(check_id, ())) - known_keys(old, check_id),
            set(old.get(check_id, ())) - set(new.get(check_id, ())),
        )
        for check_id in set(old) | set(new)
    }


def _findings(snapshot: AuditSnapshot) -> dict:
    if "findings" in snapshot.get_deferred_fields():
        return AuditSnapshot.objects.values_list("findings", flat=True).get(pk=snapshot.pk)
    return snapshot.findings


def thin(*, now=None) -> int:
    """Apply the retention: one snapshot a day (the day's last) for the last
    ``AUDIT_SNAPSHOT_DAILY_DAYS`` days, one a week (the week's last) before. Returns how many
    were deleted; the newest snapshot always stays."""
    now = now or timezone.now()
    daily_since = now - timedelta(days=settings.AUDIT_SNAPSHOT_DAILY_DAYS)
    kept: set = set()
    drop = []
    for pk, taken_at in AuditSnapshot.objects.order_by("-taken_at", "-id").values_list(
        "id", "taken_at"
    ):
        local = timezone.localtime(taken_at)
        bucket = local.date() if taken_at >= daily_since else local.isocalendar()[:2]
        if bucket in kept:
            drop.append(pk)
        else:
            kept.add(bucket)
    with transaction.atomic():
        for start in range(0, len(drop), 500):
            AuditSnapshot.objects.filter(pk__in=drop[start : start + 500]).delete()
    return len(drop)
