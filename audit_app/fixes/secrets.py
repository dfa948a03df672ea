"""move-plaintext-secrets: keys in plain-text columns move into the encrypted columns.

A Cal.com key in `companies.calcom_v2_api_key` or `branches.calcom_api_key` goes into the
company's Cal.com integration (`integrations.api_key`, encryptString flavour) and into
`companies.calcom_api_key` (encrypt flavour), the column the gateway's team import reads; a
`companies.webhook_signing_secret` goes into that integration's `webhook_secret`. Then the plain
copies are cleared (semantics.md §1-2). The plan, the preview, the record and the history hold
fingerprints only; write() reads the values again under the fix's lock and never keeps them
anywhere else. Without the gateway's key nothing can be encrypted: the plan stays empty.
"""

from collections import defaultdict

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from audit_app.checks.common import column_named
from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import APP
from audit_app.fixes.placeholders import new_integration, provider_rows
from audit_app.registry import Affected
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.integration_kinds import CALCOM
from integrations_app.models import Branch, Company, Integration
from integrations_app.models.integrations import counts_as_active
from integrations_app.services import create_rows, update_rows

_COMPANY_COLUMNS = ("calcom_v2_api_key", "webhook_signing_secret", "calcom_api_key")


def _company_affected(company, detail) -> Affected:
    return Affected(
        table="companies", pk=company.pk, label=company.name, detail=detail, admin=(APP, "company")
    )


def _plain(value) -> str:
    return (value or "").strip()


# Where a key is stored already (the keys of _plan_company's ``stored``): (table, column).
_STORED_IN = {
    "integration api_key": ("integrations", "api_key"),
    "companies.calcom_api_key": ("companies", "calcom_api_key"),
}


class _Conflict(Exception):
    pass


