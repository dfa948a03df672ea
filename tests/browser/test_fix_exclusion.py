"""A manager leaves one company out of a fix in its preview and confirms: the others get their
row, the one left out none (issue 12, point 7)."""

import pytest

from audit_app.models import FixRecord
from integrations_app.models import Branch, Company

pytestmark = pytest.mark.browser

PREVIEW = "/admin/audit_app/fixrecord/fix/create-main-branch/"
DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"


@pytest.mark.parametrize("browsing", ["en-GB"], indirect=True)
def test_manager_unticks_a_company_and_confirms(browsing, transactional_db):
    kept, left_out = (
        Company.objects.create(name=f"Praxis {n}", slug=f"praxis-{n.lower()}")
        for n in ("Behalten", "Ausgelassen")
    )
    b, page = browsing, browsing.page
    b.login("manager")
    b.open(PREVIEW, "fix-preview")
    boxes = page.locator('#fix-companies input[name="company"]')
    assert boxes.count() == 2 and all(boxes.nth(i).is_checked() for i in range(2))
    page.uncheck(f'#fix-companies input[value="{left_out.pk}"]')
    b.click("#confirm-fix [type=submit]", "fix-applied")
    assert page.url.endswith(DASHBOARD), page.url
    assert page.locator("ul.messagelist li.success").count() == 1
    assert set(Branch.objects.values_list("company_id", flat=True)) == {kept.pk}
    assert FixRecord.objects.get().created_count == 1
