import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from changelog.models import Source
from integrations_app import credentials
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.ids import parse_id
from integrations_app.models import Integration

MAX_INPUT = 4096  # bytes read from standard input: a key is far shorter


class Command(BaseCommand):
    help = _(
        "Give a company its Cal.com or Retell key, read from standard input (never from the "
        "command line), through the same code path as the admin form."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help=_("company id"))
        parser.add_argument("--provider", required=True, choices=["calcom", "retell"])
        parser.add_argument("--event-type", type=int, help=_("Cal.com event type id"))
        parser.add_argument("--team-slug", help=_("Cal.com team slug"))
        parser.add_argument("--team-id", type=int, help=_("Cal.com team id"))
        parser.add_argument("--agent-id", help=_("Retell agent id"))
        parser.add_argument("--environment", default="production")

    @sensitive_variables("api_key", "saved_key")
    def handle(self, *args, **options):
        company_id = parse_id(options["company"])
        if company_id is None:
            raise CommandError(_("--company must be a company id (a whole number)"))
        api_key = self.read_key()
        existing = (
            Integration.objects.active()
            .filter(company_id=company_id, provider=options["provider"])
            .order_by("-id")
            .first()
        )
        # An option left out keeps what the integration already has.
        stored = existing.config_object if existing else {}

        def given_or_stored(option, key):
            return options[option] if options[option] is not None else stored.get(key)

        settings = credentials.IntegrationSettings(
            event_type_id=given_or_stored("event_type", "event_type_id"),
            team_slug=given_or_stored("team_slug", "team_slug"),
            team_id=given_or_stored("team_id", "team_id"),
            agent_id=given_or_stored("agent_id", "agent_id"),
            environment=options["environment"],
        )
        try:
            integration = credentials.save_core_integration(
                company_id=company_id,
                provider=options["provider"],
                api_key=api_key,
                settings=settings,
                integration_id=existing.pk if existing else None,
                source=Source.COMMAND,
                name="set_credentials",
            )
        except credentials.CredentialError as error:
            raise CommandError(error.message) from None
        saved_key = Encrypter.from_settings().decrypt_string(integration.api_key)
        self.stdout.write(
            _("Saved the %(provider)s key of company %(company)s: fingerprint %(fp)s")
            % {"provider": options["provider"], "company": company_id, "fp": fingerprint(saved_key)}
        )

    def read_key(self) -> str:
        if sys.stdin.isatty():
            key = getpass.getpass(_("API key (input hidden): "))
        else:
            key = self.piped_text()
            # One trailing line break from `echo` or a file is not part of the key.
            key = key[:-1] if key.endswith("\n") else key
            key = key[:-1] if key.endswith("\r") else key
            if "\n" in key or "\r" in key:
                # Never guess which line is the key.
                raise CommandError(
                    _("Standard input holds more than one line: give only the key, on one line.")
                )
        if not key:
            raise CommandError(_("No key on standard input: pipe the key in, e.g. from a file."))
        return key

    @staticmethod
    def piped_text() -> str:
        """All of standard input, decoded as UTF-8 whatever the locale; bounded."""
        stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes from a process, text in tests
        data = stream.read(MAX_INPUT + 1)
        if len(data) > MAX_INPUT:
            raise CommandError(
                _("Standard input holds more than %(max)d bytes: give only the key.")
                % {"max": MAX_INPUT}
            )
        if isinstance(data, str):
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError(_("The key on standard input is not valid UTF-8 text.")) from None