@register_fix
class MovePlaintextSecrets(Fix):
    id = "move-plaintext-secrets"
    check_id = "AUD-SEC-001"
    needs_encrypter = True
    title = gettext_lazy("Move plain-text keys into the encrypted columns")
    description = gettext_lazy(
        "Moves a Cal.com key stored readable in a company's or a branch's data into the "
        "company's Cal.com connection and its encrypted key field, and a signing secret for "
        "Cal.com's notifications into the connection's secret, then deletes the readable "
        "copies. Bookings are then synchronised with the platform's key: replace the exposed "
        "key at Cal.com."
    )
    detail = gettext_lazy(
        "Moves a Cal.com key found in companies.calcom_v2_api_key or branches.calcom_api_key "
        "into the company's Cal.com integration and companies.calcom_api_key (encrypted), and a "
        "webhook signing secret into the integration's webhook secret, then clears the plain "
        "copies. The booking sync then uses the platform key: rotate the exposed key at Cal.com."
    )

    # -- reading ----------------------------------------------------------------------------

    def _read(self):
        """The rows holding plain secrets and the companies' Cal.com integrations: 3 queries."""
        companies = {
            c.pk: c
            for c in Company.objects.filter(
                Q(calcom_v2_api_key__gt="") | Q(webhook_signing_secret__gt="")
            ).only("id", "name", *_COMPANY_COLUMNS)
        }
        branches = defaultdict(list)
        for branch in (
            Branch.objects.filter(calcom_api_key__gt="", company__deleted_at__isnull=True)
            .select_related("company")
            .only(
                "id",
                "name",
                "calcom_api_key",
                "company_id",
                *(f"company__{column}" for column in ("name", *_COMPANY_COLUMNS)),
            )
            .order_by("name", "pk")
        ):
            branches[branch.company_id].append(branch)
            companies.setdefault(branch.company_id, branch.company)
        integrations = defaultdict(list)
        for row in provider_rows(CALCOM).filter(company_id__in=list(companies)).order_by("pk"):
            integrations[row.company_id].append(row)
        order = sorted(companies.values(), key=lambda c: (c.name, c.pk))
        return order, branches, integrations

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        companies, branches, integrations = self._read()
        try:
            encrypter = Encrypter.from_settings()
        except GatewayKeyError as error:
            for company in companies:
                plan.needs_person.append(
                    _company_affected(
                        company,
                        _(
                            "cannot move the key: %(error)s. Set GATEWAY_APP_KEY to the gateway's "
                            "APP_KEY; nothing is written without it"
                        )
                        % {"error": error},
                    )
                )
            return plan
        for company in companies:
            try:
                self._plan_company(
                    plan, encrypter, company, branches[company.pk], integrations[company.pk]
                )
            except _Conflict as conflict:
                plan.needs_person.append(_company_affected(company, str(conflict)))
        return plan

    @sensitive_variables("key", "keys", "secret", "stored", "encrypter")
    def _plan_company(self, plan, encrypter, company, branch_rows, integration_rows):
        keys = {_plain(company.calcom_v2_api_key)} | {_plain(b.calcom_api_key) for b in branch_rows}
        keys.discard("")
        if len(keys) > 1:
            raise _Conflict(
                _("different Cal.com keys in plain text (%(fps)s): decide which one is valid")
                % {"fps": ", ".join(sorted(fingerprint(k) for k in keys))}
            )
        key = next(iter(keys), None)
        secret = _plain(company.webhook_signing_secret) or None
        integration = self._integration(integration_rows)

        stored = {
            "integration api_key": _decrypted(encrypter, integration and integration.api_key, True),
            "companies.calcom_api_key": _decrypted(encrypter, company.calcom_api_key, False),
        }
        if key:
            for where, value in stored.items():
                if value is not None and value != key:
                    raise _Conflict(
                        _(
                            "%(where)s already holds a different key (%(stored)s, plain copy "
                            "%(plain)s): decide which one is valid"
                        )
                        % {
                            "where": column_named(*_STORED_IN[where], "companies"),
                            "stored": _fp(value),
                            "plain": fingerprint(key),
                        }
                    )
        stored_secret = _decrypted(encrypter, integration and integration.webhook_secret, True)
        if secret and stored_secret is not None and stored_secret != secret:
            raise _Conflict(
                _("the integration already holds a different signing secret (%(fp)s)")
                % {"fp": _fp(stored_secret)}
            )

        context = {"company_id": company.pk, "branch_ids": [], "integration_id": None}
        # The integration (created pending and inactive when the company has none).
        target = {}
        if key and stored["integration api_key"] is None:
            target["api_key"] = fingerprint(key)
        if secret and stored_secret is None:
            target["webhook_secret"] = fingerprint(secret)
        if target and integration is None:
            context["create_integration"] = True
            plan.writes.append(
                PlannedWrite(
                    table="integrations",
                    action="create",
                    description=_(
                        "Cal.com integration for %(company)s, pending and inactive, holding the "
                        "moved key encrypted; complete it in the integration form"
                    )
                    % {"company": company.name},
                    key=f"calcom-for-company-{company.pk}",
                    after={
                        "company_id": company.pk,
                        "provider": CALCOM.provider,
                        "type": CALCOM.type,
                        "name": CALCOM.name,
                        "status": "pending",
                        "is_active": False,
                        "config": {},
                        **target,
                    },
                )
            )
        elif target:
            context["integration_id"] = integration.pk
            plan.writes.append(
                PlannedWrite(
                    table="integrations",
                    action="update",
                    description=_("Integration %(name)s of %(company)s receives the key encrypted")
                    % {"name": integration.name, "company": company.name},
                    pk=integration.pk,
                    before=dict.fromkeys(target),
                    after=target,
                )
            )

        # The company's own columns.
        before, after = {}, {}
        if key and stored["companies.calcom_api_key"] is None:
            before["calcom_api_key"], after["calcom_api_key"] = None, fingerprint(key)
        for column in ("calcom_v2_api_key", "webhook_signing_secret"):
            if getattr(company, column):
                before[column], after[column] = fingerprint(getattr(company, column)), None
        if after:
            effects = []
            if company.calcom_v2_api_key:
                effects.append(
                    _(
                        "the booking sync, which read the plain key, uses the platform's key "
                        "from now on"
                    )
                )
            if key:
                effects.append(
                    _("the team and event-type import uses the company's encrypted Cal.com key")
                )
            effects.append(_("live call-time booking keeps using the platform key"))
            plan.writes.append(
                PlannedWrite(
                    table="companies",
                    action="update",
                    description=_("%(company)s: plain copies cleared; for the gateway: %(effects)s")
                    % {"company": company.name, "effects": "; ".join(str(e) for e in effects)},
                    pk=company.pk,
                    before=before,
                    after=after,
                )
            )
        for branch in branch_rows:
            context["branch_ids"].append(branch.pk)
            plan.writes.append(
                PlannedWrite(
                    table="branches",
                    action="update",
                    description=_("Branch %(branch)s of %(company)s: plain key cleared")
                    % {"branch": branch.name, "company": company.name},
                    pk=branch.pk,
                    before={"calcom_api_key": fingerprint(branch.calcom_api_key)},
                    after={"calcom_api_key": None},
                )
            )
        plan.context.setdefault("companies", []).append(context)

    @staticmethod
    def _integration(rows):
        """The Cal.com integration the key belongs in: the only one, or the only active one."""
        if len(rows) <= 1:
            return rows[0] if rows else None
        active = [r for r in rows if counts_as_active(r.is_active, r.status)]
        if len(active) == 1:
            return active[0]
        raise _Conflict(_("several Cal.com integrations: decide which one gets the key"))

    # -- writing ----------------------------------------------------------------------------

    @sensitive_variables("key", "secret", "encrypter", "values", "companies_values")
    def write(self, plan: Plan) -> None:
        """Read the plain values again (3 queries), check them against the plan, then write
        each table in bulk through the services, which record fingerprints only."""
        encrypter = Encrypter.from_settings()
        by_table = defaultdict(dict)
        for write in plan.writes:
            by_table[write.table][write.pk if write.action == "update" else write.key] = write
        contexts = plan.context["companies"]
        companies = Company.objects.in_bulk([c["company_id"] for c in contexts])
        branches = Branch.objects.in_bulk([pk for c in contexts for pk in c["branch_ids"]])
        created, integration_values, companies_values, branch_values = [], {}, {}, {}
        for context in contexts:
            company = companies[context["company_id"]]
            own = [branches[pk] for pk in context["branch_ids"]]
            key = _plain(company.calcom_v2_api_key) or next(
                (_plain(b.calcom_api_key) for b in own if _plain(b.calcom_api_key)), None
            )
            secret = _plain(company.webhook_signing_secret) or None
            values = {"api_key": key, "webhook_secret": secret}
            if context.get("create_integration"):
                write = by_table["integrations"][f"calcom-for-company-{company.pk}"]
                _same(write.after, values)
                created.append(
                    new_integration(
                        {k: v for k, v in write.after.items() if k not in values}
                        | {
                            k: encrypter.encrypt_string(values[k])
                            for k in values
                            if k in write.after
                        }
                    )
                )
            elif context["integration_id"]:
                write = by_table["integrations"][context["integration_id"]]
                _same(write.after, values)
                integration_values[context["integration_id"]] = {
                    column: encrypter.encrypt_string(values[column]) for column in write.after
                }
            write = by_table["companies"].get(company.pk)
            if write is not None:
                _same(
                    write.before,
                    {
                        c: getattr(company, c)
                        for c in ("calcom_v2_api_key", "webhook_signing_secret")
                    },
                )
                columns = {}
                if "calcom_api_key" in write.after:
                    columns["calcom_api_key"] = encrypter.encrypt(key)
                for column in ("calcom_v2_api_key", "webhook_signing_secret"):
                    if column in write.after:
                        columns[column] = None
                companies_values[company.pk] = columns
            for branch in own:
                branch_values[branch.pk] = {"calcom_api_key": None}
        # Encrypted first, plain copies cleared after: within one transaction either way.
        create_rows(rows=created, allow_secrets=True)
        update_rows(model=Integration, values=integration_values, allow_secrets=True)
        update_rows(model=Company, values=companies_values, allow_secrets=True)
        update_rows(model=Branch, values=branch_values, allow_secrets=True)


def _same(planned: dict, values: dict) -> None:
    """The values read now are those the plan showed (same fingerprints), else StalePlan.

    apply_fix plans under its lock just before writing, so this only trips when someone edits
    a secret column outside the console in that instant.
    """
    for column, shown in planned.items():
        if column in values and _fp(values[column]) != shown:
            from audit_app.fixes.base import get_fix
            from audit_app.fixes.service import StalePlan

            raise StalePlan(get_fix(MovePlaintextSecrets.id).plan())


def _decrypted(encrypter: Encrypter, payload, raw: bool):
    if not payload:
        return None
    try:
        return encrypter.decrypt_string(payload) if raw else encrypter.decrypt(payload)
    except DecryptionError as error:
        raise _Conflict(
            _("a stored key cannot be read (%(reason)s): see the key check first")
            % {"reason": error.reason}
        ) from None


def _fp(value):
    return fingerprint(value) if value else None
