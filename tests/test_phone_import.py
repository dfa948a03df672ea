"""The phone-number import (issue 6): every error at once, all or nothing, routable numbers."""

import csv
import io
import math
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from changelog.models import Change, Operation, Source
from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.phone import to_e164
from integrations_app.phone_import import (
    ImportFileError,
    error_csv,
    import_phone_numbers,
    neutralise,
    preview_phone_numbers,
)
from integrations_app.phone_import.write import BATCH
from tests import audit_rows as r
from tests.phone_import_files import csv_bytes, xlsx_bytes
from tests.support import at_the_same_moment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

GONE = datetime(2024, 1, 1, tzinfo=UTC)
HEADER_DE = ["Firma", "Filiale", "Nummer", "Typ", "Primär", "Aktiv", "Beschreibung"]


@pytest.fixture
def world():
    """Two companies with one branch each, one with two branches, one without, one deleted."""
    baeckerei = r.company("Bäckerei Müller & Söhne")
    koeln = r.branch(baeckerei, "Köln Süd")
    praxis = r.company("Praxis Dr. Lindenberg")
    mitte = r.branch(praxis, "Mitte")
    pankow = r.branch(praxis, "Pankow")
    old = r.branch(praxis, "Alt", deleted_at=GONE)
    kanzlei = r.company("Kanzlei Ohne Filiale")
    gone = r.company("Gelöschte GmbH", deleted_at=GONE)
    return {
        "baeckerei": baeckerei, "koeln": koeln, "praxis": praxis, "mitte": mitte,
        "pankow": pankow, "old": old, "kanzlei": kanzlei, "gone": gone,
    }  # fmt: skip


def run(data, **kwargs):
    return import_phone_numbers(data=data, file_name="nummern.csv", **kwargs)


def gateway_finds(to_number: str) -> PhoneNumber | None:
    """The gateway's inbound-call lookup (semantics.md §3), by any written form of a number."""
    e164 = to_e164(to_number)
    return PhoneNumber.objects.filter(
        Q(number_normalized=e164) | Q(number_normalized=e164.lstrip("+")) | Q(number=e164)
    ).first()


def excel_export(world) -> bytes:
    """A semicolon-separated Windows-1252 export from German Excel, numbers typed every way."""
    return csv_bytes(
        [HEADER_DE,
         ["Bäckerei Müller & Söhne", "", "0221 4710 123", "Durchwahl", "ja", "1", "Laden Süd"],
         [str(world["praxis"].pk), "Mitte", "+49 (30) 23125-101", "Hotline", "nein", "ja", ""],
         ["Praxis Dr. Lindenberg", str(world["pankow"].pk), "0049 30 23125102", "", "", "", ""],
         ["Praxis Dr. Lindenberg", "pankow", "030/23125103", "direct", "1", "yes", "Empfang"]],
        delimiter=";", encoding="cp1252",
    )  # fmt: skip


