"""Production serving: `check --deploy` is clean, scripts/serve.sh serves the login page, static
files and /health/ under gunicorn, and /health/ says what a load balancer needs and nothing more."""

import json
import os
import socket
import subprocess
import time

import httpx
import pytest
from django.db.migrations.recorder import MigrationRecorder

from askpro_console import health
from tests import support
from tests.support import BASE_DIR, TEST_APP_KEY


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = support.run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict | None = None):
    """(status, headers, body) without following redirects."""
    response = httpx.get(url, headers=headers or {}, follow_redirects=False, timeout=10)
    return response.status_code, response.headers, response.content


class Served:
    """scripts/serve.sh on a free port against the given database, stopped afterwards."""

    def __init__(self, tmp_path, database_url: str, **env):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = support.child_env()
        self.env |= {
            "DATABASE_URL": database_url,
            "GATEWAY_APP_KEY": TEST_APP_KEY,
            "SECRET_KEY": "test-only-secret-key-for-the-production-server-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(tmp_path / "static"),
            "BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_TIMEOUT": "30",
            "LANGUAGE_CODE": "en",
            "VENV": str(BASE_DIR / ".venv") if (BASE_DIR / ".venv").exists() else "",
            **env,
        }
        self.log = tmp_path / "server.log"

    def __enter__(self):
        venv = self.env["VENV"] or os.path.dirname(os.path.dirname(os.sys.executable))
        self.env["VENV"] = venv
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                ["bash", "scripts/serve.sh"], cwd=BASE_DIR, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve.sh stopped:\n{self.log.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"gunicorn did not listen within 90 s:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, 15)
        self.process.wait(timeout=30)


def test_the_production_command_serves_login_static_and_health(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrated = support.run_manage("migrate", "-v", "0", database_url=url)
    assert migrated.returncode == 0, migrated.stderr
    with Served(tmp_path, url) as server:
        https = {"X-Forwarded-Proto": "https"}
        status, headers, body = _get(f"{server.base}/admin/login/", https)
        assert status == 200, body[:500]
        assert b'name="password"' in body
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        # Plain HTTP from a browser goes to HTTPS; the proxy in front terminates TLS.
        status, headers, _ = _get(f"{server.base}/admin/login/")
        assert status == 301 and headers["Location"].startswith("https://")
        # Static files: served by whitenoise from what collectstatic gathered.
        status, headers, body = _get(f"{server.base}/static/admin/css/base.css", https)
        assert status == 200 and b"body" in body
        assert headers["Content-Type"].startswith("text/css")
        # Load balancers probe over plain HTTP: no redirect, no login.
        status, _, body = _get(f"{server.base}/health/")
        assert status == 200, body
        assert json.loads(body) == {
            "status": "ok",
            "checks": {"database": "ok", "gateway_key": "ok", "migrations": "ok"},
        }
    log = server.log.read_text()
    assert "Booting worker" in log and "Traceback" not in log


def test_health_says_database_unreachable_when_it_is(tmp_path):
    port = _free_port()  # nothing listens there
    with Served(tmp_path, f"mysql://root@127.0.0.1:{port}/gateway") as server:
        status, headers, body = _get(f"{server.base}/health/")
    assert status == 503
    assert json.loads(body)["checks"] == {
        "database": "unreachable", "gateway_key": "ok", "migrations": "unknown",
    }  # fmt: skip
    assert headers["Cache-Control"].startswith("max-age=0")


def test_serve_refuses_to_start_without_a_database_url(tmp_path):
    if (BASE_DIR / ".env").exists():
        pytest.skip("a developer's .env beside manage.py may name DATABASE_URL")
    env = {k: v for k, v in support.child_env().items() if k != "DATABASE_URL"}
    result = subprocess.run(
        ["bash", "scripts/serve.sh"], cwd=BASE_DIR,
        env=env | {"VENV": os.path.dirname(os.path.dirname(os.sys.executable))},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "DATABASE_URL is not set" in result.stderr


@pytest.mark.django_db
def test_health_needs_no_login_and_shows_no_secret(client, gateway_key):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert TEST_APP_KEY not in response.content.decode()
    assert client.post("/health/").status_code == 405


@pytest.mark.django_db
def test_health_fails_without_a_usable_gateway_key(client, settings):
    settings.GATEWAY_APP_KEY = "base64:dG9vIHNob3J0"
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["gateway_key"] == "unusable"
    assert "dG9vIHNob3J0" not in response.content.decode()


@pytest.mark.django_db
def test_health_fails_while_a_migration_is_pending(client, gateway_key, monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)
    MigrationRecorder.Migration.objects.filter(app="changelog").delete()
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"
