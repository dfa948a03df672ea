"""GET /metrics: the audit in Prometheus' text format (read back with prometheus_client's own
parser), only aggregate counts, behind a bearer token or an allow-list, in fixed queries."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from audit_app import measures, snapshots
from audit_app.registry import Check, run_all
from integrations_app.models import Company
from tests import audit_rows as r
from tests import support

pytestmark = pytest.mark.django_db

URL = "/metrics"
TOKEN = "metrics-token-for-the-tests-0123456789abcdef"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return TOKEN


def scrape(client, bearer: str | None = TOKEN, **extra):
    if bearer is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    return client.get(URL, **extra)


def parse(body: str) -> tuple[dict, dict]:
    """({(name, frozenset(labels)): value}, {name: (type, help)})."""
    values, families = {}, {}
    for family in text_string_to_metric_families(body):
        families[family.name] = (family.type, family.documentation)
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values, families


def value(values: dict, name: str, **labels):
    return values[(name, frozenset(labels.items()))]


def series(values: dict, name: str) -> dict:
    return {labels: v for (n, labels), v in values.items() if n == name}


def by_severity(outcomes) -> dict:
    """Findings per (check, severity) as the audit itself counts them."""
    counted: dict = {}
    for outcome in outcomes:
        if not outcome.available:
            continue
        counted.setdefault((outcome.check.id, outcome.check.severity.value), 0)
        for row in outcome.rows:
            key = (outcome.check.id, outcome.check.severity_of(row).value)
            counted[key] = counted.get(key, 0) + 1
    return counted


def small_world() -> dict:
    """Three companies: one ready, one with a degraded integration, one without a branch."""
    ready = r.company("Praxis Sonnenschein")
    mitte = r.branch(ready)
    r.staff(ready, mitte), r.staff(ready, mitte)
    r.number(ready, r.line(1), at=mitte)
    r.integration(ready, "calcom", health_status="healthy")

    degraded = r.company("Zahnarzt Dr. Geheimname")
    r.branch(degraded)
    r.integration(degraded, "calcom", health_status="degraded")
    # Unhealthy, but switched off: not an active integration, so it does not count.
    r.integration(degraded, "retell", health_status="unhealthy", is_active=False)
    r.integration(degraded, "retell", health_status="unhealthy", status="suspended")

    lonely = r.company("Friseur Ohnefiliale")
    r.number(lonely, r.line(2))
    return {"companies": [ready, degraded, lonely]}


# -- the body --------------------------------------------------------------------------------


def test_the_body_parses_and_holds_every_figure(client, token, gateway_key):
    small_world()
    snapshots.record(source="command", taken_at=timezone.now() - timedelta(hours=2))

    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie
    values, families = parse(response.text)

    # HELP and TYPE for every family.
    for name, (kind, documentation) in families.items():
        assert kind == "gauge", name
        assert documentation, name
    body = response.text
    for name in families:
        assert f"# HELP {name} " in body and f"# TYPE {name} gauge" in body

    # Every measure, as the audit computes it; the branch coverage by hand: 2 of 3 companies.
    computed = measures.compute()
    assert set(series(values, "askpro_audit_measure_percent")) == {
        frozenset({("measure", key)}) for key in computed
    }
    for key, measure in computed.items():
        assert value(values, "askpro_audit_measure_percent", measure=key) == measure.percent
        assert value(values, "askpro_audit_measure_numerator", measure=key) == measure.numerator
        assert value(values, "askpro_audit_measure_denominator", measure=key) == (
            measure.denominator
        )
    assert value(values, "askpro_audit_measure_percent", measure="branch_coverage") == 66.7
    assert value(values, "askpro_audit_measure_numerator", measure="branch_coverage") == 2
    assert value(values, "askpro_audit_measure_denominator", measure="branch_coverage") == 3

    # Every check: available, and its findings by severity exactly as the audit counts them.
    outcomes = run_all()
    assert series(values, "askpro_audit_check_available") == {
        frozenset({("check", o.check.id)}): 1.0 for o in outcomes
    }
    findings = {
        (dict(labels)["check"], dict(labels)["severity"]): v
        for labels, v in series(values, "askpro_audit_check_findings").items()
    }
    expected = by_severity(outcomes)
    assert {k: v for k, v in findings.items() if v} == {k: v for k, v in expected.items() if v}
    assert set(findings) >= set(expected)
    # The company without a branch, a critical finding; a check with nothing found says 0.
    assert findings[("AUD-BRN-001", "critical")] == 1
    assert 0 in findings.values()
    # The inventory rates each table: all three severities are always there.
    assert {s for (c, s) in findings if c == "AUD-TBL-001"} == {"critical", "warning", "info"}

    # The last snapshot: about two hours old.
    assert value(values, "askpro_audit_snapshots") == 1
    age = value(values, "askpro_audit_last_snapshot_age_seconds")
    assert 2 * 3600 <= age < 2 * 3600 + 60

    # Active integrations: the healthy and the degraded one; the switched-off ones do not count.
    assert value(values, "askpro_integrations_active") == 2
    assert value(values, "askpro_integrations_unhealthy") == 1


def test_no_names_no_numbers_no_secrets(client, token, gateway_key):
    made = small_world()
    snapshots.record(source="command")
    body = scrape(client).text
    for company in made["companies"]:
        assert company.name not in body
        assert company.slug not in body
    assert r.BERLIN not in body and "+49" not in body
    assert TOKEN not in body
    # Label values are check ids, measure keys and severities only.
    allowed = {"check", "measure", "severity"}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            assert set(sample.labels) <= allowed, sample
            for label, text in sample.labels.items():
                if label == "check":
                    assert text.startswith("AUD-"), text
                elif label == "severity":
                    assert text in {"critical", "warning", "info"}
                else:
                    assert text.replace("_", "").isalpha(), text


def test_the_demo_data(client, token, gateway_key):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = scrape(client)
    assert response.status_code == 200
    values, _families = parse(response.text)
    # The review's figures (see test_audit_measures).
    assert value(values, "askpro_audit_measure_percent", measure="phone_coverage") == 30.8
    assert value(values, "askpro_audit_measure_numerator", measure="branch_coverage") == 7
    assert value(values, "askpro_audit_measure_denominator", measure="branch_coverage") == 13
    assert value(values, "askpro_audit_measure_percent", measure="integration_coverage") == 0.0
    assert value(values, "askpro_integrations_unhealthy") == 0
    names = list(Company.objects.values_list("name", flat=True))
    assert names
    for name in names:
        assert name not in response.text


def test_without_snapshots_the_age_is_absent_and_the_count_zero(client, token):
    values, families = parse(scrape(client).text)
    assert value(values, "askpro_audit_snapshots") == 0
    assert "askpro_audit_last_snapshot_age_seconds" not in families


def test_a_check_that_cannot_judge_says_so_and_reports_no_count(client, token, settings):
    settings.GATEWAY_APP_KEY = ""
    settings.GATEWAY_PREVIOUS_KEYS = []
    values, _families = parse(scrape(client).text)
    unavailable = {
        dict(labels)["check"]
        for labels, v in series(values, "askpro_audit_check_available").items()
        if v == 0
    }
    assert "AUD-KEY-001" in unavailable
    findings = {dict(labels)["check"] for labels in series(values, "askpro_audit_check_findings")}
    assert not unavailable & findings
    assert "AUD-BRN-001" in findings


def test_label_values_are_escaped():
    from audit_app.metrics import Family, render

    body = render([Family("x", 'a "help" \\ text').add(1.5, check='a"b\\c\nd')])
    family = next(text_string_to_metric_families(body))
    assert family.samples[0].labels == {"check": 'a"b\\c\nd'}
    assert family.samples[0].value == 1.5


def test_rating_rows_is_detected_from_the_class():
    from audit_app.metrics import _rates_rows
    from audit_app.registry import get_check

    assert _rates_rows(get_check("AUD-TBL-001"))
    assert not _rates_rows(get_check("AUD-BRN-001"))
    assert not _rates_rows(Check())


# -- access ----------------------------------------------------------------------------------


def test_without_a_token_or_allow_list_the_endpoint_is_off(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get(URL).status_code == 404
    assert scrape(client, "anything").status_code == 404
    assert client.post(URL).status_code == 404


def test_a_missing_token_asks_for_one(client, token):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "askpro_" not in response.text


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer wrong",
        f"Basic {TOKEN}",
        f"{TOKEN}",
        "Bearer ",
    ],
)
def test_a_wrong_token_is_refused(client, token, header):
    response = client.get(URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert "askpro_" not in response.text


def test_the_scheme_is_case_insensitive(client, token):
    assert client.get(URL, HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_only_get(client, token, method):
    response = getattr(client, method)(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_an_allowed_address_needs_no_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert client.get(URL).status_code == 200  # the test client comes from 127.0.0.1
    assert client.get(URL, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(URL, REMOTE_ADDR="192.168.1.5").status_code == 404
    # A forwarded header is the client's word, not its address.
    assert (
        client.get(URL, REMOTE_ADDR="192.168.1.5", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code
        == 404
    )


def test_with_a_token_an_address_outside_the_list_must_present_it(client, token, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get(URL, REMOTE_ADDR="10.9.9.9").status_code == 200
    assert client.get(URL, REMOTE_ADDR="192.168.1.5").status_code == 401
    assert scrape(client, REMOTE_ADDR="192.168.1.5").status_code == 200


def test_an_ipv6_allow_list(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["::1", "fd00::/8"]
    assert client.get(URL, REMOTE_ADDR="::1").status_code == 200
    assert client.get(URL, REMOTE_ADDR="fd12::7").status_code == 200
    assert client.get(URL, REMOTE_ADDR="127.0.0.1").status_code == 404


def test_a_logged_in_admin_still_needs_the_token(admin_client, token):
    assert admin_client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("METRICS_TOKEN", "short", "METRICS_TOKEN is shorter than 32 characters"),
        ("METRICS_ALLOWED_IPS", "10.0.0.1, intranet", "'intranet' is not an IP address"),
    ],
)
def test_a_malformed_metrics_setting_gives_one_clear_line(tmp_path, variable, value, expected):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = support.run_manage("check", database_url=url, extra_env={variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


# -- queries ---------------------------------------------------------------------------------


def _world(size: int, start: int = 0) -> None:
    from integrations_app.crypto.encrypter import Encrypter

    current = Encrypter.from_settings()
    for n in range(start, start + size):
        c = r.company()
        b = r.branch(c)
        r.staff(c, b)
        r.number(c, r.line(2 * n), at=b)
        r.number(c, f"030 23125 {500 + 2 * n + 1}", normalized=None)
        r.integration(
            c,
            "calcom",
            api_key=current.encrypt_string(f"cal_live_{n:04d}_key"),
            health_status=("healthy", "degraded", "unhealthy")[n % 3],
        )
        r.template(c, "appointment_confirmation", "email")
        r.call(c, r.customer(c))


def _queries(client) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = scrape(client)
    assert response.status_code == 200
    return len(queries), parse(response.text)[0]


def test_the_queries_do_not_grow_with_rows_or_snapshots(client, token, gateway_key):
    _world(2)
    snapshots.record(source="command")
    _queries(client)  # warm caches
    few, values = _queries(client)
    assert value(values, "askpro_audit_measure_denominator", measure="branch_coverage") == 2

    _world(18, start=2)
    for days in range(1, 10):
        snapshots.record(source="command", taken_at=timezone.now() - timedelta(days=days))
    many, values = _queries(client)
    assert value(values, "askpro_audit_measure_denominator", measure="branch_coverage") == 20
    assert value(values, "askpro_audit_snapshots") == 10
    assert value(values, "askpro_integrations_unhealthy") == 13  # 20 minus the healthy 7
    assert few == many
    # The checks (see test_audit_checks), three for the measures, one each for the snapshots
    # and the integrations.
    # and the session, the user, the provider results, and on the reference schema (240
    # tables) the inventory's second UNION query
    assert many <= 45 + 3 + 2 + 6 + 4
    print(f"\n/metrics queries: {few} (2 companies) / {many} (20 companies, 10 snapshots)")
