import json

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from integrations_app import gateway_schema


class Command(BaseCommand):
    help = _(
        "create: build the gateway tables on an empty development database; "
        "check: list where the live database differs from what the console expects."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,check}")
        actions.add_parser("create", help=_("create the gateway tables (empty database only)"))
        check = actions.add_parser("check", help=_("compare the live database with the models"))
        check.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, **options):
        if action == "create":
            return self.create()
        return self.check_schema(options["format"])

    def create(self):
        existing = gateway_schema.existing_gateway_tables()
        if existing:
            raise CommandError(
                _("refusing to create: the database already has gateway tables (%(tables)s)")
                % {"tables": ", ".join(existing)}
            )
        tables = gateway_schema.create_tables()
        self.stdout.write(
            _("Created %(count)d gateway tables: %(tables)s")
            % {"count": len(tables), "tables": ", ".join(tables)}
        )

    def check_schema(self, output_format):
        differences = gateway_schema.compare()
        database = f"{connection.vendor}:{connection.settings_dict['NAME']}"
        if output_format == "json":
            report = {
                "database": database,
                "tables": gateway_schema.gateway_tables(),
                "clean": not differences,
                "differences": [d.as_dict() for d in differences],
            }
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        elif differences:
            self.stdout.write(
                _("%(count)d differences between %(database)s and the console's gateway models:")
                % {"count": len(differences), "database": database}
            )
            for difference in differences:
                self.stdout.write(f"  [{difference.kind}] {difference.message()}")
        else:
            self.stdout.write(
                _("Clean: the %(count)d gateway tables in %(database)s match the console.")
                % {"count": len(gateway_schema.gateway_tables()), "database": database}
            )
        if differences:
            raise SystemExit(1)
