import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from askpro_console.config import DEMO_GATEWAY_KEY_FILE, ensure_demo_gateway_key
from integrations_app import gateway_schema, roles
from integrations_app.models import Company

ADMIN_USERNAME = "admin"
# One demo account per role (integrations_app/roles.py): user name -> group.
DEMO_ACCOUNTS = {"support": roles.SUPPORT, "manager": roles.MANAGER, "readonly": roles.READ_ONLY}


class Command(BaseCommand):
    help = _(
        "Prepare the embedded SQLite demo: console tables, gateway tables, demo data, a demo "
        "gateway key and an admin account. Reuses what exists."
    )
    # Checked once the demo's gateway key is there (a first run would warn of its absence).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--address",
            help=_(
                "Where the server will run (scripts/run.sh): said last, in the console's language."
            ),
        )

    def handle(self, *args, **options):
        if connection.vendor != "sqlite":
            raise CommandError(
                _("setup_demo prepares the embedded SQLite demo only; this database is %(vendor)s")
                % {"vendor": connection.vendor}
            )
        self.ensure_demo_gateway_key()
        self.check()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(_("Console tables are up to date."))
        existing = gateway_schema.existing_gateway_tables()
        if not existing:
            call_command("gateway_schema", "create", stdout=self.stdout)
        elif len(existing) < len(gateway_schema.gateway_tables()):
            raise CommandError(
                _("Only some gateway tables exist (%(tables)s): remove %(path)s and start again.")
                % {"tables": ", ".join(existing), "path": settings.DATABASES["default"]["NAME"]}
            )
        if Company.all_objects.exists():
            self.stdout.write(_("Demo data is already there."))
        else:
            call_command("seed_demo", stdout=self.stdout)
        self.ensure_admin()
        call_command("setup_roles", stdout=self.stdout)
        self.ensure_demo_accounts()
        self.ensure_demo_snapshots()
        if options.get("address"):
            # In the language of the lines above, not the shell script's English.
            self.stdout.write(
                _("The console runs on http://%(address)s/admin/ (Ctrl-C stops it).")
                % {"address": options["address"]}
            )

    def ensure_demo_gateway_key(self):
        """On the embedded demo without GATEWAY_APP_KEY: a demo key of its own in var/, so that
        keys can be saved there (settings.py reads it; never with DATABASE_URL set)."""
        if not settings.EMBEDDED_DEFAULT or os.environ.get("GATEWAY_APP_KEY", "").strip():
            return
        key, made = ensure_demo_gateway_key(settings.BASE_DIR)
        settings.GATEWAY_APP_KEY = key  # this run's checks and writes use it too
        message = (
            _("Demo gateway key written to %(path)s (used only by this embedded demo).")
            if made
            else _("Demo gateway key %(path)s exists already.")
        )
        self.stdout.write(message % {"path": DEMO_GATEWAY_KEY_FILE})

    def ensure_demo_snapshots(self):
        """A few weeks of audit snapshots (source "demo"), so the dashboard shows trends."""
        from audit_app.models import AuditSnapshot
        from integrations_app.demo_data.snapshots import DAYS, write_demo_snapshots

        if AuditSnapshot.objects.exists():
            self.stdout.write(_("Audit snapshots are already there."))
            return
        count = write_demo_snapshots(days=DAYS)
        self.stdout.write(
            _("%(count)d demo audit snapshots written (one a day up to yesterday).")
            % {"count": count}
        )

    def ensure_admin(self):
        users = get_user_model()
        existing = users.objects.filter(is_superuser=True).order_by("pk").first()
        if existing:
            self.stdout.write(
                _(
                    "Administrator %(name)s exists already. Lost the password? "
                    "python manage.py changepassword %(name)s"
                )
                % {"name": existing.get_username()}
            )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        self.stdout.write(
            _(
                "Administrator created: user %(name)s, "
                "one-time password %(password)s (shown only now)"
            )
            % {"name": ADMIN_USERNAME, "password": password}
        )

    def ensure_demo_accounts(self):
        """One staff account per role, its password printed once (like the admin's)."""
        users = get_user_model()
        for name, role in DEMO_ACCOUNTS.items():
            if users.objects.filter(username=name).exists():
                self.stdout.write(
                    _("Demo account %(name)s (%(role)s) exists already.")
                    % {"name": name, "role": role}
                )
                continue
            password = secrets.token_urlsafe(12)
            user = users.objects.create_user(name, email="", password=password, is_staff=True)
            user.groups.add(Group.objects.get(name=role))
            self.stdout.write(
                _(
                    "Demo account created: user %(name)s, role %(role)s, "
                    "one-time password %(password)s (shown only now)"
                )
                % {"name": name, "role": role, "password": password}
            )
