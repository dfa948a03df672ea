"""The audit over time as the dashboard and the compare page show it, in a fixed number of queries.

``dashboard_trends`` reads the last ``AUDIT_TREND_POINTS`` snapshots (measures and counts only,
never the affected rows' keys: ``snapshots.LIGHT``), the snapshots at or before 7 and 30 days ago,
and the affected rows' keys of the latest snapshot (and of the "new since" snapshot, when another
one is asked for): at most five queries, whatever the number of snapshots. The live audit is the
chart's last point; "since the previous snapshot" compares it with the latest snapshot.

``compare`` puts two snapshots side by side: every measure before → after, and per check the
count before → after with its new and resolved rows.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from audit_app import snapshots
from audit_app.models import AuditSnapshot
from audit_app.registry import Outcome, get_check
from integrations_app.labels import local_time

DEFAULT_TREND_POINTS = 60
# The compare page lists this many keys of new and of resolved rows per check.
KEYS_SHOWN = 50
# The compare page's select boxes offer this many of the newest snapshots.
CHOICES_SHOWN = 500
# The sparkline's box, in SVG user units (the CSS scales it).
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 160, 40, 3
# What a chart reads of a snapshot.
SERIES_FIELDS = ("id", "taken_at", "source", "measures", "counts")


def trend_points() -> int:
    return max(1, int(getattr(settings, "AUDIT_TREND_POINTS", DEFAULT_TREND_POINTS)))


def live_keys(outcome: Outcome) -> set[str]:
    return {snapshots.row_key(row) for row in outcome.rows}


def signed(change: float) -> str:
    """+1.5 / −1.5 / ±0.0 with the locale's decimal separator (1,5 in German)."""
    rounded = round(change, 1)
    text = number_format(abs(rounded), decimal_pos=1, use_l10n=True)
    if rounded > 0:
        return f"+{text}"
    if rounded < 0:
        return f"\u2212{text}"
    return f"\u00b1{text}"


def when(moment: datetime) -> str:
    return local_time(moment)


@dataclass
class Point:
    percent: float
    taken_at: datetime
    snapshot_id: int | None  # None: the live audit

    @property
    def label(self) -> str:
        moment = _("now") if self.snapshot_id is None else when(self.taken_at)
        return f"{moment}: {number_format(self.percent, decimal_pos=1, use_l10n=True)} %"


@dataclass
class Change:
    """A measure's change against one earlier snapshot, in percentage points."""

    kind: str  # "previous", "7d", "30d"
    points: float
    since: datetime

    @property
    def text(self) -> str:
        value = signed(self.points)
        if self.kind == "previous":
            return _("%(change)s percentage points since the previous snapshot (%(date)s)") % {
                "change": value,
                "date": when(self.since),
            }
        if self.kind == "7d":
            return _("%(change)s percentage points in 7 days") % {"change": value}
        return _("%(change)s percentage points in 30 days") % {"change": value}

    @property
    def plain(self) -> str:
        """The change with a dot, for attributes: "-1.5"."""
        return f"{round(self.points, 1):.1f}"

    @property
    def direction(self) -> str:
        rounded = round(self.points, 1)
        return "up" if rounded > 0 else "down" if rounded < 0 else "same"


@dataclass
class Trend:
    key: str
    points: list[Point]
    changes: list[Change]

    @property
    def data_points(self) -> str:
        """The percents in order, dot decimals, for tests and tools: "12.5 13.0 40.0"."""
        return " ".join(f"{p.percent:.1f}" for p in self.points)

    @property
    def svg(self) -> SafeString:
        return sparkline(self.points, self.key)


def _xy(points: list[Point]) -> list[tuple[float, float]]:
    inner_w = SPARK_WIDTH - 2 * SPARK_PAD
    inner_h = SPARK_HEIGHT - 2 * SPARK_PAD
    step = inner_w / (len(points) - 1) if len(points) > 1 else 0
    coords = []
    for index, point in enumerate(points):
        clamped = max(0.0, min(100.0, float(point.percent)))
        x = SPARK_PAD + (index * step if len(points) > 1 else inner_w)
        y = SPARK_PAD + inner_h * (1 - clamped / 100.0)
        coords.append((round(x, 2), round(y, 2)))
    return coords


