"""An import's rows in the one change store: a number's own history shows the import that
wrote it, whichever way it ran (the service, the command, the admin's confirm); the reason."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from changelog.models import Change, Operation, Source
from integrations_app.models import PhoneImport, PhoneNumber
from integrations_app.phone_import import import_phone_numbers
from integrations_app.phone_import.errors import ReasonRequired
from tests import audit_rows as r
from tests.phone_import_files import csv_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
UPLOAD = "admin:integrations_app_phonenumber_phone_import"
CONFIRM = "admin:integrations_app_phonenumber_phone_import_confirm"
HISTORY = "admin:integrations_app_phonenumber_history"
NEW, OLD = "+493023125170", "+493023125171"


@pytest.fixture
def existing():
    company = r.company("Praxis Dr. Lindenberg")
    r.branch(company, "Mitte")
    return r.number(company, OLD, None, description="alt")


def the_file() -> bytes:
    return csv_bytes(
        [["company", "number", "description"],
         ["Praxis Dr. Lindenberg", "030 23125170", "neu"],
         ["Praxis Dr. Lindenberg", "030 23125171", "Empfang"]]
    )  # fmt: skip


def upload(client, data: bytes, reason: str = ""):
    file = SimpleUploadedFile("nummern.csv", data, content_type="text/csv")
    return client.post(reverse(UPLOAD), {"file": file, "region": "DE", "reason": reason}, **EN)


def confirm(client, preview, **fields):
    token = preview.context["stored"]["token"]
    return client.post(reverse(CONFIRM), {"token": token, **fields}, **EN)


def by_service(tmp_path, client):
    return import_phone_numbers(data=the_file(), file_name="nummern.csv", reason="Umzug")


def by_command(tmp_path, client):
    path = tmp_path / "nummern.csv"
    path.write_bytes(the_file())
    call_command("import_phone_numbers", str(path), "--reason", "Umzug", stdout=StringIO())


def by_admin(tmp_path, client):
    preview = upload(client, the_file(), reason="Umzug")
    assert 'name="reason"' in preview.content.decode()
    assert confirm(client, preview, reason="Umzug").status_code == 302


@pytest.mark.parametrize("way", [by_service, by_command, by_admin])
def test_each_numbers_history_shows_the_import(way, existing, admin_client, tmp_path):
    way(tmp_path, admin_client)
    record = PhoneImport.objects.get()
    operation = record.operation
    assert (operation.source, operation.name, operation.reason) == (
        Source.IMPORT, "nummern.csv", "Umzug",
    )  # fmt: skip
    assert record.reason == "Umzug" and record.outcome == "imported"
    assert Operation.objects.filter(source=Source.IMPORT).count() == 1
    new = PhoneNumber.objects.get(number=NEW)
    expected = {
        new.pk: ("create", None, "neu"),
        existing.pk: ("update", {"description": "alt"}, "Empfang"),
    }
    for pk, (action, before, description) in expected.items():
        page = admin_client.get(reverse(HISTORY, args=[pk]), **EN)
        assert page.status_code == 200
        (row,) = [row for row in page.context["rows"] if row["operation"] == operation]
        change = row["change"]
        assert (change.table, change.action) == ("phone_numbers", action)
        assert (change.before or {}).get("description") == (before or {}).get("description")
        assert change.after["description"] == description
        assert change.company_id == existing.company_id
        assert "Umzug" in page.content.decode() or "nummern.csv" in page.content.decode()
    assert Change.objects.filter(operation=operation).count() == 2


def test_without_a_reason_where_one_is_required_nothing_is_written(
    existing, admin_client, tmp_path, settings
):
    settings.CHANGE_REASON_REQUIRED = True
    before = Change.objects.count()
    # the service
    with pytest.raises(ReasonRequired, match="Give a reason for this import"):
        import_phone_numbers(data=the_file(), file_name="nummern.csv", reason="  ")
    assert import_phone_numbers(data=the_file(), file_name="n.csv", dry_run=True).plan.counts == {
        "new": 1, "update": 1, "unchanged": 0, "error": 0,
    }  # fmt: skip
    # the command
    path = tmp_path / "nummern.csv"
    path.write_bytes(the_file())
    with pytest.raises(CommandError, match="Give a reason for this import"):
        call_command("import_phone_numbers", str(path), stdout=StringIO())
    # the admin: the upload form asks for it, and so does the confirm
    refused = upload(admin_client, the_file())
    assert "Give a reason for this import" in refused.content.decode()
    preview = upload(admin_client, the_file(), reason="Umzug")
    assert preview.context["stored"]["reason"] == "Umzug"
    blank = confirm(admin_client, preview, reason=" ")
    assert blank.status_code == 302
    shown = admin_client.get(blank["Location"], **EN).content.decode()
    assert "Give a reason for this import" in shown
    assert not PhoneImport.objects.exists() and Change.objects.count() == before
    assert not PhoneNumber.objects.filter(number=NEW).exists()
    # with a reason it is written, the reason on its operation
    preview = admin_client.get(blank["Location"], **EN)
    assert confirm(admin_client, preview, reason="Umzug der Praxis").status_code == 302
    assert PhoneImport.objects.get().operation.reason == "Umzug der Praxis"
