"""A few weeks of synthetic audit snapshots for the demo, so a new user sees a trend.

One snapshot a day (06:00 local time) for ``DAYS`` days up to yesterday, source "demo". The
values are derived from the demo database as it is, deterministically: every measure climbs
from about a third of today's numerator to today's value, and every check that has findings
today had more the weeks before (real rows of the same table, lowest ids first, listed as
affected then and resolved since). Checks without findings today stay without them.
"""

from datetime import timedelta

from django.utils import timezone

from audit_app import measures as audit_measures
from audit_app.models import AuditSnapshot
from audit_app.registry import run_all
from audit_app.snapshots import row_key
from integrations_app.models import GATEWAY_MODELS

DAYS = 28
START = 0.35  # the first snapshot's share of today's numerators


def _progress(index: int, days: int) -> float:
    """0.35 on the first day up to 1.0 on the last, in a steady climb."""
    if days <= 1:
        return 1.0
    return START + (1.0 - START) * index / (days - 1)


def _pool(table: str, cache: dict) -> list[str]:
    """Keys ("table:pk") of every row of a gateway table, lowest id first; [] for other tables."""
    if table not in cache:
        model = next((m for m in GATEWAY_MODELS if m._meta.db_table == table), None)
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True)) if model else []
        cache[table] = [f"{table}:{pk}" for pk in pks]
    return cache[table]


def build_demo_snapshots(*, days: int = DAYS, now=None) -> list[AuditSnapshot]:
    """Unsaved snapshots, oldest first, ending yesterday with today's audit."""
    now = timezone.localtime(now or timezone.now())
    last = (now - timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)
    outcomes = run_all()
    computed = audit_measures.compute()
    pools: dict[str, list[str]] = {}
    made = []
    for index in range(days):
        share = _progress(index, days)
        measures = {}
        for key, m in computed.items():
            numerator = round(m.numerator * share)
            percent = round(m.percent * numerator / m.numerator, 1) if m.numerator else m.percent
            measures[key] = {
                "numerator": numerator,
                "denominator": m.denominator,
                "percent": percent,
            }
        counts, findings = {}, {}
        for outcome in outcomes:
            keys = sorted({row_key(row) for row in outcome.rows})
            if outcome.available and keys:
                wanted = round(len(keys) * (1.0 - share) * 2)
                extra = [k for k in _pool(keys[0].split(":", 1)[0], pools) if k not in keys]
                keys = sorted([*keys, *extra[:wanted]])
            counts[outcome.check.id] = {
                "severity": outcome.check.severity.value,
                "count": len(keys) if outcome.available else 0,
                "available": outcome.available,
            }
            if outcome.available and keys:
                findings[outcome.check.id] = keys
        made.append(
            AuditSnapshot(
                taken_at=last - timedelta(days=days - 1 - index),
                source="demo",
                measures=measures,
                counts=counts,
                findings=findings,
            )
        )
    return made


def write_demo_snapshots(*, days: int = DAYS, now=None) -> int:
    """Store the demo's snapshots; returns how many."""
    return len(AuditSnapshot.objects.bulk_create(build_demo_snapshots(days=days, now=now)))
