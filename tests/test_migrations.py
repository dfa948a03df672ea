"""Django never creates, alters or drops a gateway table; the console's own tables migrate."""

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from integrations_app.gateway_schema import gateway_tables
from integrations_app.models import GATEWAY_MODELS
from tests import support

pytestmark = pytest.mark.django_db


def test_every_gateway_model_is_unmanaged():
    for model in GATEWAY_MODELS:
        assert model._meta.managed is False, model
    models = apps.get_app_config("integrations_app").get_models()
    # The console's own tables in this app (PhoneImport, PhoneImportRow) are managed and migrated.
    mirrored = {m._meta.db_table for m in models if not m._meta.managed}
    assert mirrored == set(gateway_tables())


def test_the_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to run in a transaction
def test_no_migration_emits_sql_for_a_gateway_table():
    loader = MigrationLoader(connection)
    tables = "|".join(re.escape(t) for t in gateway_tables())
    pattern = re.compile(rf"""[`"']({tables})[`"']""")
    checked = 0
    for app_label, name in loader.disk_migrations:
        out = io.StringIO()
        call_command("sqlmigrate", app_label, name, stdout=out)
        assert not pattern.search(out.getvalue()), (app_label, name, out.getvalue()[:500])
        checked += 1
    assert checked > 0


def _gateway_structure(url: str) -> str:
    """The DDL of the gateway tables in a scratch database, as the server reports it."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            rows = db.execute(
                "SELECT name, sql FROM sqlite_master "  # noqa: S608 (placeholders only)
                f"WHERE name IN ({','.join('?' * len(gateway_tables()))}) ORDER BY name",
                gateway_tables(),
            ).fetchall()
        return repr(rows)
    name = url.rsplit("/", 1)[1]
    tables = gateway_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            f"AND TABLE_NAME IN ({', '.join(['%s'] * len(tables))}) ORDER BY 1, 2",
            [name, *tables],
        )
        return repr(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_migrate_leaves_the_gateway_tables_exactly_as_they_were(scratch_database_url):
    if support.tables_source() == "reference":
        support.load_sql_file(
            support.reference_schema_path(), scratch_database_url.rsplit("/", 1)[1]
        )
    else:
        assert (
            support.run_manage(
                "gateway_schema", "create", database_url=scratch_database_url
            ).returncode
            == 0
        )
    before = _gateway_structure(scratch_database_url)

    result = support.run_manage("migrate", "--noinput", database_url=scratch_database_url)
    assert result.returncode == 0, result.stderr

    assert _gateway_structure(scratch_database_url) == before
    check = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert check.returncode == 0, check.stdout
