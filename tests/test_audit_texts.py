"""The audit speaks to managers: each check's title and explanation say what happens to callers
and bookings, in plain German and English; the technical reason is a detail for engineers,
shown collapsed. Each check appears once on the dashboard."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from audit_app.registry import all_checks

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"

# What only an engineer reads: a column or table name (snake_case), a function call, a PHP
# serialization wrapper, a status code, the name of a number format or a setting.
ENGINEERING = (
    re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b"),  # number_normalized, retell_agents, _id
    re.compile(r"_id\b"),
    re.compile(r"\w+\(\)"),  # decrypt(), encryptString()
    re.compile(r"decrypt\(", re.I),
    re.compile(r"\bs:(?:NN|\d+):"),
    re.compile(r"\bE\.164\b"),
    re.compile(r"\bHTTP\b"),
    re.compile(r"\b[A-Z]+_[A-Z_]+\b"),  # APP_KEY, AUDIT_MIN_STAFF_PER_BRANCH
    re.compile(r"\b(?:NULL|NOT NULL|UUID|JSON|webhook)\b", re.I),
)


def engineering_tokens(text: str) -> list[str]:
    return [m.group(0) for pattern in ENGINEERING for m in pattern.finditer(text)]


@pytest.mark.parametrize("language", ["en", "de"])
def test_titles_and_explanations_speak_plainly_and_each_check_has_a_detail(language):
    with translation.override(language):
        for check in all_checks():
            for name in ("title", "explanation"):
                text = str(getattr(check, name))
                assert text, (check.id, name)
                assert not engineering_tokens(text), (check.id, name, engineering_tokens(text))
            # The explanation says what happens to callers or bookings.
            words = ("call", "book", "anruf", "buch")
            explanation = str(check.explanation).lower()
            assert any(word in explanation for word in words), check.id
            assert str(check.detail), check.id
            assert str(check.detail) != str(check.explanation), check.id
    with translation.override("de"):
        # Every text is translated (the German differs from the English source).
        for check in all_checks():
            for name in ("title", "explanation", "detail"):
                with translation.override("en"):
                    english = str(getattr(check, name))
                assert str(getattr(check, name)) != english, (check.id, name)


def test_the_technical_reason_is_kept_as_the_detail():
    with translation.override("en"):
        details = {check.id: str(check.detail) for check in all_checks()}
    assert "decrypt()" in details["AUD-KEY-001"]
    assert 's:NN:"..."' in details["AUD-KEY-001"]
    assert "number_normalized" in details["AUD-PHN-002"]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def test_the_dashboard_lists_each_check_once_with_its_detail_collapsed(admin_client, demo):
    response = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")
    page = response.text
    checks = all_checks()
    for check in checks:
        blocks = re.findall(rf'<details[^>]*id="check-{check.id}[-"]', page)
        assert len(blocks) == 1, check.id
    listed = [part.check.id for group in response.context["groups"] for part in group.checks]
    assert sorted(listed) == sorted(check.id for check in checks)
    # AUD-TBL-001 rates its tables critical, warning and info: it is listed once, under the
    # worst, with all its rows counted there.
    critical = page.split('id="severity-critical"', 1)[1].split('id="severity-warning"')[0]
    assert 'id="check-AUD-TBL-001"' in critical
    group = {g.severity.value: g for g in response.context["groups"]}["critical"]
    empty = next(part for part in group.checks if part.check.id == "AUD-TBL-001")
    assert {empty.check.severity_of(row.affected).value for row in empty.rows} >= {
        "critical",
        "warning",
    }
    assert empty.count == len(empty.outcome.rows)
    block = re.search(r'id="check-AUD-KEY-001".*?(?=<details class="askpro-check)', page, re.S)
    detail = re.search(
        r'<details class="askpro-tech-detail"><summary>Technical detail \(for engineers\)'
        r"</summary><p>(.*?)</p></details>",
        block.group(0),
        re.S,
    )
    assert detail and "decrypt()" in detail.group(1)
    # The explanation above it is the plain one.
    assert "bookings may land in the wrong account" in block.group(0)


def test_the_check_page_and_the_json_carry_the_detail(admin_client, demo):
    page = admin_client.get(
        "/admin/audit_app/fixrecord/check/AUD-PHN-002/", HTTP_ACCEPT_LANGUAGE="en"
    ).text
    assert re.search(r'<details class="askpro-tech-detail">.*?number_normalized', page, re.S)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "--format", "json", stdout=out, stderr=StringIO())
    checks = {c["id"]: c for c in json.loads(out.getvalue())["checks"]}
    assert "number_normalized" in checks["AUD-PHN-002"]["detail"]
    assert "number_normalized" not in checks["AUD-PHN-002"]["explanation"]
    assert all(c["detail"] for c in checks.values())


def test_the_measures_are_named_and_explained_on_the_dashboard(admin_client, demo):
    english = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    routable = re.search(r'id="measure-routable_phone_coverage".*?</div>\s*</div>', english, re.S)
    text = " ".join(routable.group(0).split())
    assert "<h3>Companies callers can reach and book with</h3>" in text
    assert "belongs to an active branch of the company: a caller gets through and can book" in text
    staff = " ".join(english.split('id="measure-staff_per_branch"', 1)[1].split())
    # The average with two decimals: 6 staff on 9 branches is 0.67, 33.3 % of the minimum 2.
    assert "<h3>Staffing of the branches</h3>" in staff
    assert "0.67 staff per branch on average (minimum 2)" in staff
    assert "6 staff on 9 active branches: 0.67 per branch on average, against the minimum" in staff
    assert "100 % means the branches have at least the minimum on average" in staff
    for key in ("integration_coverage", "phone_coverage", "branch_coverage"):
        tile = english.split(f'id="measure-{key}"', 1)[1].split('class="askpro-tile ')[0]
        assert 'class="askpro-tile-explanation">Share of companies' in tile, key
    assert "whose last connection test did not fail" in english
    german = " ".join(admin_client.get(DASHBOARD).text.split())
    assert "<h3>Firmen, bei denen Anrufer durchkommen und buchen können</h3>" in german
    assert "<h3>Besetzung der Filialen</h3>" in german
    assert "6 Mitarbeitende in 9 aktiven Filialen: durchschnittlich 0,67 je Filiale" in german


# --- fixes and affected rows: what a manager reads outside the collapsed detail -----------------

# A gateway column as the database names it ("companies.calcom_api_key").
TABLE_COLUMN = re.compile(r"\b(?:companies|branches|integrations|phone_numbers|staff)\.\w+")


def plain_problems(text: str) -> list[str]:
    return engineering_tokens(text) + TABLE_COLUMN.findall(text) + re.findall(r"`[^`]*`", text)


@pytest.mark.parametrize("language", ["en", "de"])
def test_fix_titles_descriptions_and_what_they_leave_open_speak_plainly(language):
    """The walkthrough read "eine Zeile in retell_agents an (… Sync-Status „pending“)" beside
    AUD-AGT-001: a fix says what it does in plain words; the technical account is its detail,
    shown collapsed on the preview."""
    from audit_app.fixes.base import all_fixes

    with translation.override(language):
        for fix in all_fixes():
            for name in ("title", "description", "leaves_open"):
                text = str(getattr(fix, name))
                assert not plain_problems(text), (fix.id, name, plain_problems(text))
    with translation.override("en"):
        assert "retell_agents" in str(
            next(f for f in all_fixes() if f.id == "register-agents").detail
        )


def _row_texts() -> list[tuple[str, int, str]]:
    """Every translatable text the checks and fixes build affected rows and planned writes
    from (the _() / ngettext() calls in their modules), but a CheckUnavailable's reason (why a
    check cannot judge: an instruction to whoever runs the console, like the settings)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "audit_app"
    texts = []
    # A check's or fix's own texts: tested above (the detail and hint are the engineers').
    own = ("title", "explanation", "detail", "hint", "description", "leaves_open")
    for path in sorted([*root.glob("checks/*.py"), *root.glob("fixes/*.py")]):
        tree = ast.parse(path.read_text())
        skipped = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}
        for cls in (c for c in ast.walk(tree) if isinstance(c, ast.ClassDef)):
            for statement in cls.body:
                targets = getattr(statement, "targets", [])
                if any(getattr(t, "id", "") in own for t in targets):
                    skipped |= {id(n) for n in ast.walk(statement)}
        for node in ast.walk(tree):
            name = getattr(node, "func", None) and getattr(node.func, "id", "")
            translated = ("_", "ngettext", "gettext_lazy", "ngettext_lazy")
            if name in translated and id(node) not in skipped:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        texts.append((path.name, node.lineno, arg.value))
    return texts


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_row_details_of_checks_and_fixes_name_no_tables_or_columns(language):
    """AUD-AGT-001's rows read "Agent … ist nicht in retell_agents"; AUD-KEY-*/SEC-* named
    ``companies.calcom_api_key``: row details name things as the forms do."""
    texts = _row_texts()
    assert len(texts) > 40
    with translation.override(language):
        for module, line, msgid in texts:
            if "GATEWAY_APP_KEY" in msgid:
                continue  # the console's setting, for whoever installs it (no key: no fix)
            text = translation.gettext(msgid)
            assert not plain_problems(text), (module, line, text, plain_problems(text))


