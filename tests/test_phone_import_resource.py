"""django-import-export's own API (``Resource.import_data``) on the one validated bulk path."""

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changelog.models import Change
from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.phone_import import ImportFileError
from integrations_app.phone_import.resource import PhoneNumberResource
from tests import audit_rows as r

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HEADER_DE = ["Firma", "Filiale", "Nummer", "Typ", "Primär", "Aktiv", "Beschreibung"]


@pytest.fixture
def praxis():
    company = r.company("Praxis Dr. Lindenberg")
    return company, r.branch(company, "Mitte"), r.branch(company, "Pankow")


def dataset(rows, headers=HEADER_DE):
    return tablib.Dataset(*rows, headers=headers)


def test_import_data_checks_then_writes_all_rows_in_bulk(praxis):
    company, mitte, pankow = praxis
    data = dataset([
        [company.name, "Mitte", "030 2312 5100", "hotline", "ja", "ja", "Empfang"],
        [company.name, "pankow", "+49 (30) 2312-5101", "", "", "nein", ""],
        [str(company.pk), str(pankow.pk), "0049 30 23125102", "Durchwahl", "", "", None],
    ])  # fmt: skip
    resource = PhoneNumberResource()
    preview = resource.import_data(data, dry_run=True)
    assert dict(preview.totals) == {
        "new": 3, "update": 0, "delete": 0, "skip": 0, "error": 0, "invalid": 0,
    }  # fmt: skip
    assert not preview.has_validation_errors() and not preview.has_errors()
    assert preview.phone_import is None and not PhoneNumber.objects.exists()

    result = resource.import_data(data, dry_run=False, user=None, file_name="api.csv")
    assert result.totals["new"] == 3 and not result.has_validation_errors()
    rows = {p.number: p for p in PhoneNumber.objects.all()}
    assert set(rows) == {"+493023125100", "+493023125101", "+493023125102"}
    assert (rows["+493023125100"].branch_id, rows["+493023125100"].type) == (mitte.pk, "hotline")
    assert rows["+493023125101"].branch_id == pankow.pk and not rows["+493023125101"].is_active
    record = PhoneImport.objects.get()
    assert result.phone_import == record and record.source == "import_export"
    assert (record.file_name, record.new_count, record.outcome) == ("api.csv", 3, "imported")
    assert len(record.written_changes()) == 3

    again = resource.import_data(data, dry_run=False)
    assert again.totals["skip"] == 3 and again.totals["new"] == 0
    assert [row.object_id for row in again.rows] == [
        rows[n].pk for n in ("+493023125100", "+493023125101", "+493023125102")
    ]


def test_import_data_reports_every_invalid_row_by_column_and_writes_nothing(praxis):
    company, _mitte, _pankow = praxis
    data = dataset([
        [company.name, "Mitte", "030 2312 5100", "", "", "", ""],
        ["Unbekannte GmbH", "", "030 2312 5101", "fax", "", "", ""],
        [company.name, "", "030 12", "", "vielleicht", "", ""],
    ])  # fmt: skip
    history = Change.objects.count()
    result = PhoneNumberResource().import_data(data, dry_run=False)
    assert result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new", "invalid", "invalid"]
    invalid = {row.number: row for row in result.invalid_rows}
    assert set(invalid) == {3, 4}  # the spreadsheet's row numbers: the header is row 1
    assert set(invalid[3].field_specific_errors) == {"Firma", "Typ"}
    assert "no company “Unbekannte GmbH”" in invalid[3].field_specific_errors["Firma"][0]
    assert set(invalid[4].field_specific_errors) == {"Filiale", "Nummer", "Primär"}
    assert invalid[4].values[:3] == (company.name, "", "030 12")
    assert not PhoneNumber.objects.exists() and Change.objects.count() == history
    assert PhoneImport.objects.get().outcome == "rejected"


def test_import_data_refuses_an_unknown_column(praxis):
    data = dataset([["Praxis Dr. Lindenberg", "030 2312 5100"]], headers=["Firma", "Telefon"])
    result = PhoneNumberResource().import_data(data, dry_run=True)
    assert result.has_errors() and "Telefon" in str(result.base_errors[0].error)
    with pytest.raises(ImportFileError, match="Telefon"):
        PhoneNumberResource().import_data(data, dry_run=True, raise_errors=True)
    assert not PhoneImport.objects.exists()


def test_import_data_queries_do_not_grow_with_rows(praxis):
    company, _mitte, _pankow = praxis

    def queries_for(count, first):
        data = dataset([
            [company.name, "Mitte", f"+4930{first + i}", "", "", "", ""] for i in range(count)
        ])  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            result = PhoneNumberResource().import_data(data, dry_run=False)
        assert result.totals["new"] == count, result.invalid_rows[:3]
        return len(queries)

    queries_for(1, 1990000)  # the first import also creates the import lock's row
    # (80 rows still fit one statement on SQLite, which allows 999 parameters per statement)
    assert queries_for(5, 2000000) == queries_for(80, 2100000)
