"""Secrets in plain text: columns the gateway's design leaves unencrypted (semantics.md §1).

A finding never shows the secret: only where it is and its keyed fingerprint.
"""

import re

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import BRANCH_ADMIN, INTEGRATION_ADMIN, company_row
from audit_app.registry import Affected, Category, Check, Severity, register
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import Branch, Company, Integration

COMPANY_PLAIN_COLUMNS = ("calcom_v2_api_key", "webhook_signing_secret")


@register
class PlainTextSecretColumns(Check):
    id = "AUD-SEC-001"
    severity = Severity.CRITICAL
    category = Category.SECRETS
    title = gettext_lazy("Secrets in plain-text columns")
    explanation = gettext_lazy(
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

    def find(self) -> list[Affected]:
        having = Q()
        for column in COMPANY_PLAIN_COLUMNS:
            having |= Q(**{f"{column}__gt": ""})
        found = []
        for row in (
            Company.objects.filter(having)
            .order_by("name", "id")
            .values("id", "name", *COMPANY_PLAIN_COLUMNS)
        ):
            details = [
                _("companies.%(column)s holds a key in plain text (%(fp)s)")
                % {"column": column, "fp": fingerprint(row[column])}
                for column in COMPANY_PLAIN_COLUMNS
                if row[column]
            ]
            found.append(company_row(row, "; ".join(str(d) for d in details)))
        for row in (
            Branch.objects.filter(calcom_api_key__gt="", company__deleted_at__isnull=True)
            .order_by("company__name", "name", "id")
            .values("id", "name", "company__name", "calcom_api_key")
        ):
            found.append(
                Affected(
                    table="branches",
                    pk=row["id"],
                    label=f"{row['name']} ({row['company__name']})",
                    detail=_("branches.calcom_api_key holds a key in plain text (%(fp)s)")
                    % {"fp": fingerprint(row["calcom_api_key"])},
                    admin=BRANCH_ADMIN,
                )
            )
        return found


# Values that look like provider keys whatever their name, and names under which a long opaque
# string is a secret.
KEY_PREFIX = re.compile(r"\A(cal_|key_|sk_|rk_|pk_live_|whsec_)\S{8,}\Z")
BEARER = re.compile(r"\ABearer\s+\S{8,}\Z", re.IGNORECASE)
OPAQUE = re.compile(r"\A(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/_\-]{24,}={0,2})\Z")
KEYISH_NAME = re.compile(r"key|secret|token|password|passwd|auth|credential|bearer", re.I)


def key_like(name: str, value: str) -> bool:
    value = value.strip()
    if KEY_PREFIX.match(value) or BEARER.match(value):
        return True
    return bool(KEYISH_NAME.search(name)) and bool(OPAQUE.match(value))


def key_like_paths(data, path: str = "") -> list[tuple[str, str]]:
    """(JSON path, value) of every key-like string in a decoded JSON document."""
    found = []
    if isinstance(data, str):
        if key_like(path.rsplit(".", 1)[-1], data):
            found.append((path, data))
    elif isinstance(data, dict):
        for name, value in data.items():
            child = f"{path}.{name}" if path else str(name)
            if isinstance(value, str):
                if key_like(str(name), value):
                    found.append((child, value))
            else:
                found.extend(key_like_paths(value, child))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            child = f"{path}[{index}]"
            if isinstance(value, str):
                if key_like(path.rsplit(".", 1)[-1], value):
                    found.append((child, value))
            else:
                found.extend(key_like_paths(value, child))
    return found


@register
class KeysInIntegrationJson(Check):
    id = "AUD-SEC-002"
    severity = Severity.CRITICAL
    category = Category.SECRETS
    title = gettext_lazy("Key-like values in an integration's credentials or config JSON")
    explanation = gettext_lazy(
        "integrations.credentials and integrations.config are plain JSON: the gateway only "
        "hides credentials from serialization, it does not encrypt them, and it reads no key "
        "from there. The database review proposed pasting the platform API key into the "
        "credentials of every company; a key stored there is exposed and unused."
    )
    hint = gettext_lazy(
        "Enter the key in the integration form (it is stored encrypted in api_key), remove it "
        "from the JSON and rotate it at the provider."
    )

    def find(self) -> list[Affected]:
        rows = (
            Integration.objects.filter(
                Q(company__isnull=True) | Q(company__deleted_at__isnull=True)
            )
            .filter(Q(credentials__isnull=False) | Q(config__isnull=False))
            .order_by("company__name", "id")
            .values("id", "name", "company__name", "credentials", "config")
        )
        found = []
        for row in rows:
            hits = []
            for column in ("credentials", "config"):
                data = row[column]
                for path, value in key_like_paths(data, column) if data is not None else []:
                    hits.append(
                        _("integrations.%(path)s holds a key-like value (%(fp)s)")
                        % {"path": path, "fp": fingerprint(value)}
                    )
            if hits:
                company = row["company__name"] or _("no company")
                found.append(
                    Affected(
                        table="integrations",
                        pk=row["id"],
                        label=f"{row['name']} ({company})",
                        detail="; ".join(str(h) for h in hits),
                        admin=INTEGRATION_ADMIN,
                    )
                )
        return found