def test_excel_export_with_mixed_formats_is_imported_and_routes(world):
    data = excel_export(world)
    result = run(data)
    plan = result.plan
    assert [list(row.errors) for row in plan.rows] == [[], [], [], []], plan.errors
    assert plan.counts == {"new": 4, "update": 0, "unchanged": 0, "error": 0}
    assert result.written
    expected = {
        "+492214710123": (world["baeckerei"], world["koeln"], "direct", True, True, "Laden Süd"),
        "+493023125101": (world["praxis"], world["mitte"], "hotline", False, True, None),
        "+493023125102": (world["praxis"], world["pankow"], "direct", False, True, None),
        "+493023125103": (world["praxis"], world["pankow"], "direct", True, True, "Empfang"),
    }
    for e164, (company, branch, kind, primary, active, description) in expected.items():
        # every written form the gateway or a person may use finds the row, company and branch
        for form in (e164, "0" + e164[3:], "+49 " + e164[3:], "0049" + e164[3:]):
            row = gateway_finds(form)
            assert row is not None, form
            assert (row.company_id, row.branch_id) == (company.pk, branch.pk)
        # each condition of the gateway's lookup on its own, and the legacy column
        for condition in (
            Q(number_normalized=e164), Q(number_normalized=e164.lstrip("+")) | Q(number=e164),
            Q(number=e164), Q(phone_number=e164),
        ):  # fmt: skip
            assert PhoneNumber.objects.filter(condition).count() == 1
        row = PhoneNumber.objects.get(phone_number=e164)
        assert row.number == row.number_normalized == row.phone_number == e164
        assert (row.type, row.is_primary, row.is_active, row.description) == (
            kind, primary, active, description,
        )  # fmt: skip
        assert str(uuid.UUID(row.pk, version=4)) == row.pk
        assert row.created_at is not None and row.updated_at is not None
        assert row.country_code == "+49"
    # the change store has every row it wrote, under the import's operation: before and after
    record = result.record
    operation = record.operation
    assert (operation.source, operation.name, operation.user) == (
        Source.IMPORT,
        "nummern.csv",
        None,
    )
    written = list(record.written_changes())
    assert [(x.table, x.action, x.before) for x in written] == [
        ("phone_numbers", "create", None)
    ] * 4
    assert [PhoneNumber.objects.get(pk=x.object_pk).number for x in written] == list(expected)
    assert [x.object_repr for x in written] == list(expected)
    first = written[0].after
    assert set(first) == {
        "company_id", "branch_id", "number", "number_normalized", "phone_number",
        "country_code", "type", "is_primary", "is_active", "description",
    }  # fmt: skip
    assert (first["description"], first["company_id"]) == ("Laden Süd", world["baeckerei"].pk)
    assert written[0].company_id == world["baeckerei"].pk
    assert (
        first["number"] == first["number_normalized"] == first["phone_number"] == list(expected)[0]
    )
    assert (first["is_primary"], first["is_active"]) == (True, True)
    # nothing else: one operation, its four rows
    assert Operation.objects.count() == 1 and Change.objects.count() == 4


def test_the_same_number_in_three_forms_is_one_number(world):
    data = csv_bytes(
        [["company", "number"],
         ["Bäckerei Müller & Söhne", "030 1234567"],
         ["Bäckerei Müller & Söhne", "+49 (30) 123-4567"],
         ["Bäckerei Müller & Söhne", "0049301234567"]]
    )  # fmt: skip
    plan = preview_phone_numbers(data=data)
    assert [r.status for r in plan.rows] == ["error"] * 3
    assert [(e.row, e.column) for e in plan.errors] == [(2, "number"), (3, "number"), (4, "number")]
    assert "also row 3, 4" in plan.errors[0].message


