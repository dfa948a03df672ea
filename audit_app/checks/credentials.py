"""Credentials: the core integrations of each company and the connection rows the gateway
ignores. Whether the stored keys can be read: audit_app/checks/keys.py.

The rows are streamed (audit_app/streaming.py) and yielded as found: the audit counts them
without keeping them (issue 13). No query runs while a stream is read.
"""

import uuid
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import active_integrations, company_row, integration_row
from audit_app.checks.queried import QueryCheck
from audit_app.registry import Affected, Category, Check, CheckUnavailable, Severity, register
from audit_app.streaming import stream
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import GatewayKeyError
from integrations_app.integration_kinds import CALCOM, RETELL
from integrations_app.models import Company, Integration

# Integrations of live companies, and those without a company (they have no soft delete).
INTEGRATION_OF_LIVE_COMPANY = Q(company__isnull=True) | Q(company__deleted_at__isnull=True)


def gateway_encrypter() -> Encrypter:
    try:
        return Encrypter.from_settings()
    except GatewayKeyError as error:
        raise CheckUnavailable(
            _("the gateway's key is needed to read the stored keys: %(error)s") % {"error": error}
        ) from None


class _CoreIntegrationCheck(QueryCheck):
    severity = Severity.CRITICAL
    category = Category.CREDENTIALS
    kind = CALCOM

    def affected(self):
        of_company = Integration.objects.filter(company=OuterRef("pk"), provider=self.kind.provider)
        return (
            Company.objects.annotate(
                has_active=Exists(active_integrations(of_company)), any_row=Exists(of_company)
            )
            .filter(has_active=False)
            .order_by("name", "id")
            .values("id", "name", "any_row")
        )

    def finding(self, row) -> Affected:
        if row["any_row"]:
            detail = _("%(kind)s integration exists but is not active: it needs credentials")
        else:
            detail = _("no %(kind)s integration")
        return company_row(row, detail % {"kind": self.kind.name})


@register
class CompaniesWithoutCalcom(_CoreIntegrationCheck):
    id = "AUD-INT-001"
    kind = CALCOM
    title = gettext_lazy(
        "Companies whose booking calendar nobody can check (no active Cal.com connection)"
    )
    explanation = gettext_lazy(
        "Cal.com is the booking calendar the phone agent books into. Without an active "
        "connection in the console nobody can see or test which account and appointment type "
        "the company books with, and its staff and appointment types cannot be imported."
    )
    detail = gettext_lazy(
        "Cal.com is where the gateway books and looks up free slots. The gateway's admin "
        "screens show a company's integrations from the integrations table; without an active "
        "Cal.com integration nobody can see or test which key and event type the company books "
        "with, and its team and event types cannot be imported with the company's own key."
    )
    hint = gettext_lazy(
        "Add the company's Cal.com integration with its API key and event type in the "
        "integration form (the fix creates a placeholder that puts the company on that "
        "work list)."
    )
    fix_id = "calcom-placeholder"


@register
class CompaniesWithoutRetell(_CoreIntegrationCheck):
    id = "AUD-INT-002"
    kind = RETELL
    title = gettext_lazy(
        "Companies whose phone agent nobody can check (no active Retell connection)"
    )
    explanation = gettext_lazy(
        "Retell AI answers the company's calls. Without an active connection in the console "
        "nobody can see which phone agent answers for the company, or check that its numbers "
        "reach that agent."
    )
    detail = gettext_lazy(
        "Retell AI answers the company's calls. Without an active Retell integration the "
        "gateway's admin screens show no agent for the company, and nobody can check that the "
        "company's numbers are bound to the right agent."
    )
    hint = gettext_lazy(
        "Add the company's Retell AI integration with its agent id in the integration form "
        "(the fix creates a placeholder that puts the company on that work list)."
    )
    fix_id = "retell-placeholder"


@register
class RejectedIntegrationRows(Check):
    id = "AUD-INT-003"
    severity = Severity.WARNING
    category = Category.CREDENTIALS
    title = gettext_lazy("Connections the gateway ignores (malformed entries)")
    explanation = gettext_lazy(
        "These connection entries are not in the form the gateway expects (for example the "
        "provider written as a display name): the gateway never finds them, so they do nothing "
        "for the company's calls and bookings."
    )
    detail = gettext_lazy(
        "The gateway's integrations table needs a tenant_id (NOT NULL, a UUID), a provider "
        "given by its lowercase key (calcom, retell, webhook, api, oauth2) and a status it "
        'knows. A row with a display name such as "Cal.com" in provider is never found by the '
        "gateway's provider lookups, and one without tenant_id could not have been written by "
        "the gateway itself."
    )
    hint = gettext_lazy(
        "Correct the row in the integration form: provider as its lowercase key, a UUID as "
        "tenant_id."
    )

    def each(self) -> Iterator[Affected]:
        rows = (
            Integration.objects.filter(INTEGRATION_OF_LIVE_COMPANY)
            .order_by("company__name", "id")
            .values("id", "name", "provider", "tenant_id", "status", "company__name")
        )
        for row in stream(rows):
            problems = []
            if not _is_uuid(row["tenant_id"]):
                problems.append(_("the tenant ID is empty or not valid"))
            if row["provider"] not in Integration.PROVIDERS:
                problems.append(
                    _("the provider %(provider)r is not one of %(keys)s")
                    % {"provider": row["provider"], "keys": ", ".join(Integration.PROVIDERS)}
                )
            if row["status"] not in Integration.STATUSES:
                problems.append(_("status %(status)r is not known") % {"status": row["status"]})
            if problems:
                yield integration_row(row, "; ".join(str(p) for p in problems))


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value or ""))
    except ValueError:
        return False
    return len(str(value)) == 36
