"""`manage.py reconcile_calcom [--company ID ...]`: Cal.com's event types against `services`.

Reads each company's event types from Cal.com (bounded pages, at most four companies at once,
one cache for the run), compares them with `services` and stores the result for the audit's
checks and the company page (audit_app.ProviderReconciliation). Writes no gateway row: the fix
does, with a preview (``manage.py audit --fix AUD-ETY-003``). Meant to run as background work
(cron) when it covers many companies.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from integrations_app import reconcile_calcom


class Command(BaseCommand):
    help = "Compare Cal.com's event types with the gateway's services and store the result."

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, action="append", dest="companies")
        parser.add_argument("--workers", type=int, default=reconcile_calcom.MAX_WORKERS)

    def handle(self, *args, companies=None, workers=reconcile_calcom.MAX_WORKERS, **options):
        run = reconcile_calcom.Run(max_workers=max(1, min(workers, 8)))
        results = reconcile_calcom.reconcile(companies, run=run)
        reconcile_calcom.store(results, company_ids=companies)
        for result in results:
            if not result.available:
                self.stdout.write(
                    _("%(company)s: not available: %(reason)s")
                    % {"company": result.company_name, "reason": result.reason}
                )
                continue
            self.stdout.write(
                _("%(company)s: %(event_types)s event types, %(findings)s differences")
                % {
                    "company": result.company_name,
                    "event_types": len(result.event_types),
                    "findings": len(result.findings),
                }
            )
            for finding in result.findings:
                self.stdout.write("  - " + reconcile_calcom.finding_text(finding))
        self.stdout.write(
            _("%(count)s companies compared, %(requests)s Cal.com reads")
            % {"count": len(results), "requests": run.requests}
        )
