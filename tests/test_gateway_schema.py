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


# -- the gateway's February columns: optional -------------------------------------------------

OPTIONAL = {
    ("calls", "booking_details"),
    ("customers", "phone_variants"),
    ("customers", "journey_history"),
    ("customers", "booking_history_summary"),
    ("customers", "portal_access_token"),
    ("customers", "portal_token_expires_at"),
}


def test_the_february_columns_are_declared_optional_and_never_selected():
    from django.db.models import Prefetch

    from integrations_app.models import Call, Customer

    declared = {
        (model._meta.db_table, name)
        for model in GATEWAY_MODELS
        for name in getattr(model, "OPTIONAL_COLUMNS", {})
    }
    assert declared == OPTIONAL
    modelled = {(m._meta.db_table, f.column) for m in GATEWAY_MODELS for f in m._meta.fields}
    assert not declared & modelled
    assert gateway_schema.optional_secret_columns() == {"customers": ("portal_access_token",)}
    queries = [
        str(Customer.objects.all().query),
        str(Call.objects.select_related("customer", "company").query),
        str(Customer.all_objects.prefetch_related(Prefetch("calls")).query),
    ]
    for sql in queries:
        for _table, column in OPTIONAL:
            assert column not in sql


def test_the_test_database_is_clean_with_or_without_the_optional_columns():
    assert gateway_schema.compare() == []
    absent = set(gateway_schema.absent_optional_columns())
    if support.tables_source() == "reference":
        assert absent == set()  # the reference schema has them all, in the expected types
    else:
        assert absent == OPTIONAL  # `create` builds from the models: none of them


def test_a_database_without_the_optional_columns_is_clean(scratch_database_url):
    prepare(scratch_database_url)
    if support.tables_source() == "reference":
        execute_in(scratch_database_url, "ALTER TABLE calls DROP COLUMN booking_details")
        execute_in(scratch_database_url, "ALTER TABLE customers DROP COLUMN portal_access_token")
    report = support.run_manage(
        "gateway_schema", "check", "--format", "json", database_url=scratch_database_url
    )
    assert report.returncode == 0, report.stdout
    assert json.loads(report.stdout)["differences"] == []


def test_the_optional_columns_in_their_types_are_clean(scratch_database_url):
    """What the reference schema has, added to tables built from the models (any tier)."""
    prepare(scratch_database_url)
    if support.tables_source() != "reference":
        for model in GATEWAY_MODELS:
            for name, field in getattr(model, "OPTIONAL_COLUMNS", {}).items():
                execute_in(
                    scratch_database_url,
                    f"ALTER TABLE {model._meta.db_table} ADD COLUMN {name} "
                    f"{field.db_type(connection)} NULL",
                )
    report = support.run_manage(
        "gateway_schema", "check", "--format", "json", database_url=scratch_database_url
    )
    assert report.returncode == 0, report.stdout
    assert json.loads(report.stdout)["clean"] is True


def test_an_optional_column_of_the_wrong_type_is_reported(scratch_database_url):
    prepare(scratch_database_url)
    if support.tables_source() == "reference":
        alter = "ALTER TABLE customers MODIFY portal_token_expires_at varchar(20) NULL"
    else:
        alter = "ALTER TABLE customers ADD COLUMN portal_token_expires_at varchar(20) NULL"
    execute_in(scratch_database_url, alter)

    report = support.run_manage(
        "gateway_schema", "check", "--format", "json", database_url=scratch_database_url
    )
    assert report.returncode == 1, report.stdout
    found = {
        (d["table"], d["column"], d["kind"]): d for d in json.loads(report.stdout)["differences"]
    }
    assert set(found) == {("customers", "portal_token_expires_at", "type")}
    wrong = found[("customers", "portal_token_expires_at", "type")]
    assert wrong["found"] == "varchar(20)"
    assert wrong["expected"] == ("timestamp" if connection.vendor == "mysql" else "datetime")

    text = support.run_manage("gateway_schema", "check", database_url=scratch_database_url)
    assert text.returncode == 1
    assert "customers.portal_token_expires_at has the type varchar(20)" in text.stdout