def sparkline(points: list[Point], key: str) -> SafeString:
    """An inline SVG: the percent (0-100 %, fixed scale) over the snapshots, the live value last.

    Classes and attributes only (no style attribute, no script): it renders under a strict CSP.
    Each point is a circle with its value in ``data-percent`` and a ``<title>``.
    """
    if not points:
        return SafeString("")
    coords = _xy(points)
    polyline = " ".join(f"{x},{y}" for x, y in coords)
    circles = format_html_join(
        "",
        '<circle class="askpro-spark-point{}" cx="{}" cy="{}" r="{}" data-percent="{}"'
        ' data-snapshot="{}"><title>{}</title></circle>',
        (
            (
                " askpro-spark-live" if p.snapshot_id is None else "",
                x,
                y,
                "2.5" if p.snapshot_id is None else "1.6",
                f"{p.percent:.1f}",
                p.snapshot_id if p.snapshot_id is not None else "live",
                p.label,
            )
            for p, (x, y) in zip(points, coords, strict=True)
        ),
    )
    base = SPARK_HEIGHT - SPARK_PAD
    return format_html(
        '<svg class="askpro-spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}"'
        ' width="{}" height="{}" role="img" aria-label="{}" data-measure="{}" data-points="{}">'
        '<line class="askpro-spark-axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<polyline class="askpro-spark-line" fill="none" points="{}"></polyline>{}</svg>',
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        _("Course over the last %(count)s snapshots and now") % {"count": len(points) - 1},
        key,
        " ".join(f"{p.percent:.1f}" for p in points),
        SPARK_PAD,
        base,
        SPARK_WIDTH - SPARK_PAD,
        base,
        polyline,
        circles,
    )


@dataclass
class CheckChange:
    """A check's live rows against a snapshot: how many are new, how many were resolved."""

    new: int
    resolved: int
    since: datetime
    snapshot_id: int

    @property
    def since_text(self) -> str:
        return when(self.since)


@dataclass
class DashboardTrends:
    trends: dict[str, Trend] = field(default_factory=dict)
    changes: dict[str, CheckChange] = field(default_factory=dict)
    latest: AuditSnapshot | None = None
    snapshot_count: int = 0  # snapshots in the chart (at most AUDIT_TREND_POINTS)
    # The "new since" filter: the snapshot and, per check, the keys of the rows it lacked.
    new_since: AuditSnapshot | None = None
    new_keys: dict[str, set[str]] | None = None

    def only(self, check_id: str) -> set[str] | None:
        """The keys to list for a check under the "new since" filter, or None (all rows)."""
        if self.new_keys is None:
            return None
        # A check either side could not judge lists all its rows.
        return self.new_keys.get(check_id)


def _comparable(snapshot_counts: dict, outcome: Outcome) -> bool:
    """Both sides judged the check: no "new" or "resolved" when either could not run, nor when
    only the first page of the rows was loaded (a paged check on the dashboard)."""
    entry = snapshot_counts.get(outcome.check.id)
    return bool(
        outcome.available and not outcome.partial and entry and entry.get("available", True)
    )


def _percent_of(snapshot: AuditSnapshot | None, key: str) -> float | None:
    if snapshot is None:
        return None
    value = (snapshot.measures or {}).get(key)
    if not isinstance(value, dict) or value.get("percent") is None:
        return None
    return float(value["percent"])


def _new_since_snapshot(new_since, latest: AuditSnapshot | None) -> AuditSnapshot | None:
    """The snapshot the "new since" filter names (?new_since=<id>), with its findings."""
    if new_since in (None, ""):
        return None
    try:
        pk = int(new_since)
    except (TypeError, ValueError):
        return None
    if latest is not None and latest.pk == pk:
        return latest
    return AuditSnapshot.objects.only(*SERIES_FIELDS, "findings").filter(pk=pk).first()


def dashboard_trends(
    measures: dict, outcomes: list[Outcome], *, new_since=None, now=None, live: bool = True
):
    """Trends for every measure and new / resolved for every check, against the snapshots.

    ``live=False``: ``measures`` are the latest snapshot's own (the dashboard at the gateway's
    size shows it instead of running the audit): no live point, the changes are the latest
    snapshot's against the one before it, and no check is compared."""
    now = now or timezone.now()
    series = list(
        AuditSnapshot.objects.only(*SERIES_FIELDS).order_by("-taken_at", "-id")[: trend_points()]
    )
    series.reverse()
    if not series:
        return DashboardTrends()
    latest = series[-1]
    if not live:
        now = latest.taken_at
    # Always two queries (not "look in the series first"): the count stays the same.
    baselines = {
        kind: AuditSnapshot.objects.only(*SERIES_FIELDS)
        .filter(taken_at__lte=now - timedelta(days=days))
        .order_by("-taken_at", "-id")
        .first()
        for kind, days in (("7d", 7), ("30d", 30))
    }
    result = DashboardTrends(latest=latest, snapshot_count=len(series))
    for key, measure in measures.items():
        points = [
            Point(percent, s.taken_at, s.pk)
            for s in series
            if (percent := _percent_of(s, key)) is not None
        ]
        if live:
            points.append(Point(float(measure.percent), now, None))
        previous = latest if live else (series[-2] if len(series) > 1 else None)
        changes = []
        for kind, baseline in (("previous", previous), *baselines.items()):
            before = _percent_of(baseline, key)
            if before is not None:
                changes.append(Change(kind, float(measure.percent) - before, baseline.taken_at))
        result.trends[key] = Trend(key, points, changes)
    if not live:
        return result

    latest.findings = (
        AuditSnapshot.objects.filter(pk=latest.pk).values_list("findings", flat=True).first() or {}
    )
    for outcome in outcomes:
        if not _comparable(latest.counts or {}, outcome):
            continue
        now_keys = live_keys(outcome)
        then_keys = set(latest.findings.get(outcome.check.id, ()))
        known = snapshots.known_keys(latest.findings, outcome.check.id)
        result.changes[outcome.check.id] = CheckChange(
            len(now_keys - known), len(then_keys - now_keys), latest.taken_at, latest.pk
        )

    chosen = _new_since_snapshot(new_since, latest)
    if chosen is not None:
        result.new_since = chosen
        result.new_keys = {
            outcome.check.id: live_keys(outcome)
            - snapshots.known_keys(chosen.findings, outcome.check.id)
            for outcome in outcomes
            if _comparable(chosen.counts or {}, outcome)
        }
    return result


