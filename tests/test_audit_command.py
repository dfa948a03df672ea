"""`manage.py audit`: formats, the JSON for monitoring, exit codes, and `--fix`."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from audit_app.fixes.base import fix_for_check
from audit_app.models import FixRecord, ProviderReconciliation
from audit_app.registry import all_checks
from changelog.models import Change, Operation
from integrations_app.models import Branch, Company
from tests import audit_rows as r
from tests import support

pytestmark = pytest.mark.django_db

BRN_TITLE_EN = "Companies that cannot take bookings by phone (no branch)"

MEASURE_KEYS = {
    "integration_coverage",
    "phone_coverage",
    "routable_phone_coverage",
    "branch_coverage",
    "staff_per_branch",
}


@pytest.fixture(autouse=True)
def english(gateway_key):
    with translation.override("en"):
        yield


def audit(*args, answer: str | None = None, monkeypatch=None) -> tuple[int, str]:
    if answer is not None:
        monkeypatch.setattr("builtins.input", lambda *a: answer)
    out = StringIO()
    code = 0
    try:
        call_command("audit", *args, stdout=out, stderr=StringIO())
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue()


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def test_json_on_the_demo_data(demo):
    code, output = audit("--format", "json")
    assert code == 1  # critical findings
    document = json.loads(output)
    assert {"generated_at", "database", "measures", "row_counts", "checks"} <= set(document)
    assert set(document["measures"]) == MEASURE_KEYS
    coverage = document["measures"]["integration_coverage"]
    assert (coverage["numerator"], coverage["denominator"], coverage["percent"]) == (0, 13, 0.0)
    phone = document["measures"]["phone_coverage"]
    assert (phone["numerator"], phone["denominator"]) == (4, 13)
    assert document["row_counts"]["calls"] == 207

    checks = {c["id"]: c for c in document["checks"]}
    assert set(checks) == {check.id for check in all_checks()}
    for check in checks.values():
        assert {"id", "severity", "category", "title", "count", "available", "fix", "rows"} <= set(
            check
        )
        # JSON lists up to 200 rows per check (--rows) and says how many it left out: on the
        # reference schema the empty-table check alone has more than 200.
        assert len(check["rows"]) <= 200
        assert check["count"] == len(check["rows"]) + check["rows_omitted"]
        for row in check["rows"]:
            assert {"table", "pk", "label", "detail"} <= set(row)
    assert checks["AUD-BRN-001"]["count"] == 6
    assert checks["AUD-BRN-001"]["fix"] == "create-main-branch"
    assert checks["AUD-PHN-003"]["fix"] is None
    empty = {row["table"]: row for row in checks["AUD-TBL-001"]["rows"]}
    assert empty["integrations"]["severity"] == "critical"
    assert empty["notification_templates"]["severity"] == "warning"
    assert "password" not in document["database"]


def test_text_and_markdown_on_the_demo_data(demo):
    code, text = audit()
    assert code == 1
    assert "Integration coverage" in text and "0 of 13 (0.0 %)" in text
    assert "4 of 13" in text
    assert "AUD-BRN-001" in text and f"{BRN_TITLE_EN}: 6" in text
    assert "[fix: create-main-branch]" in text
    assert "… and 1 more" in text  # 6 companies, 5 rows listed

    code, markdown = audit("--format", "markdown", "--rows", "2")
    assert code == 1
    assert markdown.startswith("# Gateway readiness audit")
    assert "| Integration coverage | 0 of 13 (0.0 %) |" in markdown
    assert f"### AUD-BRN-001 {BRN_TITLE_EN}" in markdown
    assert "… and 4 more" in markdown


def test_exit_codes_follow_fail_on():
    c = r.company()
    b = r.branch(c)
    r.staff(c, b)  # one staff member: AUD-BRN-002 (warning), no critical finding of its own
    # Fill what the critical checks look for.
    r.number(c, r.line(1), at=b)
    r.integration(c, "calcom"), r.integration(c, "retell")

    code, output = audit("--format", "json", "--fail-on", "never")
    assert code == 0
    checks = {x["id"]: x for x in json.loads(output)["checks"]}
    critical = [
        x["id"]
        for x in checks.values()
        if x["severity"] == "critical" and x["count"] and x["category"] != "inventory"
    ]
    assert critical == []
    assert checks["AUD-BRN-002"]["count"] == 1

    # The inventory still finds empty business-critical tables (calcom_* do not exist here,
    # but e.g. services is empty): critical by class.
    code, _output = audit("--fail-on", "critical")
    inventory_critical = any(
        row["severity"] == "critical"
        for check_id in ("AUD-TBL-001", "AUD-TBL-002")
        for row in checks[check_id]["rows"]
    )
    assert code == (1 if inventory_critical else 0)
    assert audit("--fail-on", "warning")[0] == 1


def test_exit_code_zero_when_nothing_at_or_above_fail_on(settings):
    settings.AUDIT_TABLE_CATALOGUE = {"business_critical": [], "operations_critical": []}
    settings.AUDIT_SPARSE_ROWS = 1
    c = r.company()
    b = r.branch(c)
    r.staff(c, b)
    r.number(c, r.line(1), at=b)
    r.integration(c, "calcom"), r.integration(c, "retell")
    # Retell's numbers compared, nothing found (reconcile_retell's stored result).
    ProviderReconciliation.objects.create(kind="retell_phone_numbers", company_id=c.pk)
    # Left: a branch with one staff (warning), notifications (warning), empty tables (info).
    assert audit("--fail-on", "critical")[0] == 0
    assert audit("--fail-on", "warning")[0] == 1
    assert audit("--fail-on", "never")[0] == 0


def test_unavailable_checks_are_listed_and_fail_at_their_severity(settings):
    settings.GATEWAY_APP_KEY = ""
    settings.AUDIT_TABLE_CATALOGUE = {"business_critical": [], "operations_critical": []}
    c = r.company()
    b = r.branch(c)
    r.staff(c, b), r.staff(c, b)
    r.number(c, r.line(1), at=b)
    r.integration(c, "calcom"), r.integration(c, "retell")
    r.template(c, "appointment_confirmation", "email")
    r.template(c, "appointment_reminder_24h", "sms")

    code, text = audit()
    assert "AUD-KEY-001" in text and "not available (" in text
    assert code == 1  # AUD-KEY-001 is critical and cannot say the keys are fine
    code, output = audit("--format", "json", "--fail-on", "never")
    assert code == 0
    checks = {x["id"]: x for x in json.loads(output)["checks"]}
    assert checks["AUD-KEY-001"]["available"] is False
    assert "GATEWAY_APP_KEY" in checks["AUD-KEY-001"]["reason"]


# -- --fix -----------------------------------------------------------------------------------


def test_fix_unknown_check_or_check_without_fix():
    with pytest.raises(CommandError, match="There is no check AUD-NOPE-001"):
        call_command("audit", "--fix", "AUD-NOPE-001", stdout=StringIO())
    with pytest.raises(CommandError, match="Check AUD-PHN-003 has no fix"):
        call_command("audit", "--fix", "AUD-PHN-003", stdout=StringIO())


@pytest.fixture
def branch_fix():
    if fix_for_check("AUD-BRN-001") is None:
        pytest.skip("the create-main-branch fix is not there yet")
    return fix_for_check("AUD-BRN-001")


def test_fix_declined_writes_nothing(branch_fix, monkeypatch):
    without = r.company("Ohne Filiale")
    monkeypatch.setattr("builtins.input", lambda *a: "nein")
    out = StringIO()
    with pytest.raises(CommandError, match="Not confirmed"):
        call_command("audit", "--fix", "AUD-BRN-001", stdout=out)
    assert "Planned writes (1)" in out.getvalue()
    assert "branches" in out.getvalue()
    assert not Branch.objects.filter(company=without).exists()
    assert not FixRecord.objects.exists() and not Operation.objects.filter(source="fix").exists()


def test_fix_confirmed_with_ja_then_nothing_to_do(branch_fix, monkeypatch):
    without = r.company("Ohne Filiale")
    code, output = audit("--fix", "AUD-BRN-001", answer="ja", monkeypatch=monkeypatch)
    assert code == 0
    assert "Write this 1 change? Type yes to apply:" in output
    assert "Applied: 1 row created, 0 rows changed" in output  # singular for one
    assert Branch.objects.filter(company=without).count() == 1
    record = FixRecord.objects.get()
    assert (record.fix_id, record.source, record.applied_by) == (branch_fix.id, "command", None)
    assert (record.operation.source, record.operation.name) == ("fix", branch_fix.id)
    assert record.operation.user is None and record.operation.reason == ""
    (change,) = Change.objects.filter(operation=record.operation)
    assert (change.table, change.action) == ("branches", "create")

    code, output = audit("--fix", "AUD-BRN-001", "--yes")
    assert code == 0
    assert "Nothing to do" in output
    assert FixRecord.objects.count() == 1


def test_fix_with_yes_does_not_ask(branch_fix, monkeypatch):
    r.company("Ohne Filiale")

    def no_input(*args):
        raise AssertionError("asked although --yes")

    monkeypatch.setattr("builtins.input", no_input)
    code, output = audit("--fix", "AUD-BRN-001", "--yes")
    assert code == 0 and "Applied" in output


def test_fix_with_a_reason(branch_fix):
    r.company("Ohne Filiale")
    code, output = audit("--fix", "AUD-BRN-001", "--yes", "--reason", "Ticket 4711")
    assert code == 0 and "Applied" in output
    record = FixRecord.objects.get()
    assert record.reason == record.operation.reason == "Ticket 4711"
    assert record.operation.source == "fix"


def test_fix_without_a_required_reason_writes_nothing(branch_fix, settings, monkeypatch):
    settings.CHANGE_REASON_REQUIRED = True
    r.company("Ohne Filiale")

    def no_input(*args):
        raise AssertionError("asked although the reason is missing")

    monkeypatch.setattr("builtins.input", no_input)
    with pytest.raises(CommandError, match="A reason is required"):
        call_command("audit", "--fix", "AUD-BRN-001", stdout=StringIO())
    with pytest.raises(CommandError, match="too long"):
        call_command("audit", "--fix", "AUD-BRN-001", "--reason", "x" * 256, stdout=StringIO())
    assert not Branch.objects.exists() and not FixRecord.objects.exists()
    code, _output = audit("--fix", "AUD-BRN-001", "--yes", "--reason", "Audit 2026")
    assert code == 0 and FixRecord.objects.get().operation.reason == "Audit 2026"


def test_fix_stale_preview_shows_the_new_one(branch_fix, monkeypatch):
    r.company("Ohne Filiale")

    def meanwhile(*args):
        r.company("Noch eine ohne Filiale")  # the data changes while the user reads
        return "yes"

    monkeypatch.setattr("builtins.input", meanwhile)
    out = StringIO()
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("audit", "--fix", "AUD-BRN-001", stdout=out)
    assert "The data changed since the preview" in out.getvalue()
    assert out.getvalue().count("Planned writes") == 2
    assert "Planned writes (2)" in out.getvalue()
    assert not Branch.objects.exists()
    assert Company.objects.count() == 2


# -- as a user runs it -----------------------------------------------------------------------


def test_command_in_its_own_process(scratch_database_url):
    for step in (("migrate", "-v", "0"), ("gateway_schema", "create"), ("seed_demo",)):
        done = support.run_manage(*step, database_url=scratch_database_url)
        assert done.returncode == 0, done.stderr
    done = support.run_manage("audit", "--format", "json", database_url=scratch_database_url)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["measures"]["phone_coverage"]["numerator"] == 4
    assert {c["id"]: c["count"] for c in document["checks"]}["AUD-BRN-001"] == 6
    done = support.run_manage(
        "audit", "--fail-on", "never", database_url=scratch_database_url, language="de"
    )
    assert done.returncode == 0, done.stderr
    assert "AUD-BRN-001" in done.stdout


def test_text_output_writes_decimals_as_the_language_does(demo):
    from django.utils import translation

    with translation.override("de"):
        _code, text = audit()
    assert "0 von 13 (0,0 %)" in text and "(30,8 %)" in text
    assert "0.0 %" not in text and "30.8 %" not in text


@pytest.mark.parametrize("rows", ["-1", "abc", "1e3", "99999999999"])
def test_a_bad_row_count_is_refused_in_words(rows):
    with translation.override("de"), pytest.raises(CommandError) as refused:
        call_command("audit", "--rows", rows, stdout=StringIO())
    assert f"„{rows}“ ist keine Zeilenzahl" in str(refused.value)
    assert "_row_limit" not in str(refused.value)
