"""The phone-number import and export pages of the admin (issue 6, points 1, 4, 5, 6)."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from integrations_app.models import PhoneImport, PhoneNumber
from tests import audit_rows as r
from tests.phone_import_files import csv_bytes, xlsx_bytes
from tests.test_phone_import import GONE, HEADER_DE, gateway_finds

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
UPLOAD = "admin:integrations_app_phonenumber_phone_import"
PREVIEW = "admin:integrations_app_phonenumber_phone_import_preview"
ERRORS = "admin:integrations_app_phonenumber_phone_import_errors"
CONFIRM = "admin:integrations_app_phonenumber_phone_import_confirm"
EXPORT = "admin:integrations_app_phonenumber_export"
CHANGELIST = "admin:integrations_app_phonenumber_changelist"


@pytest.fixture
def world():
    baeckerei = r.company("Bäckerei Müller & Söhne")
    koeln = r.branch(baeckerei, "Köln Süd")
    praxis = r.company("Praxis Dr. Lindenberg")
    mitte = r.branch(praxis, "Mitte")
    pankow = r.branch(praxis, "Pankow")
    r.branch(praxis, "Alt", deleted_at=GONE)
    return {"baeckerei": baeckerei, "koeln": koeln, "praxis": praxis, "mitte": mitte,
            "pankow": pankow}  # fmt: skip


def excel_file(world, *, fixed: bool) -> bytes:
    """German Excel: semicolons, Windows-1252, numbers typed every way; unfixed has 3 errors."""
    rows = [
        HEADER_DE,
        ["Bäckerei Müller & Söhne", "", "0221 4710 123", "Durchwahl", "ja", "1", "=HYPERLINK(1)"],
        [str(world["praxis"].pk), "Mitte", "+49 (30) 23125-101", "Hotline", "nein", "ja", ""],
        ["Praxis Dr. Lindenberg", "Pankow" if fixed else "", "0049 30 23125102", "", "", "", ""],
        ["Praxis Dr. Lindenberg", "pankow", "030/23125103" if fixed else "12", "", "", "", ""],
        ["Bäckerei Müller & Söhne" if fixed else "Bäckerei Meier", "", "030 23125104", "", "",
         "", "Laden" if fixed else "@SUM(A1)"],
    ]  # fmt: skip
    return csv_bytes(rows, delimiter=";", encoding="cp1252")


def upload(client, data: bytes, name="nummern.csv", region="DE"):
    return client.post(
        reverse(UPLOAD),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "region": region},
        **EN,
    )


def body(response) -> bytes:
    """An export's bytes: it is streamed (integrations_app/admin/export.py)."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def statuses(response) -> dict[int, str]:
    return {row["row"]: row["status"] for row in response.context["rows"]}


def confirm(client, response):
    return client.post(reverse(CONFIRM), {"token": response.context["stored"]["token"]}, **EN)


def test_the_changelist_links_import_and_export(admin_client):
    page = admin_client.get(reverse(CHANGELIST), **EN).content.decode()
    assert reverse(UPLOAD) in page and reverse(EXPORT) in page
    assert admin_client.get(reverse(UPLOAD), **EN).status_code == 200


def test_preview_shows_every_row_and_every_error_and_writes_nothing(admin_client, world):
    response = upload(admin_client, excel_file(world, fixed=False))
    assert response.status_code == 200
    assert statuses(response) == {2: "new", 3: "new", 4: "error", 5: "error", 6: "error"}
    errors = response.context["errors"]
    assert sorted((e.row, e.column) for e in errors) == [
        (4, "Filiale"), (5, "Nummer"), (6, "Firma")
    ]  # fmt: skip
    page = response.content.decode()
    assert "Bäckerei Meier" in page and reverse(ERRORS) in page
    assert 'name="confirm"' not in page  # no confirm for a file with errors
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()

    # a confirm of a plan with errors is refused and writes nothing
    refused = confirm(admin_client, response)
    assert refused.status_code == 302
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()


