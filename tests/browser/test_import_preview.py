"""The import preview in a browser (issue 12, point 5): what each row will write, and a long
description wraps instead of widening the page."""

import pytest

from integrations_app.models import PhoneNumber
from tests import audit_rows
from tests import fake_providers as fp
from tests.phone_import_files import csv_bytes

pytestmark = pytest.mark.browser

IMPORT = "/admin/integrations_app/phonenumber/import/"
LONG = "Weiterleitung_an_die_Zentrale_" * 8 + "x" * 15  # 255 characters, nowhere to break


@pytest.mark.parametrize("browsing", ["de-DE"], indirect=True)
def test_the_preview_shows_what_the_import_writes(browsing):
    company = fp.make_company("Praxis Vorschau")
    mitte = audit_rows.branch(company, "Mitte")
    audit_rows.branch(company, "Pankow")
    audit_rows.number(company, "+493023125101", mitte, description="alt")
    rows = [
        ["Firma", "Filiale", "Nummer", "Beschreibung"],
        ["Praxis Vorschau", "Mitte", "030 23125 102", LONG],
        ["Praxis Vorschau", "Pankow", "030 23125-101", "neu"],
    ]
    b, page = browsing, browsing.page
    b.login("support")
    b.open(IMPORT, "import")
    page.set_input_files(
        "#id_file", {"name": "vorschau.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}
    )
    b.click("#content-main form [type=submit]", "import-preview")
    new, update = (
        page.locator("tr.import-row[data-row='2']"),
        page.locator("tr.import-row[data-row='3']"),
    )
    assert new.locator(".import-number").inner_text() == "+493023125102"
    assert new.locator(".import-branch").inner_text() == "Mitte"
    assert new.locator(".import-changes").inner_text() == "neu"
    assert update.locator(".import-company").inner_text() == "Praxis Vorschau"
    changes = update.locator(".import-changes li").all_inner_texts()
    assert changes == ["Filiale: Mitte → Pankow", "Beschreibung: alt → neu"], changes
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"
    # … because the cells wrap: the table fits its box, it does not scroll in it
    box = page.evaluate(
        "(e => [e.scrollWidth, e.clientWidth])(document.querySelector('.import-table'))"
    )
    assert box[0] <= box[1], f"the table is {box[0]} px wide in a {box[1]} px box"
    assert PhoneNumber.objects.count() == 1  # the preview wrote nothing
