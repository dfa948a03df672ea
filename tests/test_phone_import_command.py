"""`manage.py import_phone_numbers`: the same path as the admin, a summary, exit codes."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations_app.models import PhoneImport, PhoneNumber
from tests import audit_rows as r
from tests import support
from tests.phone_import_files import csv_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_command_imports_dry_runs_and_reports_errors(tmp_path):
    company = r.company("Bäckerei Müller")
    r.branch(company, "Köln")
    good = tmp_path / "nummern.csv"
    good.write_bytes(
        csv_bytes([["Firma", "Nummer"], ["Bäckerei Müller", "0221 4710 123"]],
                  delimiter=";", encoding="cp1252")
    )  # fmt: skip
    out = StringIO()
    call_command("import_phone_numbers", str(good), "--dry-run", stdout=out)
    assert "1 new, 0 updated, 0 unchanged, 0 with errors" in out.getvalue()
    assert "Dry run" in out.getvalue() and not PhoneNumber.objects.exists()

    call_command("import_phone_numbers", str(good), stdout=StringIO())
    assert PhoneNumber.objects.get().number == "+492214710123"
    assert PhoneImport.objects.get().source == "command:import_phone_numbers"

    bad = tmp_path / "falsch.csv"
    bad.write_bytes(csv_bytes([["company", "number"], ["Nobody", "12"]]))
    out = StringIO()
    with pytest.raises(CommandError, match="nothing was imported: 2 errors in 1 rows"):
        call_command("import_phone_numbers", str(bad), stdout=out)
    assert "row 2, column “company”: There is no company “Nobody”." in out.getvalue()
    assert "row 2, column “number”" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_command_as_a_process_on_good_and_bad_input(tmp_path, scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    # demo company 5 has one branch and no number; company 3's number was typed by hand
    good = tmp_path / "export.csv"
    good.write_bytes(
        csv_bytes(
            [["Firma", "Filiale", "Nummer", "Primär"],
             ["Zahnarztpraxis Dr. Sommerfeld-Kühn", "", "089 99998 101", "ja"],
             ["3", "", "+49 30 23125 104", "ja"]],
            delimiter=";", encoding="cp1252",
        )
    )  # fmt: skip
    done = support.run_manage("import_phone_numbers", str(good), database_url=url)
    assert done.returncode == 0, done.stderr
    assert "2 rows: 1 new, 1 updated, 0 unchanged, 0 with errors" in done.stdout
    again = support.run_manage("import_phone_numbers", str(good), database_url=url)
    assert again.returncode == 0 and "0 new, 0 updated, 2 unchanged" in again.stdout

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["company", "number"], ["1", "+49 89 99998 101"], ["1", "x"]]))
    failed = support.run_manage("import_phone_numbers", str(bad), database_url=url)
    assert failed.returncode == 1
    assert "row 2, column “number”" in failed.stdout and "row 3, column “number”" in failed.stdout
    assert "nothing was imported" in failed.stderr

    for content, message in ((b"", "The file is empty."), (b"a,b\n1,2\n", "Unknown column")):
        broken = tmp_path / "broken.csv"
        broken.write_bytes(content)
        result = support.run_manage("import_phone_numbers", str(broken), database_url=url)
        assert result.returncode == 2
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    missing = support.run_manage("import_phone_numbers", "/nonexistent.csv", database_url=url)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    region = support.run_manage(
        "import_phone_numbers", str(good), "--region", "XX", database_url=url
    )
    assert region.returncode == 2 and "region" in region.stderr


def test_numbers_changed_while_writing_exit_1_and_write_nothing(tmp_path, monkeypatch):
    from django.db import IntegrityError

    from integrations_app.phone_import import service

    company = r.company("Bäckerei Müller")
    r.branch(company, "Köln")
    path = tmp_path / "nummern.csv"
    path.write_bytes(csv_bytes([["company", "number"], ["Bäckerei Müller", "0221 4710 124"]]))

    def another_writer_was_first(*args, **kwargs):
        raise IntegrityError(1062, "Duplicate entry '+492214710124' for key 'number'")

    monkeypatch.setattr(service, "write_plan", another_writer_was_first)
    with pytest.raises(CommandError, match="changed while the file was being imported") as error:
        call_command("import_phone_numbers", str(path), stdout=StringIO())
    assert error.value.returncode == 1
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()
