"""An export Excel opens, and that imports again unchanged (issue 12, point 6).

German interface: semicolons, UTF-8 with a BOM, German headers. English: commas, UTF-8 with a
BOM too (Excel reads UTF-8 without one as Windows-1252 whatever the language), English headers.
The file name says what the file holds. An unedited export imports as "unchanged" whatever
gaps the data has; the gaps are warnings, not errors, and block no other row's change.
"""

import codecs
import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from changelog.models import Change, Operation
from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.phone_import import import_phone_numbers, preview_phone_numbers
from integrations_app.phone_import.columns import map_headers, parse_boolean, parse_type
from tests import audit_rows as r
from tests.phone_import_files import csv_bytes

pytestmark = pytest.mark.django_db

EXPORT = "admin:integrations_app_phonenumber_export"
CSV, XLSX = "0", "1"
GERMAN = ["Firma", "Filiale", "Nummer", "Typ", "Primär", "Aktiv", "Beschreibung"]
ENGLISH = ["company", "branch", "number", "type", "primary", "active", "description"]


def export(client, language: str, query: str = "", fmt: str = CSV):
    url = reverse(EXPORT) + query
    response = client.post(url, {"format": fmt, "resource": "0"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return b"".join(response.streaming_content), response


def filename(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('"')
    return disposition[len('attachment; filename="') : -1]


@pytest.fixture
def muehlbach():
    company = r.company("Mühlbach Gärten")
    branch = r.branch(company, "Köln Süd")
    r.number(company, "+492214710123", branch, description="Laden; „Süd“, 1. OG")
    return company


def test_german_export_is_semicolons_utf8_with_bom_and_german_headers(admin_client, muehlbach):
    data, response = export(admin_client, "de")
    assert data.startswith(codecs.BOM_UTF8)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = data.decode("utf-8-sig")  # what Excel reads, given the BOM: no "MÃ¼hlbach"
    assert "Mühlbach Gärten" in text and "Ã" not in text
    assert text.splitlines()[0] == ";".join(GERMAN)
    cells = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert cells == [
        GERMAN,
        ["Mühlbach Gärten", "Köln Süd", "'+492214710123", "Durchwahl", "nein", "ja",
         "Laden; „Süd“, 1. OG"],
    ]  # fmt: skip
    assert set(map_headers(cells[0])) == {
        "company",
        "branch",
        "number",
        "type",
        "primary",
        "active",
        "description",
    }  # fmt: skip the importer knows every German header


WORDS = {  # type, primary, active of a hotline that is primary and inactive, and of the default
    "de": (["Hotline", "ja", "nein"], ["Durchwahl", "nein", "ja"]),
    "en": (["hotline", "yes", "no"], ["direct", "no", "yes"]),
}


@pytest.mark.parametrize("language", ["de", "en"])
def test_type_and_flags_are_words_of_the_user_s_language_the_import_reads(admin_client, language):
    company = r.company("Praxis Worte")
    branch = r.branch(company, "Mitte")
    r.number(company, "+493023125301", branch, type="hotline", is_primary=True, is_active=False)
    r.number(company, "+493023125302", branch)
    url = reverse(EXPORT)
    response = admin_client.post(url, {"format": CSV, "resource": "0"},
                                 HTTP_ACCEPT_LANGUAGE=language)  # fmt: skip
    # the rows are streamed after the view returned: in the language of the request still
    with translation.override("en" if language == "de" else "de"):
        data = b"".join(response.streaming_content)
    delimiter = ";" if language == "de" else ","
    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))
    assert [row[3:6] for row in cells[1:]] == list(WORDS[language])
    for kind, primary, active in WORDS[language]:  # each word is one the import reads
        assert parse_type(kind) in ("hotline", "direct")
        assert parse_boolean(primary) is not None and parse_boolean(active) is not None
    plan = preview_phone_numbers(data=data)
    assert plan.counts == {"new": 0, "update": 0, "unchanged": 2, "error": 0}, plan.errors
    # the words edited: the import writes exactly that change
    hotline, _yes, no = WORDS[language][0]
    cells[2][3], cells[2][5] = hotline, no
    edited = csv_bytes(cells, delimiter=delimiter, bom=True)
    result = import_phone_numbers(data=edited, file_name="worte.csv")
    assert result.written and result.plan.counts["update"] == 1, result.plan.errors
    changed = PhoneNumber.objects.get(number="+493023125302")
    assert (changed.type, changed.is_primary, changed.is_active) == ("hotline", False, False)


def test_english_export_is_commas_utf8_with_bom_and_english_headers(admin_client, muehlbach):
    data, _ = export(admin_client, "en")
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(ENGLISH)
    cells = list(csv.reader(io.StringIO(text, newline="")))
    assert cells[1][:3] == ["Mühlbach Gärten", "Köln Süd", "'+492214710123"]
    assert cells[1][6] == "Laden; „Süd“, 1. OG"


def test_the_xlsx_header_is_in_the_user_s_language(admin_client, muehlbach):
    from openpyxl import load_workbook

    for language, header in (("de", GERMAN), ("en", ENGLISH)):
        data, response = export(admin_client, language, fmt=XLSX)
        sheet = load_workbook(io.BytesIO(data)).active
        assert list(next(sheet.iter_rows(values_only=True))) == header
        assert filename(response).endswith(".xlsx")


def test_the_file_name_says_what_it_holds(admin_client, muehlbach):
    today = timezone.localdate().isoformat()
    other = r.company("Zweite GmbH")
    other.slug = None
    other.save()
    _, response = export(admin_client, "de")
    assert filename(response) == f"telefonnummern-alle-{today}.csv"
    _, response = export(admin_client, "en")
    assert filename(response) == f"phone-numbers-all-{today}.csv"
    company = f"?company__id__exact={muehlbach.pk}"
    _, response = export(admin_client, "de", company + "&type__exact=direct&is_active__exact=0")
    assert filename(response) == f"telefonnummern-{muehlbach.slug}-direct-inaktiv-{today}.csv"
    _, response = export(admin_client, "en", company + "&is_primary__exact=1&q=0221")
    assert filename(response) == f"phone-numbers-{muehlbach.slug}-primary-search-{today}.csv"
    # a company without a slug: its name, in ASCII
    _, response = export(admin_client, "de", f"?company__id__exact={other.pk}")
    assert filename(response) == f"telefonnummern-zweite-gmbh-{today}.csv"


def demo_export(client, language: str) -> bytes:
    call_command("seed_demo", verbosity=0)
    data, _ = export(client, language)
    return data


def file_rows(data: bytes) -> dict[str, int]:
    """The spreadsheet row of each exported number (without the neutralising apostrophe)."""
    text = data.decode("utf-8-sig")
    delimiter = ";" if text.startswith("Firma;") else ","
    cells = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return {row[2].lstrip("'"): number for number, row in enumerate(cells, 1) if number > 1}


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_unedited_export_of_the_demo_imports_unchanged(admin_client, language):
    data = demo_export(admin_client, language)
    stored = list(PhoneNumber.objects.order_by("pk").values())
    history = (Operation.objects.count(), Change.objects.count())
    with translation.override(language):
        plan = preview_phone_numbers(data=data)
        assert plan.counts == {"new": 0, "update": 0, "unchanged": 4, "error": 0}
        assert plan.error_count == 0 and not plan.errors
        # the demo's two gaps are warnings on their rows: unnormalised, and without a branch
        number, branch = ("Nummer", "Filiale") if language == "de" else ("number", "branch")
        rows = file_rows(data)
        warnings = {(w.row, w.column): w.message for w in plan.iter_warnings()}
        assert set(warnings) == {(rows["+493023125104"], number), (rows["+496990009101"], branch)}
        assert "+49 30 23125 104" in warnings[(rows["+493023125104"], number)]
        assert plan.warning_count == 2
        result = import_phone_numbers(data=data, file_name="export.csv", reason="round trip")
    assert result.written and result.record.unchanged_count == 4
    assert result.record.operation is None and not result.record.written_changes().exists()
    assert (Operation.objects.count(), Change.objects.count()) == history  # no history entry
    assert list(PhoneNumber.objects.order_by("pk").values()) == stored


def test_an_export_edited_in_one_cell_imports_exactly_that_change(admin_client):
    data = demo_export(admin_client, "de")
    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    target = next(row for row in cells[1:] if row[0] == "Salon Haarmonie")
    target[6] = "Empfang 1. OG"
    edited = csv_bytes(cells, delimiter=";", bom=True)
    result = import_phone_numbers(data=edited, file_name="bearbeitet.csv")
    assert result.plan.counts == {"new": 0, "update": 1, "unchanged": 3, "error": 0}
    assert result.written
    (entry,) = result.record.written_changes()
    assert entry.before == {"description": None}
    assert entry.after == {"description": "Empfang 1. OG"}
    assert PhoneNumber.objects.get(number="+494066969101").description == "Empfang 1. OG"
    # the gaps are still there, for the audit to find
    assert PhoneNumber.objects.get(number="+49 30 23125 104").number_normalized is None
    assert PhoneNumber.objects.get(number="+496990009101").branch_id is None


def test_a_row_identical_to_the_database_with_a_gap_blocks_no_other_row(world_with_gaps):
    praxis, mitte = world_with_gaps
    data = csv_bytes(
        [ENGLISH,
         ["Praxis Ost", "", "'+493023125201", "direct", "0", "1", ""],     # 2 as stored: no branch
         ["Praxis Ost", "Mitte", "+493023125202", "hotline", "0", "1", ""],  # 3 a change
         ["Praxis Ost", "", "+493023125203", "", "", "", ""]],             # 4 a change, no branch
    )  # fmt: skip
    with translation.override("en"):
        plan = preview_phone_numbers(data=data)
        assert [row.status for row in plan.rows] == ["unchanged", "update", "error"]
        # the same gap is an error on a row that changes something, a warning on the other
        assert [(e.row, e.column) for e in plan.errors] == [(4, "branch")]
        assert [(w.row, w.column) for w in plan.iter_warnings()] == [(2, "branch")]
        assert "no branch" in next(plan.iter_warnings()).message
    fixed = csv_bytes([row for n, row in enumerate(_rows(data)) if n != 3])
    result = import_phone_numbers(data=fixed, file_name="fixed.csv")
    assert result.written and result.plan.counts["update"] == 1
    assert PhoneNumber.objects.get(number="+493023125202").type == "hotline"
    assert PhoneNumber.objects.get(number="+493023125201").branch_id is None


def _rows(data: bytes):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture
def world_with_gaps():
    praxis = r.company("Praxis Ost")
    mitte = r.branch(praxis, "Mitte")
    r.branch(praxis, "Pankow")
    r.number(praxis, "+493023125201", None)  # the gap: no branch, and two to choose from
    r.number(praxis, "+493023125202", mitte)
    r.number(praxis, "+493023125203", mitte)
    return praxis, mitte


def test_other_gaps_of_an_identical_row_are_warnings(world_with_gaps):
    praxis, mitte = world_with_gaps
    gone = r.company("Alte GmbH", deleted_at=timezone.now())
    r.number(gone, "+493023125204", r.branch(gone, "Zentrale"))
    r.number(None, "+493023125205", None)  # no company
    r.number(praxis, "99", mitte, normalized=None)  # nothing the gateway can route by
    data = csv_bytes(
        [GERMAN,
         ["Alte GmbH", "Zentrale", "+493023125204", "direct", "0", "1", ""],
         ["", "", "+493023125205", "direct", "0", "1", ""],
         ["Praxis Ost", "Mitte", "99", "direct", "0", "1", ""],
         ["Praxis Ost", "Mitte", "+493023125203", "direct", "0", "1", ""],
         ["Praxis Ost", "Mitte", "+493023125203", "direct", "0", "1", ""]],  # the same row twice
        delimiter=";", bom=True,
    )  # fmt: skip
    plan = preview_phone_numbers(data=data)
    assert [row.status for row in plan.rows] == ["unchanged"] * 5, plan.errors
    assert sorted((w.row, w.column) for w in plan.iter_warnings()) == [
        (2, "Firma"), (3, "Filiale"), (3, "Firma"), (4, "Nummer"),
    ]  # fmt: skip
    before = PhoneImport.objects.count()
    result = import_phone_numbers(data=data, file_name="luecken.csv")
    assert result.written and result.record.operation is None
    assert PhoneImport.objects.count() == before + 1 and not Change.objects.exists()


def test_a_changing_row_beside_an_identical_one_of_the_same_number_is_an_error(world_with_gaps):
    data = csv_bytes(
        [ENGLISH,
         ["Praxis Ost", "Mitte", "+493023125202", "direct", "0", "1", ""],
         ["Praxis Ost", "Mitte", "+493023125202", "hotline", "0", "1", ""]],
    )  # fmt: skip
    plan = preview_phone_numbers(data=data)
    assert [row.status for row in plan.rows] == ["unchanged", "error"]
    assert [(e.row, e.column) for e in plan.errors] == [(3, "number")]


def test_the_preview_page_lists_the_gaps_as_warnings_and_writes_nothing(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = demo_export(admin_client, "de")
    upload = SimpleUploadedFile("telefonnummern.csv", data, content_type="text/csv")
    response = admin_client.post(
        reverse("admin:integrations_app_phonenumber_phone_import"),
        {"file": upload, "region": "DE"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' not in page
    assert 'id="import-warnings"' in page and "2 Lücken in der Datenbank" in page
    assert "Die Nummer hat keine Filiale" in page and "„+49 30 23125 104“" in page
    assert response.context["nothing_to_write"] and "Bestätigen (keine Änderungen)" in page
    history = Change.objects.count()
    confirm = admin_client.post(
        reverse("admin:integrations_app_phonenumber_phone_import_confirm"),
        {"token": response.context["stored"]["token"]},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert confirm.status_code == 302
    assert PhoneImport.objects.get().unchanged_count == 4 and Change.objects.count() == history


def test_an_unedited_xlsx_export_of_the_demo_imports_unchanged_too(admin_client):
    call_command("seed_demo", verbosity=0)
    data, _ = export(admin_client, "de", fmt=XLSX)
    plan = preview_phone_numbers(data=data)
    assert plan.counts == {"new": 0, "update": 0, "unchanged": 4, "error": 0}
    assert plan.warning_count == 2


def test_a_number_normalised_without_its_plus_exports_in_e164_and_imports_unchanged(admin_client):
    company = r.company("Praxis Nord")
    branch = r.branch(company, "Mitte")
    r.number(company, "+493023125206", branch, normalized="493023125206")  # as some rows are
    data, _ = export(admin_client, "de")
    assert "'+493023125206" in data.decode("utf-8-sig")  # not 4930…: DE would read 0…4930…
    plan = preview_phone_numbers(data=data)
    assert plan.counts == {"new": 0, "update": 0, "unchanged": 1, "error": 0}
    assert [(w.row, w.column) for w in plan.iter_warnings()] == [(2, "Nummer")]


@pytest.mark.parametrize(
    "language, choices, said",
    [
        ("de", ["CSV (Excel, Semikolon)", "Excel (.xlsx)"], "liest den Apostroph wieder"),
        ("en", ["CSV (Excel, commas)", "Excel (.xlsx)"], "reads the apostrophe off again"),
    ],
)
def test_the_export_page_names_the_formats_chooses_csv_and_says_why_the_apostrophe(
    admin_client, language, choices, said
):
    response = admin_client.get(reverse(EXPORT), HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    field = response.context["form"]["format"]
    assert [label for _value, label in field.field.choices] == choices  # no "---"
    assert 'value="0" selected' in page  # CSV, the first
    assert said in page.replace("&#x27;", "'")
    # the page's default submits a CSV at once
    data, response = export(admin_client, language, fmt=str(field.value()))
    assert filename(response).endswith(".csv")
