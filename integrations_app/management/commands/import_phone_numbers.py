from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from integrations_app.phone_import.errors import ImportConflict, ImportFileError, ReasonRequired
from integrations_app.phone_import.resource import PhoneNumberResource


class Command(BaseCommand):
    @property
    def help(self):
        # Resolved when the parser is built: argparse cannot format a lazy string.
        return _(
            "Import phone numbers from a CSV or Excel (.xlsx) file, through the same checks as "
            "the admin import: all rows or none. Exits with 1 when any row has an error (or the "
            "numbers changed while it was written), with 2 when the file cannot be read."
        )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("the CSV or .xlsx file"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("check every row, write nothing")
        )
        parser.add_argument(
            "--region", default="DE", help=_("region of numbers without a country code (DE)")
        )
        parser.add_argument(
            "--reason", default="", help=_("why the numbers are imported (one line, in history)")
        )

    def handle(self, *args, file, dry_run, region, reason, **options):
        path = Path(file)
        try:
            with path.open("rb") as handle:
                data = handle.read(settings.PHONE_IMPORT_MAX_BYTES + 1)
        except OSError as error:
            raise CommandError(
                _("cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror},
                returncode=2,
            ) from None
        try:
            result = PhoneNumberResource().import_file(
                data=data,
                file_name=path.name,
                region=region,
                source="command:import_phone_numbers",
                reason=reason,
                dry_run=dry_run,
            )
        except ReasonRequired as error:  # nothing written
            raise CommandError(f"{path.name}: {error}", returncode=1) from None
        except ImportConflict as error:  # nothing written; the file may well be fine
            raise CommandError(f"{path.name}: {error}", returncode=1) from None
        except ImportFileError as error:
            raise CommandError(f"{path.name}: {error}", returncode=2) from None
        plan = result.plan
        counts = plan.counts
        self.stdout.write(
            _("%(file)s: %(rows)d rows: %(new)d new, %(update)d updated, %(unchanged)d unchanged, "
              "%(error)d with errors")
            % {"file": path.name, "rows": len(plan.rows), **counts}
        )  # fmt: skip
        for error in plan.iter_errors():
            self.stdout.write(
                _("row %(row)d, column “%(column)s”: %(message)s")
                % {"row": error.row, "column": error.column, "message": error.message}
            )
        if plan.has_errors:
            raise CommandError(
                _("nothing was imported: %(count)d errors in %(rows)d rows; correct the file")
                % {"count": plan.error_count, "rows": counts["error"]}
            )
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(_("Imported: import record %(id)d.") % {"id": result.record.pk})
