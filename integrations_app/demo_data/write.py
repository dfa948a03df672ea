"""Writes the demo rows into an EMPTY gateway database, and refuses every other database."""

from contextlib import nullcontext

from django.db import connection, transaction
from django.utils.translation import gettext as _

from changelog.models import Change, Operation, Source
from changelog.recording import current, operation
from integrations_app import services
from integrations_app.demo_data import calcom_reconciliation, retell_reconciliation
from integrations_app.demo_data.build import REFERENCE_TIME, DemoData
from integrations_app.gateway_schema import existing_gateway_tables, gateway_tables
from integrations_app.models import GATEWAY_MODELS


class SeedRefused(Exception):
    """The database is not an empty gateway database: nothing was written."""


def missing_gateway_tables() -> list[str]:
    present = set(existing_gateway_tables())
    return [table for table in gateway_tables() if table not in present]


def missing_change_store() -> list[str]:
    """The console's change-store tables this database lacks (``migrate`` creates them)."""
    present = set(connection.introspection.table_names())
    return [m._meta.db_table for m in (Operation, Change) if m._meta.db_table not in present]


def _insert(rows: list) -> None:
    # One bulk insert per table, recorded in the change store (one "create" per row) under the
    # current operation; the rows carry the dataset's own created_at/updated_at.
    services.create_rows(rows=rows)


def write_demo_data(data: DemoData) -> dict[str, int]:
    """Write the dataset into an empty gateway database; rows per gateway table afterwards.

    Refuses (SeedRefused, nothing written) when the gateway tables are missing or any of them
    holds a row, soft-deleted rows included: demo data never goes into a database in use.
    The rows go in through ``services.create_rows``, a bulk insert per table, each row recorded
    under one operation: the caller's, else one of its own (source command, name "seed_demo").
    """
    missing = missing_gateway_tables()
    if len(missing) == len(gateway_tables()):
        raise SeedRefused(
            _(
                "this database has no gateway tables: "
                "run `python manage.py gateway_schema create` first"
            )
        )
    if missing:
        # `gateway_schema create` refuses a database with some gateway tables: say what to run.
        raise SeedRefused(
            _(
                "gateway tables are missing (%(tables)s): this is not a complete gateway database; "
                "see `python manage.py gateway_schema check`"
            )
            % {"tables": ", ".join(missing)}
        )
    if missing_change_store():
        # The rows are recorded: the console's own tables must be there first.
        raise SeedRefused(
            _("the console's tables are missing: run `python manage.py migrate` first")
        )
    scope = nullcontext() if current() else operation(source=Source.COMMAND, name="seed_demo")
    with scope, transaction.atomic():
        occupied = [m._meta.db_table for m in GATEWAY_MODELS if m._base_manager.exists()]
        if occupied:
            raise SeedRefused(
                _(
                    "refusing to seed: the gateway tables already hold data (%(tables)s); "
                    "seed_demo only fills an empty database"
                )
                % {"tables": ", ".join(occupied)}
            )
        calcom_reconciliation.switch_off(data)
        for _model, rows in data.tables():
            if rows:
                _insert(rows)
        calcom_reconciliation.store(data, REFERENCE_TIME)
        retell_reconciliation.store(data, REFERENCE_TIME)
        return {m._meta.db_table: m._base_manager.count() for m in GATEWAY_MODELS}
