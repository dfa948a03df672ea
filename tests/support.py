"""Test helpers shared by the tiers: gateway tables, scratch databases, running manage.py."""

import base64
import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from integrations_app import gateway_schema
from integrations_app.models import GATEWAY_MODELS

BASE_DIR = Path(__file__).resolve().parent.parent

# Obviously fake 32-byte keys in Laravel's form, for tests only.
TEST_APP_KEY = "base64:" + base64.b64encode(b"key_test_current_0123456789abcde").decode()
TEST_PREVIOUS_KEY = "base64:" + base64.b64encode(b"key_test_previous_0123456789abcd").decode()


def tables_source() -> str:
    """`models` (tables built from the models) or `reference` (the gateway's schema.sql)."""
    return os.environ.get("ASKPRO_GATEWAY_TABLES", "models")


def mysql_client_args(settings_dict: dict, database: str) -> tuple[list[str], dict]:
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise RuntimeError("the mariadb/mysql command-line client is needed to load an SQL file")
    args = [client, "--default-character-set=utf8mb4", f"--user={settings_dict['USER'] or 'root'}"]
    options = settings_dict.get("OPTIONS", {})
    if options.get("unix_socket"):
        args.append(f"--socket={options['unix_socket']}")
    else:
        args += [f"--host={settings_dict['HOST'] or '127.0.0.1'}", "--protocol=TCP"]
        if settings_dict.get("PORT"):
            args.append(f"--port={settings_dict['PORT']}")
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["MYSQL_PWD"] = settings_dict["PASSWORD"]
    return [*args, database], env


def load_sql_file(path: str | Path, database: str | None = None) -> None:
    """Load an SQL dump into a MariaDB/MySQL database with the real client (keeps its syntax)."""
    settings_dict = connection.settings_dict
    args, env = mysql_client_args(settings_dict, database or settings_dict["NAME"])
    with open(path, "rb") as sql:
        subprocess.run(args, stdin=sql, env=env, check=True, capture_output=True)


def reference_schema_path() -> Path:
    path = os.environ.get("GATEWAY_REFERENCE_SCHEMA", "")
    if not path or not Path(path).is_file():
        raise RuntimeError(
            "ASKPRO_GATEWAY_TABLES=reference needs GATEWAY_REFERENCE_SCHEMA "
            "to name the gateway's schema.sql"
        )
    return Path(path)


def install_gateway_tables() -> None:
    if tables_source() == "reference":
        if connection.vendor != "mysql":
            raise RuntimeError("the reference schema loads into MariaDB/MySQL only")
        load_sql_file(reference_schema_path())
    else:
        gateway_schema.create_tables(connection)


def empty_gateway_tables() -> None:
    """Transactional tests commit; Django's flush skips unmanaged tables, so empty them here."""
    tables = [model._meta.db_table for model in reversed(GATEWAY_MODELS)]
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SET FOREIGN_KEY_CHECKS=0")
            for table in tables:
                cursor.execute(f"DELETE FROM `{table}`")
            cursor.execute("SET FOREIGN_KEY_CHECKS=1")
        else:
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')


def database_url(settings_dict: dict, name: str) -> str:
    user = quote(settings_dict.get("USER") or "root", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"mysql://{auth}@{host}{port}/{name}"


@contextmanager
def scratch_database(tmp_path: Path):
    """A fresh, empty database of the current tier's kind, as a DATABASE_URL, removed afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"askpro_scratch_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield database_url(connection.settings_dict, name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


# Set by scripts/test_tiers.py for the in-process test client of the MariaDB tiers (production
# settings, plain-HTTP test client); a command or server a test starts runs as deployed.
TEST_CLIENT_ONLY_ENV = ("SECURE_SSL_REDIRECT", "SECURE_COOKIES")


def child_env() -> dict[str, str]:
    """The environment for a process a test starts: this one's, without pytest's own settings."""
    skip = ("DJANGO_SETTINGS_MODULE", *TEST_CLIENT_ONLY_ENV)
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k not in skip}


def run_manage(
    *args: str,
    database_url: str,
    language: str = "en",
    stdin: str | None = None,
    extra_env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run manage.py as a user would, in a separate process against the given database."""
    env = child_env()
    env.pop("DATABASE_URL", None)
    env |= {"LANGUAGE_CODE": language} | ({"DATABASE_URL": database_url} if database_url else {})
    # Like a configured deployment: the gateway's key is set (tests may override or blank it).
    env.setdefault("GATEWAY_APP_KEY", TEST_APP_KEY)
    env |= extra_env or {}
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=BASE_DIR,
        timeout=300,
    )


def at_the_same_moment(*attempts) -> list:
    """Run the callables in threads released together; each one's result, or its exception's
    repr, in the order they finished. Each thread closes its own database connections."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(attempts))
    outcomes = []

    def run(attempt):
        try:
            barrier.wait(timeout=10)
            outcomes.append(attempt())
        except Exception as error:  # noqa: BLE001 - the caller asserts on the outcomes
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def prepare_demo_database(url: str) -> None:
    """Gateway tables (the reference schema in that tier), migrations and the demo data in the
    database at ``url``, each by running manage.py as a process."""
    if tables_source() == "reference":
        load_sql_file(reference_schema_path(), url.rsplit("/", 1)[1])
    else:
        assert run_manage("gateway_schema", "create", database_url=url).returncode == 0
    assert run_manage("migrate", database_url=url).returncode == 0
    assert run_manage("seed_demo", database_url=url).returncode == 0