def test_the_errors_download_as_a_neutralised_csv_beside_the_rows(admin_client, world):
    upload(admin_client, excel_file(world, fixed=False))
    response = admin_client.get(reverse(ERRORS), **EN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0] == [*HEADER_DE, "row", "column", "error"]
    # every row of the file, in the file's order (nothing was written: the corrected file is
    # the whole import; row n of it is row n of the original)
    assert [line[7:9] for line in lines[1:]] == [
        ["2", ""], ["3", ""], ["4", "Filiale"], ["5", "Nummer"], ["6", "Firma"]
    ]  # fmt: skip
    assert lines[4][2] == "12" and lines[4][0] == "Praxis Dr. Lindenberg"
    assert lines[5][6] == "'@SUM(A1)" and all(line[9] for line in lines[3:6])
    assert lines[1][6] == "'=HYPERLINK(1)" and not lines[1][9] and not lines[2][9]
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_the_fixed_file_is_previewed_confirmed_written_and_routes(admin_client, world):
    response = upload(admin_client, excel_file(world, fixed=True))
    assert set(statuses(response).values()) == {"new"}, response.context["errors"]
    assert 'name="confirm"' in response.content.decode()
    done = confirm(admin_client, response)
    assert done.status_code == 302 and done["Location"] == reverse(CHANGELIST)
    record = PhoneImport.objects.get()
    assert (record.outcome, record.new_count, record.file_name) == ("imported", 5, "nummern.csv")
    assert record.imported_by.username == "admin"
    for to_number, company, branch in (
        ("+492214710123", "baeckerei", "koeln"),
        ("030 23125101", "praxis", "mitte"),
        ("004930 23125102", "praxis", "pankow"),
        ("+49 30 23125103", "praxis", "pankow"),
        ("03023125104", "baeckerei", "koeln"),
    ):
        row = gateway_finds(to_number)
        assert (row.company_id, row.branch_id) == (world[company].pk, world[branch].pk)
    # the stored preview is gone: a second confirm writes nothing
    again = confirm(admin_client, response)
    assert again.status_code == 302 and PhoneImport.objects.count() == 1

    # the same file again: every row unchanged, and confirming writes nothing new
    same = upload(admin_client, excel_file(world, fixed=True))
    assert set(statuses(same).values()) == {"unchanged"}
    assert PhoneNumber.objects.count() == 5


def test_a_database_change_between_preview_and_confirm_shows_the_new_preview(admin_client, world):
    response = upload(admin_client, excel_file(world, fixed=True))
    assert statuses(response)[6] == "new"
    r.number(world["baeckerei"], "+493023125104", world["koeln"])  # someone adds it meanwhile
    changed = confirm(admin_client, response)
    assert changed.status_code == 200
    assert statuses(changed)[6] == "unchanged" or statuses(changed)[6] == "update"
    assert "changed since the preview" in changed.content.decode()
    assert PhoneNumber.objects.count() == 1 and not PhoneImport.objects.exists()
    # the new preview can be confirmed
    assert confirm(admin_client, changed).status_code == 302
    assert PhoneNumber.objects.count() == 5 and PhoneImport.objects.count() == 1


def test_a_re_upload_is_never_trusted_for_the_confirm(admin_client, world):
    first = upload(admin_client, excel_file(world, fixed=True))
    upload(admin_client, excel_file(world, fixed=False))  # another tab, another file
    stale = confirm(admin_client, first)
    assert stale.status_code == 302
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"   \r\n", "The file is empty."),
        (b"\x00\x01\x02binary\x00", "This is not a CSV or Excel (.xlsx) file."),
        (b"name;phone\r\nx;030 1234567\r\n", "Unknown column(s)"),
        (b"branch\r\nMitte\r\n", "The file has no column"),
    ],
)
def test_a_bad_file_gives_one_clear_message(admin_client, world, data, message):
    response = upload(admin_client, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="errornote"') == 1 and message in page
    assert "rows" not in response.context


def test_a_file_over_the_size_limit_gives_one_clear_message(admin_client, world, settings):
    settings.PHONE_IMPORT_MAX_BYTES = 100
    response = upload(admin_client, excel_file(world, fixed=True))
    assert "larger than 100 B" in response.content.decode()


def test_import_needs_the_add_permission(client, django_user_model, world):
    viewer = django_user_model.objects.create_user(
        "viewer", password="x-test-pass-1", is_staff=True
    )
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_phonenumber"),
        Permission.objects.get(codename="change_phonenumber"),
    )
    client.force_login(viewer)
    assert client.get(reverse(UPLOAD)).status_code == 403
    assert upload(client, excel_file(world, fixed=True)).status_code == 403
    assert client.post(reverse(CONFIRM), {"token": "x"}).status_code == 403
    assert client.get(reverse(ERRORS)).status_code == 403
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse(UPLOAD) not in page
    assert not PhoneNumber.objects.exists()


@pytest.fixture
def dangerous(world):
    r.number(world["baeckerei"], "+492214710123", world["koeln"],
             description='=HYPERLINK("http://evil.example","x")', is_primary=True)  # fmt: skip
    r.number(world["praxis"], "+493023125101", world["mitte"], description="@SUM(A1:A2)")
    r.number(world["praxis"], "+493023125102", world["pankow"], description="\tTab")


