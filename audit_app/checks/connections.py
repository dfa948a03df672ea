"""Connections whose last connection test failed (integrations_app/connection_tests.py).

A test writes its outcome into the integration's health columns: ``health_status`` unhealthy
when the key, the configuration or the provider failed, with ``last_error`` (what is wrong, made
safe: never a secret) and ``last_error_at``. Such an integration is a finding of its own and
does not count towards the integration coverage (audit_app/measures.py).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import FAILED_TEST, INTEGRATION_ADMIN, active_integrations
from audit_app.checks.credentials import INTEGRATION_OF_LIVE_COMPANY
from audit_app.registry import Affected, Category, Check, Severity, register
from integrations_app.labels import local_time
from integrations_app.models import Integration
from integrations_app.models.integrations import integration_title


@register
class FailedConnectionTests(Check):
    id = "AUD-INT-004"
    severity = Severity.CRITICAL
    category = Category.CREDENTIALS
    title = gettext_lazy("Connections whose last test failed: calls or bookings may not work")
    explanation = gettext_lazy(
        "The last connection test of these connections failed: the provider refused the key, "
        "could not be reached, or answered unexpectedly. Until a test passes, calls or "
        "bookings that rely on them may fail, and they do not count towards the integration "
        "coverage."
    )
    detail = gettext_lazy(
        "integrations.health_status is unhealthy after the console's last connection test "
        "(integrations_app/connection_tests.py): the key, the configuration or the provider "
        "failed, and the gateway's own calls with that key fail alike; "
        "last_error holds what the test found and last_error_at when. Active "
        "integrations of live companies only. A degraded test (numbers not bound to the agent) "
        "is not counted here: AUD-RTN-003 reports it."
    )
    hint = gettext_lazy(
        "Open the connection and read what its last test says to check (the address, the key "
        "or the network); correct it and test the connection again."
    )

    def find(self) -> list[Affected]:
        rows = (
            active_integrations(Integration.objects.filter(INTEGRATION_OF_LIVE_COMPANY))
            .filter(health_status=FAILED_TEST)
            .order_by("company__name", "id")
            .values("id", "name", "provider", "company__name", "last_error", "last_error_at")
        )
        found = []
        for row in rows:
            company = row["company__name"] or _("no company")
            error = row["last_error"] or _("no message was recorded")
            if row["last_error_at"] is not None:
                when = local_time(row["last_error_at"])
                error = _("%(error)s (tested %(when)s)") % {"error": error, "when": when}
            found.append(
                Affected(
                    table="integrations",
                    pk=row["id"],
                    label=integration_title(row["provider"], row["name"], company),
                    detail=error,
                    admin=INTEGRATION_ADMIN,
                )
            )
        return found
