"""What `scripts/run.sh` prepares, run twice as a newcomer would."""

import os
import sqlite3
import subprocess

import pytest
from django.contrib.auth.hashers import check_password

from integrations_app.models import GATEWAY_MODELS
from tests import support


def test_setup_demo_prepares_everything_once_and_then_reuses_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    first = support.run_manage("setup_demo", database_url=url)
    assert first.returncode == 0, first.stderr
    assert f"Created {len(GATEWAY_MODELS)} gateway tables" in first.stdout
    assert "one-time password" in first.stdout
    assert "Demo gateway key" not in first.stdout  # DATABASE_URL is set: never a demo key
    password = first.stdout.split("one-time password ", 1)[1].split()[0]
    assert len(password) >= 12

    with sqlite3.connect(tmp_path / "console.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM companies").fetchone()[0] == 13
        assert db.execute("SELECT COUNT(*) FROM auth_user WHERE is_superuser").fetchone()[0] == 1
        stored = db.execute("SELECT password FROM auth_user").fetchone()[0]
    assert password not in stored  # only the hash is kept

    # One demo account per role, each password printed once.
    demo = {
        line.split("user ", 1)[1].split(",")[0]: line.split("one-time password ", 1)[1].split()[0]
        for line in first.stdout.splitlines()
        if line.startswith("Demo account created")
    }
    assert set(demo) == {"support", "manager", "readonly"}
    assert len(set(demo.values())) == 3 and all(len(p) >= 12 for p in demo.values())
    with sqlite3.connect(tmp_path / "console.sqlite3") as db:
        accounts = dict(
            db.execute(
                "SELECT u.username, g.name FROM auth_user u "
                "JOIN auth_user_groups ug ON ug.user_id = u.id "
                "JOIN auth_group g ON g.id = ug.group_id "
                "WHERE u.is_staff AND NOT u.is_superuser"
            ).fetchall()
        )
        hashes = dict(db.execute("SELECT username, password FROM auth_user").fetchall())
        groups = dict(
            db.execute(
                "SELECT g.name, COUNT(*) FROM auth_group g "
                "JOIN auth_group_permissions gp ON gp.group_id = g.id GROUP BY g.name"
            ).fetchall()
        )
    assert accounts == {"support": "Support", "manager": "Manager", "readonly": "Read-only"}
    for name, secret in demo.items():
        assert secret not in hashes[name]
        assert check_password(secret, hashes[name])
    assert set(groups) == {"Support", "Manager", "Read-only"}
    assert groups["Manager"] > groups["Support"] > groups["Read-only"] > 0

    second = support.run_manage("setup_demo", database_url=url)
    assert second.returncode == 0, second.stderr
    assert "Demo data is already there" in second.stdout
    assert "exists already" in second.stdout
    assert "one-time password" not in second.stdout
    for name in ("support", "manager", "readonly"):
        assert f"Demo account {name} " in second.stdout
        assert "exists already" in second.stdout.split(f"Demo account {name} ", 1)[1]
    assert "Group Manager up to date" in second.stdout
    with sqlite3.connect(tmp_path / "console.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM companies").fetchone()[0] == 13

    # Walkthrough: run.sh said where the console runs in English among German lines.
    third = support.run_manage(
        "setup_demo", "--address", "127.0.0.1:8123", database_url=url, language="de"
    )
    assert third.returncode == 0, third.stderr
    last = third.stdout.strip().splitlines()[-1]
    assert last == "Die Konsole läuft auf http://127.0.0.1:8123/admin/ (Strg-C beendet sie)."
    assert "Die Demodaten sind bereits vorhanden." in third.stdout


@pytest.mark.django_db
def test_setup_demo_refuses_a_mysql_database(mysql_only, scratch_database_url):
    result = support.run_manage("setup_demo", database_url=scratch_database_url)
    assert result.returncode == 1
    assert "embedded SQLite demo only" in result.stderr


def test_run_script_never_touches_a_configured_database():
    env = dict(os.environ, DATABASE_URL="mysql://root@127.0.0.1:1/production")
    result = subprocess.run(
        ["bash", str(support.BASE_DIR / "scripts" / "run.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "never touches DATABASE_URL" in result.stderr


def test_the_readme_says_how_to_start_the_demo_on_another_address():
    """Walkthrough: the README named 127.0.0.1:8000 only; run.sh reads PORT."""
    readme = (support.BASE_DIR / "README.md").read_text()
    start = readme.split("## ", 2)[1]  # the start section, up to the next heading
    assert "PORT=127.0.0.1:8001 bash scripts/run.sh" in start
    script = (support.BASE_DIR / "scripts" / "run.sh").read_text()
    assert 'runserver "${PORT:-127.0.0.1:8000}"' in script
    assert 'setup_demo --address "${PORT:-127.0.0.1:8000}"' in script
    assert "say " not in script.split("setup_demo", 1)[1]  # no English line after German ones
