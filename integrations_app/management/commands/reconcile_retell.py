"""``manage.py reconcile_retell [--company ID ...]``: compare Retell's numbers with the
database's and store the result for the audit (integrations_app/reconcile_retell.py)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from integrations_app import reconcile_retell


class Command(BaseCommand):
    help = _(
        "Compare every Retell account's phone numbers (all pages) with the database's numbers "
        "and the companies' registered agents; store the result for the readiness audit. "
        "Exits with status 1 when a provider could not be read."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--company", type=int, action="append", metavar="ID", help=_("only this company")
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("show the result, store nothing")
        )

    def handle(self, *args, company=None, dry_run=False, **options):
        results = reconcile_retell.reconcile(company_ids=company, store=not dry_run)
        if not results:
            self.stdout.write(_("No company has an active Retell integration."))
        unavailable = 0
        for result in results:
            if not result.available:
                unavailable += 1
                self.stdout.write(
                    _("%(company)s: not available: %(reason)s")
                    % {"company": result.company_name, "reason": result.reason}
                )
                continue
            if not result.findings:
                self.stdout.write(
                    _("%(company)s: in sync (%(count)d numbers in Retell)")
                    % {"company": result.company_name, "count": result.provider_count}
                )
                continue
            self.stdout.write(
                _("%(company)s: %(count)d differences (%(numbers)d numbers in Retell)")
                % {
                    "company": result.company_name,
                    "count": len(result.findings),
                    "numbers": result.provider_count,
                }
            )
            for finding in result.findings:
                self.stdout.write(f"  {finding['kind']}: {finding['number']}")
        if unavailable:
            raise SystemExit(1)
