"""On the demo as `scripts/run.sh` sets it up (setup_demo's demo key on a fresh var/, no
GATEWAY_APP_KEY), support switches the kind of a new integration without losing the company,
then saves a Cal.com integration with a key (issue 12, point 1). The whole of setup_demo before
the same save: tests/test_demo_gateway_key.py."""

import io

import pytest

from askpro_console.config import DEMO_GATEWAY_KEY_FILE
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.keys import parse_app_key
from integrations_app.management.commands.setup_demo import Command as SetupDemo
from integrations_app.models import Company, Integration
from tests.admin_rows import add_url, admin_url

pytestmark = pytest.mark.browser
CAL_KEY = "cal_test_browser_demo_3f2a91"


@pytest.mark.parametrize("browsing", ["de-DE"], indirect=True)
def test_support_saves_a_key_on_the_fresh_demo(browsing, tmp_path, settings, monkeypatch):
    settings.BASE_DIR, settings.EMBEDDED_DEFAULT = tmp_path, True
    settings.GATEWAY_APP_KEY, settings.GATEWAY_PREVIOUS_KEYS = "", []
    monkeypatch.delenv("GATEWAY_APP_KEY", raising=False)
    SetupDemo(stdout=io.StringIO()).ensure_demo_gateway_key()  # its step on a fresh var/
    assert settings.GATEWAY_APP_KEY  # in use at once; a new start reads the file (see above)
    company = Company.objects.create(name="Praxis Demo")
    b, page = browsing, browsing.page
    b.login("support")

    b.open(add_url(Integration) + "?provider=calcom", "calcom-add")
    assert page.locator("#id_remove_api_key").count() == 0  # nothing stored to remove
    b.choose("#id_company", company.name)
    b.click("a.askpro-keeps-company[href*='provider=retell']", "retell-add")
    assert page.input_value("#id_company") == str(company.pk)
    b.click("a.askpro-keeps-company[href*='provider=calcom']", "calcom-add-again")
    assert page.input_value("#id_company") == str(company.pk)

    page.fill("#id_new_api_key", CAL_KEY)
    page.fill("#id_event_type_id", "4711")
    page.fill("#id_team_slug", "demo-team")
    b.click("input[name=_continue]", "saved")
    integration = Integration.objects.get(company=company, provider="calcom")
    assert admin_url(integration) in page.url, page.url
    assert page.inner_text("#content h2") == f"Cal.com · {company.name}"
    key = (tmp_path / DEMO_GATEWAY_KEY_FILE).read_text().strip()
    assert Encrypter(parse_app_key(key), []).decrypt_string(integration.api_key) == CAL_KEY
    assert CAL_KEY not in page.content()
