"""Secrets in plain text: columns the gateway's design leaves unencrypted (semantics.md §1).

A finding never shows the secret: only where it is and its keyed fingerprint. The rows are
streamed and yielded as found (issue 13): no query runs while a stream is read.
"""

from collections.abc import Iterator

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import (
    INTEGRATION_ADMIN,
    branch_row,
    column_named,
    company_row,
)
from audit_app.registry import Affected, Category, Check, Severity, register
from audit_app.streaming import stream
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.crypto.key_like import as_text, secret_paths
from integrations_app.labels import quoted
from integrations_app.models import Branch, Company, Integration
from integrations_app.models.integrations import integration_title

COMPANY_PLAIN_COLUMNS = ("calcom_v2_api_key", "webhook_signing_secret")


@register
class PlainTextSecretColumns(Check):
    id = "AUD-SEC-001"
    severity = Severity.CRITICAL
    category = Category.SECRETS
    title = gettext_lazy(
        "Keys stored readable: anyone with a database copy can act in the company's name"
    )
    explanation = gettext_lazy(
        "These keys are stored without encryption. Anyone with a database export, a backup or "
        "read access has them and can read and change the company's bookings at the provider."
    )
    detail = gettext_lazy(
        "companies.calcom_v2_api_key (read in plain text by the gateway's booking sync), "
        "branches.calcom_api_key and companies.webhook_signing_secret (never read) are not "
        "encrypted: anyone with a database dump, a backup or read access has the key. The "
        "gateway reads encrypted company keys only from companies.calcom_api_key and "
        "retell_api_key."
    )
    hint = gettext_lazy(
        "Move the key into the company's integration (encrypted) and clear the plain copy (the "
        "fix does this); then rotate the key at the provider, since it was exposed."
    )
    fix_id = "move-plaintext-secrets"

    def each(self) -> Iterator[Affected]:
        having = Q()
        for column in COMPANY_PLAIN_COLUMNS:
            having |= Q(**{f"{column}__gt": ""})
        for row in stream(
            Company.objects.filter(having)
            .order_by("name", "id")
            .values("id", "name", *COMPANY_PLAIN_COLUMNS)
        ):
            details = [
                _("%(column)s holds a key in plain text (%(fp)s)")
                % {"column": column_named("companies", column), "fp": fingerprint(row[column])}
                for column in COMPANY_PLAIN_COLUMNS
                if row[column]
            ]
            yield company_row(row, "; ".join(str(d) for d in details))
        for row in stream(
            Branch.objects.filter(calcom_api_key__gt="", company__deleted_at__isnull=True)
            .order_by("company__name", "name", "id")
            .values("id", "name", "company__name", "calcom_api_key")
        ):
            yield branch_row(
                row,
                _("%(column)s holds a key in plain text (%(fp)s)")
                % {
                    "column": column_named("branches", "calcom_api_key"),
                    "fp": fingerprint(row["calcom_api_key"]),
                },
            )


@register
class KeysInIntegrationJson(Check):
    id = "AUD-SEC-002"
    severity = Severity.CRITICAL
    category = Category.SECRETS
    title = gettext_lazy("Keys stored readable in a connection's settings")
    explanation = gettext_lazy(
        "A key was pasted into a connection's settings, where it is stored unencrypted and "
        "never used: it is exposed to anyone with a database copy and does nothing for calls or"
        " bookings."
    )
    detail = gettext_lazy(
        "integrations.credentials and integrations.config are plain JSON: the gateway only "
        "hides credentials from serialization, it does not encrypt them, and it reads no key "
        "from there. The database review proposed pasting the platform API key into the "
        "credentials of every company; a key stored there is exposed and unused."
    )
    hint = gettext_lazy(
        "Enter the key in the integration form (it is stored encrypted in api_key), remove it "
        "from the JSON and rotate it at the provider."
    )

    def each(self) -> Iterator[Affected]:
        rows = (
            Integration.objects.filter(
                Q(company__isnull=True) | Q(company__deleted_at__isnull=True)
            )
            .filter(Q(credentials__isnull=False) | Q(config__isnull=False))
            .order_by("company__name", "id")
            .values("id", "name", "provider", "company__name", "credentials", "config")
        )
        for row in stream(rows):
            hits = []
            for column in ("credentials", "config"):
                data = row[column]
                for path, value in secret_paths(data, column) if data is not None else []:
                    if value in (None, "", {}, []):
                        continue  # a secret's name with nothing in it exposes nothing
                    hits.append(
                        _("a key-like value under %(entry)s in %(column)s (%(fp)s)")
                        % {
                            "column": column_named("integrations", column),
                            "entry": quoted(path.partition(".")[2] or path),
                            "fp": fingerprint(as_text(value)),
                        }
                    )
            if hits:
                company = row["company__name"] or _("no company")
                yield Affected(
                    table="integrations",
                    pk=row["id"],
                    label=integration_title(row["provider"], row["name"], company),
                    detail="; ".join(str(h) for h in hits),
                    admin=INTEGRATION_ADMIN,
                )
