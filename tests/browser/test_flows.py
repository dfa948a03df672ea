"""The main flows of each role in a real browser (issue point 7), in German and in English.

- Support (German): log in, add a Cal.com integration with a key, test its connection against
  the local fake Cal.com, add a number by hand, import a CSV through its preview and confirm.
- Manager (English): the readiness dashboard, a fix through its preview, the changed row's
  history, the operation, its undo.
- Read-only (German and English): the same pages open, none offers a write, and every write
  sent anyway (a form posted with the page's own CSRF token) is refused and changes nothing.

The checks of every page (console errors, CSP violations, statuses of 400 or more) and the
screenshots are the ``browsing`` fixture's (conftest.py).
"""

import pytest
from django.contrib.auth.models import User

from audit_app.fixes import service
from audit_app.models import FixRecord
from changelog.models import Change, Operation, Source
from integrations_app.models import Integration, PhoneImport, PhoneNumber
from integrations_app.services.undo import plan_undo
from tests import audit_rows
from tests import fake_providers as fp
from tests.admin_rows import add_url, admin_url, changelist_url
from tests.phone_import_files import csv_bytes

pytestmark = pytest.mark.browser

# Obviously fake keys, in the providers' formats.
CAL_KEY = "cal_test_browser_4e1d0c9b7a"
OTHER_CAL_KEY = "cal_test_browser_refused_55aa"
FIX = "normalize-numbers"  # demo data: one number written with spaces (AUD-PHN-002)
DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"
IMPORT = "/admin/integrations_app/phonenumber/import/"
IMPORT_CONFIRM = "/admin/integrations_app/phonenumber/import/confirm/"


def fix_url(fix_id: str, apply: bool = False) -> str:
    return f"/admin/audit_app/fixrecord/fix/{fix_id}/" + ("apply/" if apply else "")


def messages(page, level: str = "success") -> list[str]:
    return page.locator(f"ul.messagelist li.{level}").all_inner_texts()


@pytest.fixture
def praxis(transactional_db):
    company = fp.make_company("Praxis Browsertest")
    return company, audit_rows.branch(company, "Mitte")


