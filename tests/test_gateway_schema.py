"""`gateway_schema create` and `check`, run as an operator runs them: a process per command."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from integrations_app import gateway_schema
from integrations_app.gateway_schema import normalize_type
from integrations_app.models import GATEWAY_MODELS
from tests import support

pytestmark = pytest.mark.django_db


def prepare(url: str) -> None:
    """Fill a scratch database with gateway tables the way the current tier has them."""
    if support.tables_source() == "reference":
        support.load_sql_file(support.reference_schema_path(), database=url.rsplit("/", 1)[1])
    else:
        result = support.run_manage("gateway_schema", "create", database_url=url)
        assert result.returncode == 0, result.stderr


def execute_in(url: str, sql: str) -> None:
    """Change a scratch database behind the console's back, as drift in production would."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(sql)
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"USE `{url.rsplit('/', 1)[1]}`")
            try:
                cursor.execute(sql)
            finally:
                cursor.execute(f"USE `{connection.settings_dict['NAME']}`")


def test_types_are_compared_in_one_spelling():
    assert normalize_type("bigint(20) unsigned") == normalize_type("bigint UNSIGNED AUTO_INCREMENT")
    assert normalize_type("tinyint(1)") == normalize_type("bool")
    assert normalize_type("decimal(10,2)") == normalize_type("numeric(10, 2)")
    assert normalize_type("json") == "longtext"
    assert normalize_type("int(11)") == "int"
    assert normalize_type("varchar(255)") != normalize_type("varchar(20)")
    assert normalize_type("enum('direct','hotline')") != normalize_type("enum('direct')")


def test_check_is_clean_on_the_test_database():
    assert gateway_schema.compare() == []
    call_command("gateway_schema", "check")  # exits 0: no SystemExit


def test_create_refuses_when_the_tables_exist():
    with pytest.raises(CommandError, match="companies"):
        call_command("gateway_schema", "create")


def test_create_builds_the_tables_once_on_an_empty_database(scratch_database_url):
    before = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert before.returncode == 1
    assert "table companies is missing" in before.stdout

    created = support.run_manage("gateway_schema", "create", database_url=scratch_database_url)
    assert created.returncode == 0, created.stderr
    assert f"Created {len(GATEWAY_MODELS)} gateway tables" in created.stdout

    after = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert after.returncode == 0, after.stdout
    assert after.stdout.startswith("Clean")

    again = support.run_manage("gateway_schema", "create", database_url=scratch_database_url)
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1
    assert "already has gateway tables" in again.stderr


def test_check_names_a_dropped_column(scratch_database_url):
    prepare(scratch_database_url)
    execute_in(scratch_database_url, "ALTER TABLE phone_numbers DROP COLUMN number_normalized")

    text = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert text.returncode == 1
    assert "phone_numbers.number_normalized is missing" in text.stdout

    report = support.run_manage(
        "gateway_schema", "check", "--format", "json", database_url=scratch_database_url
    )
    assert report.returncode == 1
    data = json.loads(report.stdout)
    assert data["clean"] is False
    assert {(d["table"], d["column"], d["kind"]) for d in data["differences"]} == {
        ("phone_numbers", "number_normalized", "missing_column")
    }


def test_check_json_is_clean_and_lists_the_tables(scratch_database_url):
    prepare(scratch_database_url)
    report = support.run_manage(
        "gateway_schema", "check", "--format", "json", database_url=scratch_database_url
    )
    assert report.returncode == 0, report.stdout
    data = json.loads(report.stdout)
    assert data["clean"] is True and data["differences"] == []
    assert "phone_numbers" in data["tables"] and len(data["tables"]) == len(GATEWAY_MODELS)


def test_check_names_a_changed_type_and_nullability(mysql_only, scratch_database_url):
    prepare(scratch_database_url)
    execute_in(
        scratch_database_url, "ALTER TABLE phone_numbers MODIFY number_normalized varchar(10)"
    )
    execute_in(scratch_database_url, "ALTER TABLE staff MODIFY email varchar(255) NOT NULL")

    data = json.loads(
        support.run_manage(
            "gateway_schema", "check", "--format", "json", database_url=scratch_database_url
        ).stdout
    )
    found = {(d["table"], d["column"], d["kind"]): d for d in data["differences"]}
    changed = found[("phone_numbers", "number_normalized", "type")]
    assert (changed["expected"], changed["found"]) == ("varchar(20)", "varchar(10)")
    assert found[("staff", "email", "nullability")]["found"] == "NOT NULL"
    assert len(found) == 2


def test_check_names_a_not_null_column_the_console_does_not_write(mysql_only, scratch_database_url):
    prepare(scratch_database_url)
    execute_in(scratch_database_url, "ALTER TABLE branches ADD COLUMN region_code int NOT NULL")
    execute_in(
        scratch_database_url, "ALTER TABLE branches ADD COLUMN region_name int NOT NULL DEFAULT 0"
    )

    result = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert result.returncode == 1
    assert "branches.region_code is NOT NULL without a default" in result.stdout
    assert "region_name" not in result.stdout


def test_the_reference_schema_is_clean(mysql_only, reference_schema, scratch_database_url):
    """The gateway's own schema.sql, all 240 tables, matches every column the console uses."""
    support.load_sql_file(reference_schema, database=scratch_database_url.rsplit("/", 1)[1])
    result = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert result.returncode == 0, result.stdout
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            [scratch_database_url.rsplit("/", 1)[1]],
        )
        assert cursor.fetchone()[0] == 240
