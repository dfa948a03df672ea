from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from changelog.models import Source
from changelog.recording import operation
from integrations_app import demo_data


class Command(BaseCommand):
    @property
    def help(self):
        # Resolved when the parser is built: argparse cannot format a lazy string.
        return _(
            "Fill an EMPTY database with the synthetic demo dataset (13 companies, 207 calls, "
            "the gaps of the database review). Refuses any database whose gateway tables "
            "already hold a row; there is no option to override that."
        )

    def handle(self, *args, **options):
        data = demo_data.build_demo_data()
        try:
            with operation(source=Source.COMMAND, name="seed_demo"):
                counts = demo_data.write_demo_data(data)
        except demo_data.SeedRefused as refusal:
            raise CommandError(str(refusal)) from None
        database = f"{connection.vendor}:{connection.settings_dict['NAME']}"
        self.stdout.write(
            _("Demo data written to %(database)s (reference date %(date)s):")
            % {"database": database, "date": demo_data.REFERENCE_TIME.date().isoformat()}
        )
        width = max(len(table) for table in counts)
        for table, count in counts.items():
            self.stdout.write(f"  {table:<{width}}  {count:>4}")
