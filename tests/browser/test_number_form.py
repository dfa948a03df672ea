"""The phone-number form in a browser (issue 12, point 4): choosing a company reloads the
branch list (console.js, from the admin's JSON endpoint) and fills it when there is only one,
on the add and the change page (the company an admin autocomplete: select2, jQuery events)."""

import pytest
from playwright.sync_api import expect

from integrations_app.models import PhoneNumber
from tests import audit_rows
from tests.admin_rows import add_url, admin_url

pytestmark = pytest.mark.browser


def test_the_branch_list_follows_the_company(browsing, transactional_db):
    sonne = audit_rows.company("Praxis Sonne")
    mond = audit_rows.company("Praxis Mond")
    audit_rows.branch(sonne, "Mitte")
    audit_rows.branch(sonne, "Nord")
    spandau = audit_rows.branch(mond, "Spandau")
    b, page = browsing, browsing.page
    b.login("support")
    b.open(add_url(PhoneNumber), "number-add")
    branch = page.locator("#id_branch option")
    assert branch.all_inner_texts() == ["---------"]  # no company yet: no branches

    b.choose("#id_company", sonne.name)
    expect(branch).to_have_text(["---------", "Mitte", "Nord"])
    assert page.input_value("#id_branch") == ""
    b.step("two-branches")

    b.choose("#id_company", mond.name)
    expect(branch).to_have_text(["---------", "Spandau"])
    expect(page.locator("#id_branch")).to_have_value(spandau.pk)  # the only one, chosen
    b.step("one-branch-chosen")

    page.fill("#id_number", "030 5559911")
    b.click("input[name=_save]", "number-saved")
    number = PhoneNumber.objects.get(number="+49305559911")
    assert number.branch_id == spandau.pk

    b.open(admin_url(number), "number-change")
    b.choose("#id_company", sonne.name)
    expect(branch).to_have_text(["---------", "Mitte", "Nord"])
    expect(page.locator("#id_branch")).to_have_value("")
    b.step("company-switched")
