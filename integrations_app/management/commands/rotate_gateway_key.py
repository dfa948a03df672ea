from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations_app import key_rotation
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint

# Exit status when values were found that no key opens or that are in the wrong flavour.
EXIT_PROBLEMS = 3


class Command(BaseCommand):
    help = _(
        "Re-encrypt every gateway secret that only a previous key (GATEWAY_PREVIOUS_KEYS) opens "
        "under the current key (GATEWAY_APP_KEY), each in the flavour of its column. Values that "
        "no key opens are listed and left untouched. Exit status: 0 everything readable, "
        "1 unusable keys, 3 unreadable values found."
    )
    # The keys are checked in handle(), with one clear line, instead of by the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help=_("only report what would change; write nothing")
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=key_rotation.BATCH_SIZE,
            help=_("rows per transaction (default: %(default)s)"),
        )

    def handle(self, *args, dry_run, batch_size, verbosity, **options):
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1"))
        try:
            encrypter = Encrypter.from_settings()
        except GatewayKeyError as error:
            raise CommandError(
                _(
                    "cannot rotate: %(error)s (expected the form of the gateway's APP_KEY: "
                    "'base64:' and 44 characters)"
                )
                % {"error": error}
            ) from None
        self.dry_run, self.verbosity = dry_run, verbosity
        self.describe_keys()
        report = key_rotation.rotate(
            encrypter=encrypter, dry_run=dry_run, batch_size=batch_size, on_finding=self.show
        )
        self.summarize(report)
        if report.problems:
            raise SystemExit(EXIT_PROBLEMS)

    def describe_keys(self):
        previous = len(settings.GATEWAY_PREVIOUS_KEYS)
        self.stdout.write(
            _("Current key: fingerprint %(fingerprint)s; previous keys: %(count)d.")
            % {"fingerprint": fingerprint(settings.GATEWAY_APP_KEY.strip()), "count": previous}
        )
        if not previous:
            self.stdout.write(
                _("No previous key is set (GATEWAY_PREVIOUS_KEYS): nothing can be rotated.")
            )
        if self.dry_run:
            self.stdout.write(_("Dry run: nothing will be written."))

    def show(self, finding: key_rotation.Finding):
        where = f"{finding.table} id={finding.pk} {finding.column}"
        if finding.outcome == key_rotation.ROTATED:
            if self.verbosity < 1:
                return
            if self.dry_run:
                text = _("would rotate %(where)s (now under %(key)s; fingerprint %(fingerprint)s)")
            else:
                text = _("rotated %(where)s (was under %(key)s; fingerprint %(fingerprint)s)")
            key = key_rotation.key_name(finding.key_index)
            self.stdout.write(
                "  " + text % {"where": where, "key": key, "fingerprint": finding.fingerprint}
            )
            return
        if finding.outcome == key_rotation.WRONG_FLAVOUR:
            text = _("wrong flavour in %(where)s, left untouched: %(reason)s")
        else:
            text = _("cannot decrypt %(where)s, left untouched: %(reason)s")
        self.stdout.write(
            self.style.WARNING("  " + text % {"where": where, "reason": finding.message})
        )

    def summarize(self, report: key_rotation.Report):
        counts = report.counts
        if self.verbosity >= 2:
            self.stdout.write(
                _("Tables scanned: %(tables)s.") % {"tables": ", ".join(report.tables) or "-"}
            )
            if report.absent:
                self.stdout.write(
                    _("Not in this database, skipped: %(names)s.")
                    % {"names": ", ".join(report.absent)}
                )
        numbers = {
            "rotated": counts[key_rotation.ROTATED],
            "rows": report.rows_changed,
            "current": counts[key_rotation.CURRENT],
            "undecryptable": counts[key_rotation.UNDECRYPTABLE],
            "wrong": counts[key_rotation.WRONG_FLAVOUR],
        }
        if report.dry_run:
            summary = _(
                "Would rotate %(rotated)d values in %(rows)d rows; already current: %(current)d; "
                "undecryptable: %(undecryptable)d; wrong flavour: %(wrong)d."
            )
        else:
            summary = _(
                "Rotated %(rotated)d values in %(rows)d rows; already current: %(current)d; "
                "undecryptable: %(undecryptable)d; wrong flavour: %(wrong)d."
            )
        self.stdout.write(summary % numbers)
        if report.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        if report.problems:
            count = len(report.problems)
            self.stderr.write(
                ngettext(
                    "%(count)d value cannot be read with the configured keys, and the gateway "
                    "cannot read it either: set it again from the admin.",
                    "%(count)d values cannot be read with the configured keys, and the gateway "
                    "cannot read them either: set them again from the admin.",
                    count,
                )
                % {"count": count}
            )
