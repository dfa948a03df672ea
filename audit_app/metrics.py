"""``GET /metrics``: the readiness audit in Prometheus' text format, for monitoring.

Only aggregate counts leave the console: every measure (percent, numerator, denominator), every
check's findings by severity and whether it could judge, the age of the last audit snapshot and
the active integrations that report themselves unhealthy. No names, no keys, no secrets: label
values are check ids, measure keys and severities, nothing from a row.

Access: ``Authorization: Bearer <METRICS_TOKEN>``, or a client address in ``METRICS_ALLOWED_IPS``.
With neither configured the endpoint is off (404). A missing or wrong token: 401. The audit runs
on every scrape in a fixed number of queries (``run_all()`` and ``measures.compute()``), whatever
the number of rows or snapshots.
"""

import hmac
import ipaddress
import math
import time
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from audit_app import measures as audit_measures
from audit_app.models import AuditSnapshot
from audit_app.registry import Check, Outcome, Severity, run_all
from integrations_app.models import Integration

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNHEALTHY = ("unhealthy", "degraded")
PREFIX = "askpro"


# -- rendering -------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float | int) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class Family:
    """One metric: its HELP and TYPE lines and its samples."""

    def __init__(self, name: str, help_text: str, kind: str = "gauge"):
        self.name = f"{PREFIX}_{name}"
        self.help = help_text
        self.kind = kind
        self.samples: list[tuple[dict[str, str], float | int]] = []

    def add(self, value: float | int, **labels: str) -> "Family":
        self.samples.append((labels, value))
        return self

    def render(self) -> str:
        lines = [f"# HELP {self.name} {_escape(self.help)}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in self.samples:
            inner = ",".join(f'{key}="{_escape(str(v))}"' for key, v in labels.items())
            series = f"{self.name}{{{inner}}}" if inner else self.name
            lines.append(f"{series} {_number(value)}")
        return "\n".join(lines) + "\n"


def render(families: Iterable[Family]) -> str:
    return "".join(family.render() for family in families)


# -- the figures -----------------------------------------------------------------------------


def _rates_rows(check: Check) -> bool:
    """Whether the check gives each row its own severity (the table inventory)."""
    return type(check).severity_of is not Check.severity_of


def _check_families(outcomes: list[Outcome]) -> list[Family]:
    findings = Family(
        "audit_check_findings",
        "Rows a check found, by the severity of each finding; absent while the check "
        "cannot judge (see askpro_audit_check_available).",
    )
    available = Family(
        "audit_check_available",
        "1 when the check could judge, 0 when it cannot (e.g. no GATEWAY_APP_KEY).",
    )
    for outcome in outcomes:
        check = outcome.check
        available.add(1 if outcome.available else 0, check=check.id)
        if not outcome.available:
            continue
        # Every series a check can have is always there (0 when nothing is found), so an alert
        # sees a value drop to 0 instead of a series disappearing.
        severities = set(Severity) if _rates_rows(check) else {check.severity}
        counts = dict.fromkeys(severities, 0)
        if outcome.partial:  # a paged check: counted, its rows not loaded; all of one severity
            counts[check.severity] = outcome.count
        for row in [] if outcome.partial else outcome.rows:
            severity = check.severity_of(row)
            counts[severity] = counts.get(severity, 0) + 1
        for severity in sorted(counts, key=lambda s: -s.rank):
            findings.add(counts[severity], check=check.id, severity=severity.value)
    return [findings, available]


def _measure_families() -> list[Family]:
    percent = Family(
        "audit_measure_percent",
        "A measure of the readiness review in percent (0-100; 0 when its denominator is 0).",
    )
    numerator = Family("audit_measure_numerator", "The numerator of a measure.")
    denominator = Family("audit_measure_denominator", "The denominator of a measure.")
    for key, measure in audit_measures.compute().items():
        percent.add(measure.percent, measure=key)
        numerator.add(measure.numerator, measure=key)
        denominator.add(measure.denominator, measure=key)
    return [percent, numerator, denominator]


def _snapshot_families() -> list[Family]:
    # One query for both: the newest snapshot's time is what snapshots.latest() orders by.
    stored = AuditSnapshot.objects.aggregate(total=Count("pk"), newest=Max("taken_at"))
    families = [
        Family(
            "audit_snapshots",
            "Audit snapshots stored (audit --record); 0 means none was ever recorded.",
        ).add(stored["total"])
    ]
    if stored["newest"] is not None:
        age = max(0.0, (timezone.now() - stored["newest"]).total_seconds())
        families.append(
            Family(
                "audit_last_snapshot_age_seconds",
                "Seconds since the newest audit snapshot was taken; absent when there is none.",
            ).add(round(age, 3))
        )
    return families


def _integration_families() -> list[Family]:
    counted = Integration.objects.active().aggregate(
        active=Count("pk"), unhealthy=Count("pk", filter=Q(health_status__in=UNHEALTHY))
    )
    return [
        Family("integrations_active", "Active integrations (is_active, status not off).").add(
            counted["active"]
        ),
        Family(
            "integrations_unhealthy",
            "Active integrations whose last health check says unhealthy or degraded.",
        ).add(counted["unhealthy"]),
    ]


def collect() -> list[Family]:
    """Every family, in a fixed number of queries."""
    started = time.monotonic()
    families = [
        *_measure_families(),
        *_check_families(run_all(row_limit=0, count_all=True)),
        *_snapshot_families(),
        *_integration_families(),
    ]
    families.append(
        Family("audit_scrape_duration_seconds", "Seconds this scrape took to compute.").add(
            round(time.monotonic() - started, 6)
        )
    )
    return families


# -- access ----------------------------------------------------------------------------------


def _allowed_address(request: HttpRequest) -> bool:
    """The client's own address (REMOTE_ADDR, never a forwarded header) in the allow-list."""
    networks = getattr(settings, "METRICS_ALLOWED_IPS", None) or []
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(presented: bool) -> HttpResponse:
    response = HttpResponse("401 Unauthorized\n", status=401, content_type=CONTENT_TYPE)
    challenge = 'Bearer realm="metrics"'
    if presented:
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


@csrf_exempt  # GET only; anything else is answered 405 before it could change a thing
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    configured = getattr(settings, "METRICS_TOKEN", "") or ""
    allowed = _allowed_address(request)
    if not configured and not allowed:
        return HttpResponse("404 Not Found\n", status=404, content_type=CONTENT_TYPE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not allowed:
        token = _bearer(request)
        if token is None or not hmac.compare_digest(
            token.encode("utf-8"), configured.encode("utf-8")
        ):
            return _unauthorized(presented=token is not None)
    return HttpResponse(render(collect()), content_type=CONTENT_TYPE)