def test_every_error_at_once_with_spreadsheet_row_numbers(world):
    other = r.company("Andere AG")
    r.number(other, "+493023125199", r.branch(other, "Zentrale"))
    data = csv_bytes(
        [HEADER_DE,
         ["Unbekannte GmbH", "", "030 23125 110", "", "", "", ""],         # 2 unknown company
         ["Gelöschte GmbH", "", "030 23125 111", "", "", "", ""],          # 3 deleted company
         ["Praxis Dr. Lindenberg", "Zentrale", "030 23125 112", "", "", "", ""],  # 4 no branch
         ["Praxis Dr. Lindenberg", "Alt", "030 23125 113", "", "", "", ""],  # 5 deleted branch
         ["Praxis Dr. Lindenberg", "", "030 23125 114", "", "", "", ""],   # 6 several branches
         ["Kanzlei Ohne Filiale", "", "030 23125 115", "", "", "", ""],    # 7 no branch at all
         ["Bäckerei Müller & Söhne", str(world["mitte"].pk), "030 23125 116", "", "", "", ""],  # 8
         ["Bäckerei Müller & Söhne", "", "12", "", "", "", ""],            # 9 invalid number
         [],                                                               # 10 empty row
         ["Bäckerei Müller & Söhne", "", "030 23125 199", "", "", "", ""],  # 11 other company's
         ["Bäckerei Müller & Söhne", "", "030 23125 117", "Fax", "vielleicht", "2", ""],  # 12
         ["Bäckerei Müller & Söhne", "", "030 23125 118", "", "", "", ""],  # 13 twice
         ["Bäckerei Müller & Söhne", "", "+49 30 23125118", "", "", "", ""],  # 14 twice
         ["Bäckerei Müller & Söhne", "", "030 23125 119", "", "ja", "", ""],  # 15 two primaries
         ["Bäckerei Müller & Söhne", "", "030 23125 120", "", "1", "", ""],  # 16 two primaries
         ["", "", "", "", "", "", ""],                                     # 17 empty row
         ["", "Köln Süd", "030 23125 121", "", "", "", ""],                # 18 no company
         ["Bäckerei Müller & Söhne", "", "", "", "", "", ""],              # 19 no number
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125 122", "", "", "", ""]],  # 20 fine
        delimiter=";", encoding="cp1252",
    )  # fmt: skip
    before = PhoneNumber.objects.count()
    result = run(data)
    found = [(e.row, e.column) for e in result.plan.errors]
    assert found == [
        (2, "Firma"), (3, "Firma"), (4, "Filiale"), (5, "Filiale"), (6, "Filiale"),
        (7, "Filiale"), (8, "Filiale"), (9, "Nummer"), (11, "Nummer"), (12, "Typ"),
        (12, "Primär"), (12, "Aktiv"), (13, "Nummer"), (14, "Nummer"), (15, "Primär"),
        (16, "Primär"), (18, "Firma"), (19, "Nummer"),
    ]  # fmt: skip
    messages = {(e.row, e.column): e.message for e in result.plan.errors}
    assert "no company “Unbekannte GmbH”" in messages[(2, "Firma")]
    assert "is deleted" in messages[(3, "Firma")] and "is deleted" in messages[(5, "Filiale")]
    assert "has no branch “Zentrale”" in messages[(4, "Filiale")]
    assert "has 2 branches" in messages[(6, "Filiale")]
    assert "has no branch: create one" in messages[(7, "Filiale")]
    assert "belongs to another company" in messages[(8, "Filiale")]
    assert "not a valid phone number" in messages[(9, "Nummer")]
    assert "belongs to another company (Andere AG)" in messages[(11, "Nummer")]
    assert "use direct/Durchwahl or hotline" in messages[(12, "Typ")]  # columns.TYPE_NAMES
    assert "ja/nein" in messages[(12, "Primär")]
    assert "also row 14" in messages[(13, "Nummer")]
    assert "2 primary numbers" in messages[(15, "Primär")]
    assert [r.status for r in result.plan.rows][-1] == "new"
    # all or nothing: the good row 20 is not written either; the attempt is recorded
    assert PhoneNumber.objects.count() == before
    assert not result.written
    record = PhoneImport.objects.get()
    assert (record.outcome, record.error_count, record.new_count) == ("rejected", 16, 1)
    assert record.operation is None and not Change.objects.exists()


def test_same_company_is_an_update_that_changes_only_what_differs(world):
    existing = r.number(world["praxis"], "+49 30 23125 130", None, normalized=None)
    untouched = r.number(world["baeckerei"], "+493023125131", world["koeln"], description="x")
    stamp = PhoneNumber.objects.get(pk=untouched.pk).updated_at
    data = csv_bytes(
        [["company", "branch", "number", "type", "description"],
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125130", "hotline", "Empfang"],
         ["Bäckerei Müller & Söhne", "", "030 23125131", "", ""]]
    )  # fmt: skip
    result = run(data)
    assert [r.status for r in result.plan.rows] == ["update", "unchanged"]
    row = PhoneNumber.objects.get(pk=existing.pk)
    assert row.number == row.number_normalized == row.phone_number == "+493023125130"
    assert (row.branch_id, row.type, row.description) == (world["mitte"].pk, "hotline", "Empfang")
    assert PhoneNumber.objects.get(pk=untouched.pk).updated_at == stamp
    (entry,) = result.record.written_changes()
    assert (entry.object_pk, entry.action, entry.object_repr) == (
        existing.pk, "update", "+493023125130",
    )  # fmt: skip
    assert entry.company_id == world["praxis"].pk
    # only what changed, before and after
    assert entry.before == {
        "branch_id": None, "number": "+49 30 23125 130", "number_normalized": None,
        "phone_number": None, "type": "direct", "description": None,
    }  # fmt: skip
    assert entry.after == {
        "branch_id": world["mitte"].pk, "number": "+493023125130",
        "number_normalized": "+493023125130", "phone_number": "+493023125130",
        "type": "hotline", "description": "Empfang",
    }  # fmt: skip
    assert row.updated_at is not None  # stamped by the import, as the gateway does on save


def test_reimport_of_the_same_file_is_unchanged_and_writes_nothing(world):
    data = excel_export(world)
    first = run(data)
    assert first.written
    rows = {p.pk: (p.updated_at, p.number) for p in PhoneNumber.objects.all()}
    entries = Change.objects.count()
    again = run(data)
    assert again.plan.counts == {"new": 0, "update": 0, "unchanged": 4, "error": 0}
    assert {p.pk: (p.updated_at, p.number) for p in PhoneNumber.objects.all()} == rows
    assert Change.objects.count() == entries == 4  # the second import wrote nothing
    assert len(first.record.written_changes()) == 4
    assert again.record.operation is None and not again.record.written_changes().exists()
    assert again.record.checksum == first.record.checksum


def test_primary_may_move_within_the_file(world):
    old = r.number(world["baeckerei"], "+493023125140", world["koeln"], is_primary=True)
    data = csv_bytes(
        [["company", "number", "primary"],
         ["Bäckerei Müller & Söhne", "030 23125140", "nein"],
         ["Bäckerei Müller & Söhne", "030 23125141", "ja"]]
    )  # fmt: skip
    assert not run(data).plan.has_errors
    assert not PhoneNumber.objects.get(pk=old.pk).is_primary
    assert PhoneNumber.objects.get(number="+493023125141").is_primary


def test_a_second_primary_beside_one_in_the_database_is_an_error(world):
    r.number(world["baeckerei"], "+493023125150", world["koeln"], is_primary=True)
    data = csv_bytes(
        [["company", "number", "primary"], ["Bäckerei Müller & Söhne", "03023125151", "true"]]
    )
    plan = run(data).plan
    assert [(e.row, e.column) for e in plan.errors] == [(2, "primary")]


def test_region_is_settable(world):
    data = csv_bytes([["company", "number"], ["Bäckerei Müller & Söhne", "01 58800"]])
    assert preview_phone_numbers(data=data).has_errors  # not a German number
    result = run(data, region="AT")
    assert not result.plan.has_errors, result.plan.errors
    row = PhoneNumber.objects.get()
    assert (row.number, row.country_code) == ("+43158800", "+43")


def test_bom_utf8_comma_file_and_xlsx_import_the_same(world):
    rows = [["company", "branch", "number", "active"],
            ["Praxis Dr. Lindenberg", "Pankow", "030 23125160", "no"]]  # fmt: skip
    assert run(csv_bytes(rows, bom=True)).plan.counts["new"] == 1
    result = run(xlsx_bytes([rows[0], ["Praxis Dr. Lindenberg", "Pankow", "+493023125160", 0]]))
    assert result.plan.counts["unchanged"] == 1
    row = gateway_finds("030 23125160")
    assert (row.branch_id, row.is_active) == (world["pankow"].pk, False)


def test_dry_run_writes_nothing(world):
    result = run(excel_export(world), dry_run=True)
    assert result.plan.counts["new"] == 4 and result.record is None
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()


def test_a_changed_database_after_the_preview_is_not_written(world):
    data = excel_export(world)
    preview = preview_phone_numbers(data=data)
    r.number(world["baeckerei"], "+492214710123", world["koeln"])
    result = run(data, expected_digest=preview.digest)
    assert result.record is None and PhoneNumber.objects.count() == 1
    assert run(data, expected_digest=result.plan.digest).written


def test_validation_queries_do_not_grow_with_rows(world):
    def file_of(count):
        return csv_bytes(
            [["company", "branch", "number"]]
            + [["Praxis Dr. Lindenberg", "Mitte", f"+4930{2000000 + i}"] for i in range(count)]
        )

    counts = []
    for size in (10, 300):
        with CaptureQueriesContext(connection) as queries:
            plan = preview_phone_numbers(data=file_of(size))
        assert plan.counts["new"] == size, plan.errors[:3]
        counts.append(len(queries))
    assert counts[0] == counts[1] == 3


def large_file(size: int, first: int = 3000000) -> bytes:
    return csv_bytes(
        [["company", "branch", "number"]]
        + [["Praxis Dr. Lindenberg", "Mitte", f"+4930{first + i}"] for i in range(size)]
    )


def inserts_into(queries, model) -> list[str]:
    table = connection.ops.quote_name(model._meta.db_table)
    return [q["sql"] for q in queries if q["sql"].startswith(f"INSERT INTO {table}")]


def test_a_large_import_writes_numbers_and_history_in_batches(world):
    size = 2500
    with CaptureQueriesContext(connection) as queries:
        result = run(large_file(size))
    assert result.written and result.plan.counts["new"] == size, result.plan.errors[:3]

    # multi-row statements of up to BATCH rows (SQLite allows fewer parameters per statement)
    statements = inserts_into(queries, PhoneNumber)
    assert math.ceil(size / BATCH) <= len(statements) <= size / 50
    assert sum(sql.count("), (") + 1 for sql in statements) == size
    # one change per row in the store, in multi-row statements too (four values bound per row)
    changes = inserts_into(queries, Change)
    per_statement = min(BATCH, (connection.features.max_query_params or BATCH * 4) // 4)
    batches = [min(BATCH, size - start) for start in range(0, size, BATCH)]
    assert len(changes) == sum(math.ceil(batch / per_statement) for batch in batches)
    assert sum(sql.count("), (") + 1 for sql in changes) == size
    assert len(inserts_into(queries, Operation)) == 1
    assert len(queries) < 100
    written = list(result.record.written_changes())
    assert len(written) == size and {w.action for w in written} == {"create"}
    assert {w.object_pk for w in written} == set(PhoneNumber.objects.values_list("pk", flat=True))
    assert {w.operation_id for w in written} == {result.record.operation_id}


def test_the_insert_statements_do_not_grow_with_rows(world):
    """A few statements per thousand rows, whatever the number of rows: never one per row."""
    counts = {}
    for size, first in ((1000, 3000000), (3000, 3100000)):
        with CaptureQueriesContext(connection) as queries:
            assert run(large_file(size, first)).written
        inserts = [q for q in queries if q["sql"].startswith("INSERT")]
        counts[size] = len(inserts)
        assert len(inserts) * 50 <= size + 200  # every statement carries many rows
        if connection.vendor == "mysql":  # 1,000 rows a statement: the numbers, their changes
            assert len(inserts_into(queries, PhoneNumber)) == size // 1000
            assert len(inserts_into(queries, Change)) == size // 1000
    # three times the rows: about three times the statements (batches), not 2,000 more
    assert counts[3000] <= 3 * counts[1000] + 3


def test_error_csv_beside_the_original_rows_with_formulas_neutralised(world):
    data = csv_bytes(
        [["company", "number", "description"],
         ["=HYPERLINK(\"x\")", "+49 30 1", "@SUM(A1)"],
         ["Bäckerei Müller & Söhne", "-1", "\tTab"]],
        delimiter=";",
    )  # fmt: skip
    plan = preview_phone_numbers(data=data)
    text = error_csv(plan).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert lines[0] == ["company", "number", "description", "row", "column", "error"]
    # one line per row, its errors' columns and reasons joined
    assert lines[1][:5] == ['\'=HYPERLINK("x")', "'+49 30 1", "'@SUM(A1)", "2", "company, number"]
    assert lines[1][5].startswith("There is no company") and " | " in lines[1][5]
    assert lines[2][:5] == ["Bäckerei Müller & Söhne", "'-1", "'\tTab", "3", "number"]
    assert len(lines) == 3 and len(plan.errors) == 3
    for bad in ("=1", "+1", "-1", "@1", "\t1", "\r1"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("030 1") == "030 1" and neutralise(None) == ""


def test_error_csv_keeps_every_row_at_its_place_in_the_file(world):
    data = csv_bytes(
        [["company", "branch", "number", "description"],
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125170", "gut"],     # 2
         ["Bäckerei Meier", "", "030 23125171", "Firma falsch"],        # 3 an error
         [],                                                            # 4 an empty line
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125172", "gut"],     # 5
         ["Praxis Dr. Lindenberg", "Mitte", "12", "Nummer falsch"]],    # 6 an error
    )  # fmt: skip
    plan = preview_phone_numbers(data=data)
    assert [(e.row, e.column) for e in plan.errors] == [(3, "company"), (6, "number")]
    lines = list(csv.reader(io.StringIO(error_csv(plan).decode("utf-8-sig"), newline="")))
    # line n of the errors CSV is row n of the file, as the preview and the errors name it
    assert [line[4] if line else "" for line in lines[1:]] == ["2", "3", "", "5", "6"]
    assert [line[3] for line in lines if line][1:] == [
        "gut", "Firma falsch", "gut", "Nummer falsch",
    ]  # fmt: skip
    assert [line[5] for line in lines if line][1:] == ["", "company", "", "number"]


@pytest.mark.parametrize(
    "written",
    [
        "030 1234567", "+49 (30) 123-4567", "0049301234567", "+49 (0)30 1234567", "(030) 123 45 67",
        "030/1234567", "+49.30.1234567", "030-123-4567", "+43 1 5123456", "0043 664 1234567",
        "+1 (212) 555-0100", "030 12", "+49 30", "0000", "++49 30 1234567", "030 1234567 89 0123",
        "030 1234567 x 12", "+49 30 1234567;ext=12",
    ],
)  # fmt: skip
def test_the_quick_path_for_plain_numbers_agrees_with_phonenumbers(written):
    import phonenumbers

    from integrations_app.phone_import import lookups, validate
    from integrations_app.phone_import.plan import RowResult
    from integrations_app.phone_import.reader import read_table

    checker = validate._RowChecker(read_table(b"company,number\nA,1\n"), "DE", lookups.Lookups())
    result = RowResult(row=2)
    e164, country_code = checker.number(result, written)
    try:
        parsed = phonenumbers.parse(written, "DE")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed) or parsed.extension:
        assert (e164, country_code) == (None, None) and len(result.errors) == 1
        assert ("extension" in result.errors[0].message) == bool(parsed and parsed.extension)
    else:
        assert e164 == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        assert country_code == f"+{parsed.country_code}" and not result.errors


@pytest.mark.django_db(transaction=True)
def test_two_imports_at_once_run_one_after_the_other(mysql_only, transactional_db):
    company = r.company("Praxis Dr. Lindenberg")
    r.branch(company, "Mitte")
    data = csv_bytes(
        [["company", "number"]]
        + [["Praxis Dr. Lindenberg", f"+4930{2700000 + i}"] for i in range(300)]
    )

    def attempt():
        return import_phone_numbers(data=data, file_name="nummern.csv", source="race").plan.counts

    outcomes = at_the_same_moment(attempt, attempt)
    # the second import waited for the first and found every number already there
    assert sorted(outcomes, key=str) == [
        {"new": 0, "update": 0, "unchanged": 300, "error": 0},
        {"new": 300, "update": 0, "unchanged": 0, "error": 0},
    ]
    assert PhoneNumber.objects.count() == 300 and PhoneImport.objects.count() == 2


def test_a_number_written_meanwhile_by_another_writer_stops_the_import(world, monkeypatch):
    from integrations_app.phone_import import service

    data = csv_bytes([["company", "number"], ["Bäckerei Müller & Söhne", "030 23125190"]])
    checked = service.validate

    def validate_then_another_writer(*args, **kwargs):
        plan = checked(*args, **kwargs)
        r.number(world["baeckerei"], "+493023125190", world["koeln"])  # e.g. the admin form
        return plan

    monkeypatch.setattr(service, "validate", validate_then_another_writer)
    with pytest.raises(ImportFileError, match="changed while the file was being imported"):
        run(data)
    assert not PhoneImport.objects.exists()  # rolled back with the import


@pytest.mark.parametrize("cell", ["²", "①", "9" * 5000, "12345678901234567890123"])
def test_a_company_cell_of_odd_digits_is_a_row_error(world, cell):
    plan = preview_phone_numbers(data=csv_bytes([["company", "number"], [cell, "030 23125150"]]))
    assert [(e.row, e.column) for e in plan.errors] == [(2, "company")]
    assert "There is no company" in plan.errors[0].message


def test_a_number_twice_is_reported_even_where_the_company_is_wrong(world):
    data = csv_bytes(
        [["company", "number"],
         ["Unbekannte GmbH", "030 23125160"],
         ["Bäckerei Müller & Söhne", "+49 30 23125160"]]
    )  # fmt: skip
    plan = preview_phone_numbers(data=data)
    assert sorted((e.row, e.column) for e in plan.errors) == [
        (2, "company"), (2, "number"), (3, "number"),
    ]  # fmt: skip


def test_an_empty_branch_of_a_company_with_several_is_an_error_for_an_update_too(world):
    r.number(world["praxis"], "+493023125170", world["mitte"])
    data = csv_bytes([["company", "branch", "number", "description"],
                      ["Praxis Dr. Lindenberg", "", "030 23125170", "Empfang"]])  # fmt: skip
    plan = preview_phone_numbers(data=data)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "branch")]
    assert "Praxis Dr. Lindenberg has 2 branches" in plan.errors[0].message