@pytest.mark.parametrize("browsing", ["de-DE"], indirect=True)
def test_support_sets_up_a_company(browsing, fake, praxis):
    company, branch = praxis
    b, page = browsing, browsing.page
    b.login("support")

    # A Cal.com integration with a key (the add page's default kind).
    b.open(changelist_url(Integration), "integrations")
    b.click(".object-tools a.addlink", "integration-add")
    b.choose("#id_company", company.name)  # searched (autocomplete), never a list of all
    page.fill("#id_new_api_key", CAL_KEY)
    page.fill("#id_event_type_id", str(fp.EVENT_TYPE_ID))
    b.click("input[name=_continue]", "integration-saved")
    integration = Integration.objects.get(company=company, provider="calcom")
    assert page.url.endswith(admin_url(integration)), page.url
    assert messages(page), "no message that the integration was saved"
    assert integration.api_key and CAL_KEY not in integration.api_key  # stored encrypted
    assert CAL_KEY not in page.content()  # never shown again

    # Its connection test, against the fake Cal.com.
    b.click("form.askpro-inline-form [type=submit]", "connection-tested")
    assert page.url.endswith(admin_url(integration)), page.url
    assert messages(page), messages(page, "error") or "no result of the connection test"
    integration.refresh_from_db()
    assert integration.health_status == "healthy" and integration.success_count == 1
    (me,) = fake.calcom.requests_to("/v2/me")
    assert me.headers["authorization"] == f"Bearer {CAL_KEY}"
    assert CAL_KEY not in page.content()

    # A number by hand.
    b.open(changelist_url(PhoneNumber), "numbers")
    b.click(".object-tools a.addlink", "number-add")
    b.choose("#id_company", company.name)
    page.select_option("#id_branch", label=branch.name)  # the company's branches, reloaded
    page.fill("#id_number", "030 5550100")
    b.click("input[name=_save]", "number-saved")
    assert messages(page), "no message that the number was saved"
    assert PhoneNumber.objects.get(company=company).number_normalized == "+49305550100"

    # A CSV through the import's preview, then confirmed.
    b.click("a.import_link", "import-upload")
    rows = [
        ["company", "branch", "number", "type", "primary", "active", "description"],
        [company.name, branch.name, "030 5550101", "direct", "no", "yes", "Empfang"],
        [str(company.pk), "", "+49 30 5550102", "hotline", "", "", "Notdienst"],
    ]
    page.set_input_files(
        "#id_file",
        {"name": "nummern.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)},
    )
    page.fill("#id_reason", "Browsertest: neue Nummern")
    b.click("#content-main form [type=submit]", "import-preview")
    assert page.inner_text("#import-summary [data-status=new] strong") == "2"
    assert page.locator("tr.import-row[data-status=new]").count() == 2
    assert PhoneNumber.objects.filter(company=company).count() == 1  # the preview wrote nothing
    b.click("input[name=confirm]", "import-confirmed")
    assert page.url.endswith(changelist_url(PhoneNumber)), page.url
    assert messages(page), messages(page, "error") or "no message that the file was imported"
    assert sorted(PhoneNumber.objects.filter(company=company).values_list("number", flat=True)) == [
        "+49305550100",
        "+49305550101",
        "+49305550102",
    ]
    assert PhoneImport.objects.get().reason == "Browsertest: neue Nummern"


@pytest.mark.parametrize("browsing", ["en-US"], indirect=True)
def test_manager_applies_a_fix_and_undoes_it(browsing, demo):
    b, page = browsing, browsing.page
    planned = service.preview(FIX).writes
    assert len(planned) == 1 and planned[0].table == "phone_numbers"
    number = PhoneNumber.objects.get(pk=planned[0].pk)
    written_as = number.number
    b.login("manager")

    # The dashboard, from the header's link; the fix through its preview.
    b.click("a.askpro-readiness", "dashboard")
    b.click(f'a.askpro-fix-link[href="{fix_url(FIX)}"]', "fix-preview")
    assert page.locator("#writes").count() == 1
    page.fill("#fix-reason", "Browser test: routing form")
    b.click("#confirm-fix [type=submit]", "fix-applied")
    assert page.url.endswith(DASHBOARD), page.url
    assert messages(page), messages(page, "error") or "no message that the fix was applied"
    record = FixRecord.objects.get()
    assert (record.fix_id, record.changed_count, record.applied_by.username) == (FIX, 1, "manager")
    number.refresh_from_db()
    assert number.number == number.number_normalized == planned[0].after["number"]

    # The record, the changed number, its history, the operation that wrote it.
    b.click("ul.messagelist li.success a", "fix-record")
    b.click(f'#record-changes a[href="{admin_url(number)}"]', "number")
    b.click("a.historylink", "number-history")
    operation_url = admin_url(record.operation)
    assert page.locator(f'#change-history a[href="{operation_url}"]').count() == 1
    b.click(f'#change-history a[href="{operation_url}"]', "fix-operation")

    # Its undo, through the undo's preview.
    b.click("#undo-link", "undo-preview")
    assert page.locator("#undo-writes tbody tr").count() == 1
    page.fill("#id_reason", "Browser test: undo")
    b.click("#content-main form [type=submit]", "undone")
    undo = Operation.objects.get(source=Source.UNDO)
    assert undo.undo_of_id == record.operation_id and undo.user.username == "manager"
    assert page.url.endswith(admin_url(undo)), page.url
    number.refresh_from_db()
    assert (number.number, number.number_normalized) == (written_as, None)
    b.open(admin_url(number, "history"), "number-history-after-undo")
    rows = page.locator("#change-history > table > tbody > tr")
    assert rows.count() == 3  # the demo's seeding, the fix, its undo (newest first)
    assert rows.nth(0).locator(f'a[href="{admin_url(undo)}"]').count() == 1
    assert rows.nth(1).locator(f'a[href="{operation_url}"]').count() == 1


def database_state() -> dict:
    """What the read-only user's refused writes must leave exactly as it was."""
    return {
        "integrations": list(Integration.objects.order_by("pk").values()),
        "numbers": list(PhoneNumber._base_manager.order_by("pk").values()),
        "changes": Change.objects.count(),
        "operations": Operation.objects.count(),
        "fixes": FixRecord.objects.count(),
        "imports": PhoneImport.objects.count(),
    }


@pytest.mark.parametrize("browsing", ["de-DE", "en-US"], indirect=True)
def test_read_only_sees_the_pages_and_cannot_write(browsing, demo):
    b, page = browsing, browsing.page
    number = PhoneNumber.objects.get(pk=service.preview(FIX).writes[0].pk)
    integration = fp.make_integration(number.company, "calcom", secret=CAL_KEY)
    # A fix run by the manager: an operation a Manager could undo.
    record = service.apply_fix(
        fix_id=FIX,
        digest=service.preview(FIX).digest,
        user=User.objects.get(username="manager"),
        reason="Browser test",
    )
    other_fix = "create-main-branch"
    before = database_state()
    b.login("readonly")

    # The pages open, none with a write button.
    b.open(admin_url(integration), "integration")
    token = page.input_value("input[name=csrfmiddlewaretoken] >> nth=0")
    for write in ("input[name=_save]", "input[name=_continue]", "a.deletelink",
                  "form.askpro-inline-form", "#id_new_api_key"):  # fmt: skip
        assert page.locator(write).count() == 0, f"the integration page offers {write}"
    b.open(changelist_url(PhoneNumber), "numbers")
    for write in ("a.addlink", "a.import_link"):
        assert page.locator(write).count() == 0, f"the number list offers {write}"
    with b.refused(403, IMPORT):
        b.open(IMPORT, "import-refused")
    b.open(DASHBOARD, "dashboard")
    assert page.locator("#record-snapshot").count() == 0
    b.click(f'a.askpro-fix-link[href="{fix_url(other_fix)}"]', "fix-preview")
    assert page.locator("#writes").count() == 1  # the preview is shown …
    assert page.locator("#confirm-fix").count() == 0  # … without its confirm button
    assert page.locator(".askpro-no-permission").count() == 1
    b.open(admin_url(number, "history"), "number-history")
    operation_url = admin_url(record.operation)
    b.click(f'#change-history a[href="{operation_url}"]', "fix-operation")
    assert page.locator("#undo-link").count() == 0

    # Every write sent anyway is refused.
    with b.refused(403, add_url(PhoneNumber)):
        b.open(add_url(PhoneNumber), "number-add-refused")
    digest = service.preview(other_fix).digest
    writes = [
        (add_url(PhoneNumber), {"company": number.company_id, "branch": number.branch_id,
                                "number": "+49305550199"}),
        (admin_url(integration), {"new_api_key": OTHER_CAL_KEY, "event_type_id": "4711",
                                  "environment": "production", "is_active": "on"}),
        (admin_url(integration, "test"), {}),
        (admin_url(number, "delete"), {"post": "yes"}),
        (fix_url(other_fix, apply=True), {"digest": digest}),
        (admin_url(record.operation, "undo"), {"digest": plan_undo(op=record.operation).digest}),
        (IMPORT_CONFIRM, {"token": "forged"}),
    ]  # fmt: skip
    for n, (path, fields) in enumerate(writes, 1):
        with b.refused(403, path):
            b.submit_form(path, fields, token)
            b.step(f"write-{n}-refused")
        assert "CSRF" not in page.content(), f"{path}: refused for its CSRF token, not the role"
    assert database_state() == before


def test_the_checks_fail_a_page_on_each_kind_of_problem(browsing):
    """The watch itself: an inline style (CSP), a console error, an uncaught exception and a
    404 each fail the step that follows them, so a green run means none of them happened."""
    b, page = browsing, browsing.page
    b.login("readonly")
    page.evaluate("""() => {
      const style = document.createElement("style");
      style.textContent = "body { color: red; }";
      document.head.appendChild(style);
    }""")
    with pytest.raises(AssertionError) as failed:
        b.step("inline-style")
    assert "CSP violation" in str(failed.value) and "console error" in str(failed.value)
    page.evaluate("""() => {
      console.error("a test error");
      setTimeout(() => { throw new Error("a test exception"); });
    }""")
    page.wait_for_timeout(100)
    with pytest.raises(AssertionError) as failed:
        b.step("script-errors")
    assert "a test error" in str(failed.value) and "a test exception" in str(failed.value)
    with pytest.raises(AssertionError, match="HTTP 404"):
        b.open("/admin/integrations_app/no-such-page/", "not-found")
