"""The embedded demo's own gateway key: `setup_demo` writes it into var/, so that on the demo
every flow works, keys included; a real database (DATABASE_URL) never reads it."""

import base64
import stat
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from askpro_console.config import DEMO_GATEWAY_KEY_FILE, Settings
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.keys import parse_app_key
from integrations_app.models import Company, Integration

CAL_KEY = "cal_live_demo_0123456789abcdef"


@pytest.fixture
def fresh_var(tmp_path, settings, monkeypatch):
    """A project whose var/ is empty, started as the embedded demo without GATEWAY_APP_KEY.
    setup_demo prepares the embedded SQLite demo only (it refuses a MariaDB by design), so
    these run in the SQLite tier; the MariaDB tiers test its refusal (test_setup_demo.py)."""
    if connection.vendor != "sqlite":
        pytest.skip("setup_demo prepares the SQLite demo only: runs in the SQLite tier")
    settings.BASE_DIR = tmp_path
    settings.EMBEDDED_DEFAULT = True
    settings.GATEWAY_APP_KEY = ""
    settings.GATEWAY_PREVIOUS_KEYS = []
    monkeypatch.delenv("GATEWAY_APP_KEY", raising=False)
    return tmp_path


def started_settings(base_dir, monkeypatch, **environment) -> Settings:
    """The settings reader of a process started outside pytest with this environment."""
    monkeypatch.delenv("PYTEST_VERSION", raising=False)
    for name in ("DATABASE_URL", "GATEWAY_APP_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings(base_dir)


@pytest.mark.django_db
def test_setup_demo_on_a_fresh_var_lets_support_save_a_calcom_key(fresh_var, monkeypatch, client):
    output = StringIO()
    call_command("setup_demo", stdout=output)
    path = fresh_var / DEMO_GATEWAY_KEY_FILE
    key = path.read_text().strip()
    assert f"Demo gateway key written to {DEMO_GATEWAY_KEY_FILE}" in output.getvalue() or (
        f"Demo-Gateway-Schlüssel in {DEMO_GATEWAY_KEY_FILE} geschrieben" in output.getvalue()
    )
    # A Laravel key: "base64:" and 44 characters of 32 random bytes; only the owner reads it.
    assert key.startswith("base64:") and len(key) == 7 + 44
    assert len(base64.b64decode(key[7:], validate=True)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # Made once: a second run (and the server's start) reuses it.
    call_command("setup_demo", stdout=StringIO())
    assert path.read_text().strip() == key
    assert started_settings(fresh_var, monkeypatch).gateway_app_key() == key

    support = get_user_model().objects.get(username="support")
    client.force_login(support)
    company = Company.objects.order_by("pk").first()
    url = reverse("admin:integrations_app_integration_add") + "?provider=calcom"
    response = client.post(
        url,
        {"company": company.pk, "new_api_key": CAL_KEY, "event_type_id": "4711",
         "environment": "production", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = Integration.objects.get(company=company, provider="calcom")
    encrypter = Encrypter(parse_app_key(key), [])
    assert encrypter.decrypt_string(saved.api_key) == CAL_KEY
    company.refresh_from_db()
    assert encrypter.decrypt(company.calcom_api_key) == CAL_KEY


def test_a_real_database_never_reads_the_demo_key(tmp_path, monkeypatch):
    (tmp_path / "var").mkdir()
    (tmp_path / DEMO_GATEWAY_KEY_FILE).write_text("base64:" + base64.b64encode(bytes(32)).decode())
    real = started_settings(tmp_path, monkeypatch, DATABASE_URL="mysql://u@db/gateway")
    assert real.gateway_app_key() == ""
    embedded = started_settings(tmp_path, monkeypatch)
    assert embedded.gateway_app_key().startswith("base64:")  # the same file, read on the demo
    configured = started_settings(tmp_path, monkeypatch, GATEWAY_APP_KEY="base64:configured")
    assert configured.gateway_app_key() == "base64:configured"  # the environment wins


@pytest.mark.django_db
def test_setup_demo_writes_no_key_for_a_configured_database_or_key(fresh_var, settings):
    settings.EMBEDDED_DEFAULT = False  # DATABASE_URL names the SQLite file
    settings.DEBUG = True  # as the demo runs: a missing key only warns (askpro.W001)
    call_command("setup_demo", stdout=StringIO())
    assert not (fresh_var / DEMO_GATEWAY_KEY_FILE).exists()
    assert settings.GATEWAY_APP_KEY == ""
