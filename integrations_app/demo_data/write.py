"""Writes the demo rows into an EMPTY gateway database, and refuses every other database."""

from django.db import transaction
from django.utils.translation import gettext as _

from integrations_app.demo_data.build import DemoData
from integrations_app.gateway_schema import existing_gateway_tables, gateway_tables
from integrations_app.models import GATEWAY_MODELS


class SeedRefused(Exception):
    """The database is not an empty gateway database: nothing was written."""


def missing_gateway_tables() -> list[str]:
    present = set(existing_gateway_tables())
    return [table for table in gateway_tables() if table not in present]


def _insert(model, rows: list) -> None:
    # The rows carry the dataset's own created_at/updated_at; inserts keep explicit timestamps.
    model._base_manager.bulk_create(rows)


def write_demo_data(data: DemoData) -> dict[str, int]:
    """Write the dataset into an empty gateway database; rows per gateway table afterwards.

    Refuses (SeedRefused, nothing written) when the gateway tables are missing or any of them
    holds a row, soft-deleted rows included: demo data never goes into a database in use.
    Bulk inserts send no model signals, so django-auditlog records no history entries for the
    demo rows; that is intended, they are not changes anybody made.
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
    with transaction.atomic():
        occupied = [m._meta.db_table for m in GATEWAY_MODELS if m._base_manager.exists()]
        if occupied:
            raise SeedRefused(
                _(
                    "refusing to seed: the gateway tables already hold data (%(tables)s); "
                    "seed_demo only fills an empty database"
                )
                % {"tables": ", ".join(occupied)}
            )
        for model, rows in data.tables():
            _insert(model, rows)
        return {m._meta.db_table: m._base_manager.count() for m in GATEWAY_MODELS}