@pytest.mark.parametrize("code, conflict", [(1213, True), (1205, True), (2006, False)])
def test_a_deadlock_or_lock_timeout_is_a_conflict_not_a_crash(world, monkeypatch, code, conflict):
    from django.db import OperationalError

    from integrations_app.phone_import import service
    from integrations_app.phone_import.errors import ImportConflict

    data = csv_bytes([["company", "number"], ["Bäckerei Müller & Söhne", "030 23125180"]])

    def fails(*args, **kwargs):
        raise OperationalError(code, "the database's own message")

    monkeypatch.setattr(service, "write_plan", fails)
    expected = ImportConflict if conflict else OperationalError  # other failures stay errors
    with pytest.raises(expected):
        run(data)
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()


def test_an_unknown_name_gets_a_suggestion(world):
    r.branch(world["baeckerei"], "Bäckerei Müller Altona")
    data = csv_bytes(
        [["company", "branch", "number"],
         ["Bäckerei Müler & Söhne", "", "030 23125140"],        # a typo
         ["Bäckerei Müller & Söhne", "Altona", "030 23125141"],  # part of the branch's name
         ["Praxis Dr. Lindenberg", "Zentrale", "030 23125142"],  # nothing close: the branches
         ["Völlig Unbekannt AG", "", "030 23125143"]]            # nothing close at all
    )  # fmt: skip
    messages = {(e.row, e.column): e.message for e in preview_phone_numbers(data=data).errors}
    assert messages[(2, "company")].endswith("Did you mean “Bäckerei Müller & Söhne”?")
    assert messages[(3, "branch")].endswith("Did you mean “Bäckerei Müller Altona”?")
    assert messages[(4, "branch")].endswith("Its branches: Mitte, Pankow.")
    assert messages[(5, "company")] == "There is no company “Völlig Unbekannt AG”."