def test_the_row_tables_name_their_tables_for_people(admin_client, demo):
    """The TABELLE column showed ``companies`` / ``integrations``: it shows Firmen, Integrationen,
    on the dashboard and on a check's own page; the rows' details are plain as well."""
    page = admin_client.get(DASHBOARD).text
    block = re.search(r'id="check-AUD-AGT-001".*?(?=<details class="askpro-check)', page, re.S)
    assert block, "AUD-AGT-001 has rows on the demo"
    block = block.group(0)
    assert '<th scope="col">Tabelle</th>' in block
    assert '<td class="askpro-row-table">Firmen</td>' in block
    assert "<code>companies</code>" not in page and "<code>integrations</code>" not in page
    assert "retell_agents" not in block.split("askpro-tech-detail")[0]
    assert "ist nicht angemeldet: Das Gateway kennt ihn nicht" in block
    assert "Meldet jeden Telefon-Agenten" in block  # the fix, in plain words
    check_page = admin_client.get("/admin/audit_app/fixrecord/check/AUD-AGT-001/").text
    rows = check_page.split('id="check-rows"', 1)[1].split("</table>")[0]
    assert '<td class="askpro-row-table">Firmen</td>' in rows and "<code>" not in rows
    assert "retell_agents" not in rows
    english = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert '<td class="askpro-row-table">Companies</td>' in english
    # The preview keeps the technical account, collapsed.
    preview = admin_client.get("/admin/audit_app/fixrecord/fix/register-agents/").text
    detail = re.search(
        r'<details class="askpro-tech-detail" id="fix-detail">.*?</details>', preview, re.S
    )
    assert detail and "retell_agents" in detail.group(0)
