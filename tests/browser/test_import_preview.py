"""The import preview in a browser (issue 12, point 5): what each row will write, and a long
description wraps instead of widening the page; at 1280 px the changes and errors are in the
window and a word breaks only when it is longer than its cell. The phone-number list's tools
are not drawn over its heading, and its table needs no scrolling."""

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
        ["Praxis Vorschau", "Mitte", "12ab", "Durchwahlnummer"],
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
    # the file's cells are folded away, but for the row with errors; the long word, unfolded,
    # breaks within its cell
    new.locator(".import-file summary").click()
    failed = page.locator("tr.import-row[data-row='4']")
    assert failed.locator(".import-file details").get_attribute("open") is not None
    # the changes and errors are in the window, not cut off at its right edge
    right = page.evaluate(
        "['.import-changes', '.row-errors'].map(c => document.querySelector("
        "'#import-rows th' + c).getBoundingClientRect().right)"
    )
    assert max(right) <= 1280, f"columns end at {right} px in a 1280 px window"
    # a word shorter than its cell is not broken: it stays on one line
    word = failed.locator(".import-file .import-text").last
    assert word.inner_text() == "Durchwahlnummer"
    assert word.evaluate("e => e.getClientRects().length") == 1, "the word is broken"
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"
    # … because the cells wrap: the table fits its box, it does not scroll in it
    box = page.evaluate(
        "(e => [e.scrollWidth, e.clientWidth])(document.querySelector('.import-table'))"
    )
    assert box[0] <= box[1], f"the table is {box[0]} px wide in a {box[1]} px box"
    assert PhoneNumber.objects.count() == 1  # the preview wrote nothing

    # the list of numbers: the tools below the heading, not over it; the table fits its box
    b.open("/admin/integrations_app/phonenumber/", "phone-number-list")
    heading = page.locator("#content h1").bounding_box()
    tools = page.locator(".object-tools li").all()
    assert len(tools) == 4  # where does this call go, import, export, add
    for tool in tools:
        box = tool.bounding_box()
        assert box["y"] >= heading["y"] + heading["height"], "a tool is drawn over the heading"
    box = page.evaluate(
        "(e => [e.scrollWidth, e.clientWidth])(document.querySelector('#changelist .results'))"
    )
    assert box[0] <= box[1], f"the list is {box[0]} px wide in a {box[1]} px box"
