"""Audit snapshots: recording, what is new or resolved between two, retention (issue 15)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit_app import snapshots
from audit_app.models import AuditSnapshot
from tests import audit_rows as r

pytestmark = pytest.mark.django_db


def test_a_snapshot_holds_measures_counts_and_the_keys_of_the_affected_rows():
    lonely = r.company("Ohne Filiale GmbH")
    snapshot = snapshots.record(source="command")
    assert snapshot.measures["branch_coverage"]["denominator"] == 1
    assert snapshot.counts["AUD-BRN-001"] == {"severity": "critical", "count": 1, "available": True}
    assert snapshot.findings["AUD-BRN-001"] == [f"companies:{lonely.pk}"]


def test_new_and_resolved_since_the_previous_snapshot():
    first_gap = r.company("Erste GmbH")
    older = snapshots.record()
    second_gap = r.company("Zweite GmbH")
    r.branch(first_gap, "Mitte")
    newer = snapshots.record()
    change = snapshots.delta(snapshots.before(newer), newer)["AUD-BRN-001"]
    assert change.new == {f"companies:{second_gap.pk}"}
    assert change.resolved == {f"companies:{first_gap.pk}"}
    assert snapshots.delta(None, older) == {}


def test_the_command_records_on_request_and_says_so_on_stderr():
    out, err = StringIO(), StringIO()
    call_command("audit", "--format", "json", "--fail-on", "never", stdout=out, stderr=err)
    assert not AuditSnapshot.objects.exists()
    call_command(
        "audit", "--format", "json", "--fail-on", "never", "--record", stdout=out, stderr=err
    )
    assert AuditSnapshot.objects.count() == 1
    assert str(AuditSnapshot.objects.get().pk) in err.getvalue()


def test_retention_keeps_one_a_day_then_one_a_week(settings):
    settings.AUDIT_SNAPSHOT_DAILY_DAYS = 90
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    moments = [now - timedelta(days=d, hours=h) for d in range(0, 200) for h in (0, 3)]
    AuditSnapshot.objects.bulk_create(AuditSnapshot(taken_at=m) for m in moments)
    snapshots.thin(now=now)
    kept = sorted(AuditSnapshot.objects.values_list("taken_at", flat=True))
    recent = [t for t in kept if t >= now - timedelta(days=90)]
    old = [t for t in kept if t < now - timedelta(days=90)]
    days = {timezone.localtime(t).date() for t in recent}
    assert len(recent) == len(days)  # one a day
    weeks = {timezone.localtime(t).isocalendar()[:2] for t in old}
    assert len(old) == len(weeks)  # one a week
    assert max(kept) == max(moments)  # the newest stays
    assert snapshots.thin(now=now) == 0  # nothing more to thin
