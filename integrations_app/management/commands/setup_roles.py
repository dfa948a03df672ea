from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from integrations_app import roles


class Command(BaseCommand):
    @property
    def help(self):
        # Resolved when the parser is built: argparse cannot format a lazy string.
        return _(
            "Create or update the groups Support, Manager and Read-only with exactly their "
            "permissions. Safe to run again."
        )

    def handle(self, *args, **options):
        for name, (created, count) in roles.setup_roles().items():
            message = (
                _("Group %(name)s created: %(count)d permissions (%(role)s).")
                if created
                else _("Group %(name)s up to date: %(count)d permissions (%(role)s).")
            )
            self.stdout.write(
                message % {"name": name, "count": count, "role": roles.ROLE_DESCRIPTIONS[name]}
            )
