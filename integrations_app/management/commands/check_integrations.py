import logging
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from integrations_app import connection_tests
from integrations_app.models import Company


@contextmanager
def _quiet_service_log(quiet: bool):
    """The lines on stdout say it all: the service's own log line per result only with -v 2."""
    service_log = connection_tests.logger
    level = service_log.level
    if quiet:
        service_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        service_log.setLevel(level)


class Command(BaseCommand):
    help = _(
        "Test the connection of every active Cal.com and Retell AI integration and record the "
        "result in its health fields. Exits with status 1 when any integration is not healthy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, metavar="ID", help=_("only this company"))
        parser.add_argument(
            "--provider",
            choices=connection_tests.TESTABLE_PROVIDERS,
            help=_("only this provider"),
        )

    def handle(self, *args, company=None, provider=None, **options):
        if company is not None:
            self._check_company(company)
        queryset = connection_tests.testable_integrations(company_id=company, provider=provider)
        with _quiet_service_log(options["verbosity"] < 2):
            results = connection_tests.test_connections(queryset=queryset)
        if not results:
            self.stdout.write(_("No active Cal.com or Retell AI integration to test."))
            return
        for result in results:
            self.stdout.write(self._line(result))
        failed = sum(1 for result in results if not result.ok)
        summary = _("%(total)d tested: %(healthy)d healthy, %(failed)d not healthy.") % {
            "total": len(results),
            "healthy": len(results) - failed,
            "failed": failed,
        }
        if failed:
            self.stdout.write(self.style.ERROR(summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))

    def _check_company(self, company_id: int) -> None:
        row = Company.all_objects.filter(pk=company_id).values("deleted_at").first()
        if row is None:
            raise CommandError(_("company %(id)s does not exist") % {"id": company_id})
        if row["deleted_at"] is not None:
            raise CommandError(_("company %(id)s is deleted") % {"id": company_id})

    def _line(self, result) -> str:
        status = {
            "healthy": _("healthy"),
            "degraded": _("degraded"),
            "unhealthy": _("unhealthy"),
        }.get(result.status, _("not tested"))
        company = (
            _("company %(id)s %(name)s") % {"id": result.company_id, "name": result.company_name}
            if result.company_id is not None
            else _("no company")
        )
        key = (
            _("key %(fingerprint)s") % {"fingerprint": result.key_fingerprint}
            if result.key_fingerprint
            else _("no readable key")
        )
        line = _(
            "%(company)s · %(provider)s · integration %(id)s · %(status)s (%(score)d) · "
            "%(key)s · %(message)s"
        ) % {
            "company": company,
            "provider": result.provider_label,
            "id": result.integration_id,
            "status": status,
            "score": result.score,
            "key": key,
            "message": result.message,
        }
        style = {"healthy": self.style.SUCCESS, "degraded": self.style.WARNING}
        return style.get(result.status, self.style.ERROR)(line)