def test_export_csv_has_the_import_columns_neutralised(admin_client, dangerous):
    response = admin_client.post(reverse(EXPORT), {"format": "0", "resource": "0"}, **EN)
    assert response.status_code == 200
    text = body(response).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["company", "branch", "number", "type", "primary", "active", "description"]
    by_description = {line[6]: line for line in lines[1:]}
    assert set(by_description) == {"'=HYPERLINK(\"http://evil.example\",\"x\")", "'@SUM(A1:A2)",
                                   "'\tTab"}  # fmt: skip
    hyperlink = by_description['\'=HYPERLINK("http://evil.example","x")']
    # E.164 numbers start with "+": they are neutralised too, and read back by the import
    # type, primary and active as English words the import reads back (columns.py)
    assert hyperlink[:6] == ["Bäckerei Müller & Söhne", "Köln Süd", "'+492214710123", "direct",
                             "yes", "yes"]  # fmt: skip


def test_export_xlsx_is_neutralised(admin_client, dangerous):
    response = admin_client.post(reverse(EXPORT), {"format": "1", "resource": "0"}, **EN)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][6] == "description"
    descriptions = {row[6] for row in rows[1:]}
    assert descriptions == {'\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1:A2)", "'\tTab"}
    assert all(not str(c).startswith(("=", "+", "-", "@", "\t")) for row in rows for c in row if c)


@pytest.mark.parametrize("export_format, name", [("0", "export.csv"), ("1", "export.xlsx")])
def test_an_export_is_imported_again_unchanged(admin_client, world, export_format, name):
    for i, description in enumerate(["-minus", "=1+1", "+49 extern", "@home", "ok"]):
        r.number(world["praxis"], f"+4930231252{i:02d}", world["mitte"], description=description)
    r.number(world["baeckerei"], "+492214710123", world["koeln"], is_primary=True)
    exported = admin_client.post(reverse(EXPORT), {"format": export_format, "resource": "0"}, **EN)
    response = upload(admin_client, body(exported), name=name)
    assert response.status_code == 200, response.context.get("form")
    # the neutralising quote of the export is read back off: nothing changed
    assert set(statuses(response).values()) == {"unchanged"}, response.context["errors"]


def test_upload_of_xlsx(admin_client, world):
    data = xlsx_bytes([["company", "branch", "number"], ["Praxis Dr. Lindenberg", "Mitte",
                                                           "030 23125101"]])  # fmt: skip
    response = upload(admin_client, data, name="n.xlsx")
    assert statuses(response) == {2: "new"}


def test_the_import_record_shows_its_rows_and_each_number_its_import(admin_client, world):
    from changelog.models import Source

    response = upload(admin_client, excel_file(world, fixed=True))
    confirm(admin_client, response)
    record = PhoneImport.objects.get()
    written = list(record.written_changes())
    assert len(written) == 5 and {w.action for w in written} == {"create"}
    # the formula-looking description is stored as written; the store keeps it as data
    assert written[0].after["description"] == "=HYPERLINK(1)"
    # one operation of the store: the import, by the user who confirmed it
    operation = record.operation
    assert (operation.source, operation.name) == (Source.IMPORT, "nummern.csv")
    assert operation.user.username == "admin"

    page = admin_client.get(reverse("admin:integrations_app_phoneimport_changelist"), **EN)
    assert page.status_code == 200 and "nummern.csv" in page.content.decode()
    detail = admin_client.get(
        reverse("admin:integrations_app_phoneimport_change", args=[record.pk]), **EN
    )
    text = detail.content.decode()
    assert detail.status_code == 200 and record.checksum in text
    assert [row["change"] for row in detail.context["written_rows"]] == written
    assert "+492214710123" in text and "=HYPERLINK(1)" in text
    assert reverse("admin:changelog_operation_change", args=[operation.pk]) in text
    # each number's history (the generic page, read from the store) shows the import's change
    number = PhoneNumber.objects.get(number="+493023125101")
    history = admin_client.get(
        reverse("admin:integrations_app_phonenumber_history", args=[number.pk]), **EN
    )
    (row,) = history.context["rows"]
    assert row["operation"] == operation and row["change"].action == "create"
    # read only: the import itself writes its record
    assert admin_client.get(reverse("admin:integrations_app_phoneimport_add")).status_code == 403
    delete = reverse("admin:integrations_app_phoneimport_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert PhoneImport.objects.count() == 1


def test_the_import_record_pages_through_many_written_rows(admin_client, world):
    rows = [["company", "branch", "number"]] + [
        ["Praxis Dr. Lindenberg", "Mitte", f"+4930{2600000 + i}"] for i in range(250)
    ]
    confirm(admin_client, upload(admin_client, csv_bytes(rows)))
    record = PhoneImport.objects.get()
    url = reverse("admin:integrations_app_phoneimport_change", args=[record.pk])
    pages = {}
    for page in ("1", "3", "99", "x"):
        response = admin_client.get(url, {"rows": page}, **EN)
        assert response.status_code == 200
        pages[page] = [row["change"].object_repr for row in response.context["written_rows"]]
    numbers = [f"+4930{2600000 + i}" for i in range(250)]
    assert pages["1"] == numbers[:100] and pages["3"] == numbers[200:]
    assert pages["99"] == pages["3"] and pages["x"] == pages["1"]


def test_a_large_preview_is_paged_and_filtered_by_status(admin_client, world):
    rows = [["company", "branch", "number"]] + [
        ["Praxis Dr. Lindenberg", "Mitte", f"+4930{2500000 + i}"] for i in range(230)
    ]
    rows[150][2] = "12"  # spreadsheet row 151: an invalid number
    response = upload(admin_client, csv_bytes(rows))
    assert response.context["page"].paginator.num_pages == 3
    assert list(statuses(response)) == list(range(2, 102))
    assert response.context["error_count"] == 1
    text = response.content.decode()
    assert "page 1 of 3" in text and 'rel="next"' in text
    preview = reverse(PREVIEW)
    third = admin_client.get(preview, {"page": 3}, **EN)
    assert list(statuses(third)) == list(range(202, 232))
    # the cells shown are the file's own, read again for the page
    assert third.context["rows"][0]["cells"] == ["Praxis Dr. Lindenberg", "Mitte", "+49302500200"]
    only_errors = admin_client.get(preview, {"status": "error"}, **EN)
    assert statuses(only_errors) == {151: "error"}
    # a page number a user may type: the nearest page, never an error page
    for page in ("999", "abc", "-1"):
        assert admin_client.get(preview, {"page": page}, **EN).status_code == 200
    assert admin_client.get(preview, {"status": "nonsense"}, **EN).context["page"].number == 1


def test_the_import_records_list_runs_a_fixed_number_of_queries(admin_client, django_user_model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(count, start):
        for i in range(start, start + count):
            user = django_user_model.objects.create_user(f"support{i}")
            PhoneImport.objects.create(
                imported_by=user, file_name=f"nummern-{i}.csv", checksum=f"{i:064x}",
                outcome="imported", row_count=3, new_count=2, updated_count=1,
            )  # fmt: skip

    def queries():
        url = reverse("admin:integrations_app_phoneimport_changelist")
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url, **EN)
        assert response.status_code == 200
        return len(captured), len(response.context["cl"].result_list)

    add(2, 0)
    queries()  # warm the caches (session, content types)
    small = queries()
    add(40, 2)
    large = queries()
    assert (small[1], large[1]) == (2, 42)
    assert small[0] == large[0]


def test_written_rows_are_shown_with_labels_and_yes_no(admin_client, world):
    existing = r.number(world["praxis"], "+493023125130", world["mitte"])
    data = csv_bytes([
        ["company", "branch", "number", "primary", "description"],
        ["Praxis Dr. Lindenberg", "Pankow", "030 23125130", "", "Empfang"],
        ["Bäckerei Müller & Söhne", "", "030 23125131", "ja", ""],
    ])  # fmt: skip
    confirm(admin_client, upload(admin_client, data))
    record = PhoneImport.objects.get()
    url = reverse("admin:integrations_app_phoneimport_change", args=[record.pk])
    with translation.override("de"):
        rows = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").context["written_rows"]
    create, update = rows  # new rows first, then updates
    assert (update["change"].action, update["change"].object_pk) == ("update", existing.pk)
    assert [(c.label.lower(), c.before, c.after) for c in update["columns"]] == [
        ("filiale", "Mitte", "Pankow"), ("beschreibung", "—", "Empfang"),  # names, not keys
    ]  # fmt: skip
    shown = {c.label.lower(): c.after for c in create["columns"]}
    assert shown["hauptnummer"] == "Ja" and shown["aktiv"] == "Ja" and shown["beschreibung"] == "—"
    assert shown["nummer"] == "+493023125131"
    assert shown["typ"] == "Durchwahl"  # the type's label, not its database value


def test_names_the_import_cannot_tell_apart_are_exported_as_ids(admin_client, world):
    twin = r.company("Praxis Dr. Lindenberg")  # a second company of the same name
    twin_branch = r.branch(twin, "Mitte")
    r.branch(twin, "Mitte")  # and two branches of the same name in it
    r.number(twin, "+493023125190", twin_branch)
    r.number(world["baeckerei"], "+493023125191", world["koeln"])
    exported = admin_client.post(reverse(EXPORT), {"format": "0", "resource": "0"}, **EN)
    data = body(exported)  # a stream: read once
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    by_number = {line[2].lstrip("'"): line for line in lines[1:]}
    assert by_number["+493023125190"][:2] == [str(twin.pk), twin_branch.pk]
    assert by_number["+493023125191"][:2] == ["Bäckerei Müller & Söhne", "Köln Süd"]
    again = upload(admin_client, data, name="export.csv")
    assert set(statuses(again).values()) == {"unchanged"}, again.context["errors"]


def test_a_changed_database_shows_the_new_preview_with_a_warning(admin_client, world):
    data = csv_bytes([["company", "branch", "number"],
                      ["Praxis Dr. Lindenberg", "Mitte", "030 23125195"]])  # fmt: skip
    first = upload(admin_client, data)
    assert statuses(first) == {2: "new"}
    r.number(world["praxis"], "+493023125195", world["pankow"])  # meanwhile, elsewhere
    again = admin_client.get(reverse(PREVIEW), **EN)
    assert statuses(again) == {2: "update"}
    warnings = [str(m) for m in again.context["messages"]]
    assert any("changed since the preview" in m for m in warnings), warnings
    # the confirm button now belongs to the new preview, not the old one
    assert again.context["stored"]["token"] != first.context["stored"]["token"]


def test_a_conflict_at_confirm_shows_the_preview_again(admin_client, world, monkeypatch):
    from django.db import IntegrityError

    from integrations_app.phone_import import service

    data = csv_bytes([["company", "branch", "number"],
                      ["Praxis Dr. Lindenberg", "Mitte", "030 23125196"]])  # fmt: skip
    response = upload(admin_client, data)

    def another_writer_was_first(*args, **kwargs):
        raise IntegrityError(1062, "Duplicate entry")

    monkeypatch.setattr(service, "write_plan", another_writer_was_first)
    done = confirm(admin_client, response)
    assert done.status_code == 302 and done["Location"] == reverse(PREVIEW)
    page = admin_client.get(done["Location"], **EN)
    assert any("changed while the file" in str(m) for m in page.context["messages"])
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()


def test_the_uploaded_file_waits_on_the_server_not_in_the_session(admin_client, world):
    from datetime import timedelta

    from django.utils import timezone

    from integrations_app.models import PhoneImportUpload

    rows = [["company", "branch", "number", "description"]] + [
        ["Praxis Dr. Lindenberg", "Mitte", f"+4930{2800000 + i}", "x" * 200] for i in range(500)
    ]
    data = csv_bytes(rows)
    response = upload(admin_client, data)
    session = admin_client.session["askpro_phone_import"]
    assert "data" not in session and len(str(session)) < 1000
    kept = PhoneImportUpload.objects.get()
    assert kept.key == session["upload"] and kept.user.username == "admin"
    # a second upload replaces the first; anyone's upload older than a day goes too
    other = PhoneImportUpload.objects.create(key="old", user=kept.user, data=b"")
    PhoneImportUpload.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=2)
    )
    response = upload(admin_client, data)
    assert list(PhoneImportUpload.objects.values_list("key", flat=True)) == [
        admin_client.session["askpro_phone_import"]["upload"]
    ]
    assert other.key == "old"
    # the confirm imports the kept file and forgets it
    done = confirm(admin_client, response)
    assert done.status_code == 302 and PhoneNumber.objects.count() == 500
    assert not PhoneImportUpload.objects.exists()
    assert "askpro_phone_import" not in admin_client.session


def test_another_users_upload_is_not_theirs_to_confirm(
    admin_client, client, world, django_user_model
):
    from integrations_app.phone_import import uploads

    data = csv_bytes([["company", "branch", "number"],
                      ["Praxis Dr. Lindenberg", "Mitte", "030 23125197"]])  # fmt: skip
    upload(admin_client, data)
    key = admin_client.session["askpro_phone_import"]["upload"]
    someone = django_user_model.objects.create_superuser("zweiter", "z@example.org", "pw-test-1")
    assert uploads.load(key, someone) is None
    assert uploads.load(key, django_user_model.objects.get(username="admin")) == data