# --- the compare page --------------------------------------------------------------------------


@dataclass
class KeyRow:
    key: str
    url: str


@dataclass
class MeasureComparison:
    key: str
    label: str
    before: float | None
    after: float | None

    @property
    def change(self) -> str:
        if self.before is None or self.after is None:
            return ""
        return signed(self.after - self.before)


@dataclass
class CheckComparison:
    check_id: str
    title: str
    severity: str
    before: int | None
    after: int | None
    new: list[KeyRow]
    resolved: list[KeyRow]
    new_more: int
    resolved_more: int
    new_total: int
    resolved_total: int

    @property
    def changed(self) -> bool:
        return bool(self.new_total or self.resolved_total or self.before != self.after)


def snapshot_choices() -> list[dict]:
    """The newest snapshots for the select boxes: one query, no measures, no rows; each
    named by its date and source label, as the dashboard names it ("demo data")."""
    sources = dict(AuditSnapshot.SOURCES)
    return [
        {"id": pk, "label": f"{when(taken_at)} ({sources.get(source, source)})"}
        for pk, taken_at, source in AuditSnapshot.objects.order_by("-taken_at", "-id").values_list(
            "id", "taken_at", "source"
        )[:CHOICES_SHOWN]
    ]


def default_pair() -> tuple[int | None, int | None]:
    """The previous and the latest snapshot's ids (two queries)."""
    latest = snapshots.latest()
    if latest is None:
        return None, None
    previous = snapshots.before(latest)
    return (previous.pk if previous else None), latest.pk


def _key_row(key: str) -> KeyRow:
    from audit_app.dashboard import _admin_of_table, admin_change_url

    table, _sep, pk = key.partition(":")
    return KeyRow(key, admin_change_url(_admin_of_table(table), pk) if pk else "")


def _count(snapshot: AuditSnapshot, check_id: str) -> int | None:
    entry = (snapshot.counts or {}).get(check_id)
    if not entry or not entry.get("available", True):
        return None
    return int(entry.get("count", 0))


def compare(older: AuditSnapshot, newer: AuditSnapshot, labels: dict[str, str]) -> dict:
    """Every measure before → after; per check the count before → after and its new and
    resolved rows (the first ``KEYS_SHOWN`` of each, sorted)."""
    measure_keys = [*labels, *(k for k in (*newer.measures, *older.measures) if k not in labels)]
    measures = [
        MeasureComparison(
            key, str(labels.get(key, key)), _percent_of(older, key), _percent_of(newer, key)
        )
        for key in dict.fromkeys(measure_keys)
        if key in older.measures or key in newer.measures
    ]
    changes = snapshots.delta(older, newer)
    checks = []
    for check_id in sorted(set(older.counts or {}) | set(newer.counts or {})):
        change = changes.get(check_id, snapshots.Delta())
        check = get_check(check_id)
        entry = (newer.counts or {}).get(check_id) or (older.counts or {}).get(check_id) or {}
        new, resolved = sorted(change.new), sorted(change.resolved)
        checks.append(
            CheckComparison(
                check_id=check_id,
                title=str(check.title) if check else "",
                severity=entry.get("severity", ""),
                before=_count(older, check_id),
                after=_count(newer, check_id),
                new=[_key_row(k) for k in new[:KEYS_SHOWN]],
                resolved=[_key_row(k) for k in resolved[:KEYS_SHOWN]],
                new_more=max(0, len(new) - KEYS_SHOWN),
                resolved_more=max(0, len(resolved) - KEYS_SHOWN),
                new_total=len(new),
                resolved_total=len(resolved),
            )
        )
    return {"measures": measures, "checks": checks}