def test_text_that_is_not_plain_is_bound_not_written_into_the_statement(world):
    """Ids, numbers and flags go into the INSERT as text; anything else (quotes, percent signs,
    backslashes, newlines, JSON) is bound and arrives exactly as written."""
    odd = '100% O\'Brien \\ "Empfang"; --\nzweite Zeile'
    data = csv_bytes(
        [["company", "branch", "number", "description"],
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125160", odd],
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125161", "Empfang"]]
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        result = run(data)
    assert result.written
    stored = dict(PhoneNumber.objects.values_list("number", "description"))
    assert stored == {"+493023125160": odd, "+493023125161": "Empfang"}
    afters = {c.object_repr: c.after["description"] for c in result.record.written_changes()}
    assert afters == stored
    (insert,) = inserts_into(queries, PhoneNumber)
    assert "'+493023125160'" in insert and "O'Brien" not in insert


def test_a_number_another_writer_changed_after_the_check_stops_the_import(world, monkeypatch):
    """The update compares the locked row with what the plan checked: a form that saved the
    number in between is not overwritten, and nothing of the import is kept."""
    from integrations_app import services
    from integrations_app.phone_import import service, write
    from integrations_app.phone_import.errors import ImportConflict

    existing = r.number(world["praxis"], "+49 30 23125 150", None, normalized=None)
    data = csv_bytes(
        [["company", "branch", "number", "description"],
         ["Praxis Dr. Lindenberg", "Mitte", "030 23125150", "Empfang"],
         ["Bäckerei Müller & Söhne", "", "030 23125151", ""]]
    )  # fmt: skip

    def a_form_saved_first(plan, record, **kwargs):
        services.update_rows(model=PhoneNumber, values={existing.pk: {"description": "Form"}})
        write.write_plan(plan, record, **kwargs)

    monkeypatch.setattr(service, "write_plan", a_form_saved_first)
    with pytest.raises(ImportConflict):
        run(data)
    row = PhoneNumber.objects.get(pk=existing.pk)
    assert row.description is None  # the whole transaction, the form's save in it, rolled back
    assert not PhoneNumber.objects.filter(number="+493023125151").exists()
    assert not PhoneImport.objects.exists()


def test_the_not_e164_warning_says_empty_for_an_empty_stored_value():
    """The walkthrough read „gespeichert (normalisiert: „“)“: an empty value reads „leer“."""
    from django.utils import translation

    from integrations_app.phone_import.unchanged import _not_e164

    row = {"number": "+49 30 23125 104", "number_normalized": None}
    with translation.override("de"):
        text = _not_e164(row, "+493023125104")
        assert "ist als „+49 30 23125 104“ gespeichert (normalisiert: leer)" in text
        assert "„“" not in text
        assert "(normalisiert: „+493023125104“)" in _not_e164(
            {"number": "030 23125104", "number_normalized": "+493023125104"}, "+493023125104"
        )
    with translation.override("en"):
        assert "stored as “+49 30 23125 104” (normalised: empty)" in _not_e164(row, "+4930")
