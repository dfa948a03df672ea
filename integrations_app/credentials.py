"""Giving a company its Cal.com or Retell integration, with keys the gateway can read.

One save writes, in one transaction: the `integrations` row as the gateway's admin expects it
(provider key, type, tenant UUID, non-secret config, `api_key` in the encryptString flavour)
and the company columns the gateway's runtime reads (`companies.calcom_api_key` /
`retell_api_key` in the encrypt flavour, team and agent ids), semantics.md §1-2, and for Retell
the `retell_agents` row of the agent (§3a; named from Retell's get-agent when reachable, an
agent id of another company refused). Secrets never
go into a plain-text column, a log or the history: the history gets fingerprints.
"""

import re
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from changelog.models import Source
from changelog.recording import current, operation
from integrations_app import services
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.integration_kinds import (
    CALCOM,
    CONFIG_AGENT_ID,
    CONFIG_EVENT_TYPE_ID,
    CONFIG_TEAM_ID,
    CONFIG_TEAM_SLUG,
    KINDS,
    RETELL,
)
from integrations_app.models import Company, Integration
from integrations_app.providers.errors import ProviderError, key_problem
from integrations_app.providers.retell import RetellClient
from integrations_app.services.agents import agent_id_problem, register_agent

KEEP = None  # api_key=KEEP leaves the stored key as it is
MAX_ID = 2_147_483_647  # companies.calcom_team_id is int(11); Cal.com's ids are 32-bit
MAX_TEXT = 255  # the varchar(255) columns the settings go into
_KEY_PREFIX = {CALCOM.provider: "cal_", RETELL.provider: "key_"}
_WHITESPACE = re.compile(r"\s")
AGENT_LOOKUP_TIMEOUT = 3.0  # seconds at most for Retell's get-agent while saving


class CredentialError(ValueError):
    """A credential change that cannot be made; `message` is for the user. Nothing was written."""

    def __init__(self, message: str, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass
class IntegrationSettings:
    """The non-secret settings of a core integration, as entered in the form or command."""

    event_type_id: int | None = None
    team_slug: str | None = None
    team_id: int | None = None
    agent_id: str | None = None
    environment: str = "production"
    is_active: bool = True
    description: str | None = None
    extra: dict = field(default_factory=dict)


def validate_api_key(provider: str, api_key: str) -> str:
    """The key exactly as entered, or CredentialError: no guessing at what was meant."""
    if _WHITESPACE.search(api_key):
        raise CredentialError(
            _("The key contains spaces or line breaks: paste only the key itself."), "api_key"
        )
    if not api_key.isprintable():  # a NUL byte or another control character
        raise CredentialError(
            _("The key contains control characters (such as a NUL byte): paste only the key."),
            "api_key",
        )
    prefix = _KEY_PREFIX.get(provider)
    if prefix and not api_key.startswith(prefix):
        raise CredentialError(
            _("A %(provider)s key starts with %(prefix)s: is this the key of another service?")
            % {"provider": KINDS[provider].name, "prefix": prefix},
            "api_key",
        )
    return api_key


def key_missing_message() -> str | None:
    """Why no key can be saved now, with what to set, where, and the restart; None if they can."""
    try:
        Encrypter.from_settings()
    except GatewayKeyError as error:
        return _(
            "Keys cannot be saved: %(error)s. Set GATEWAY_APP_KEY to the gateway's APP_KEY "
            "(base64:…) in the console's environment or in the .env file beside manage.py, "
            "then restart the console."
        ) % {"error": error}
    return None


def _encrypter() -> Encrypter:
    try:
        return Encrypter.from_settings()
    except GatewayKeyError:
        raise CredentialError(key_missing_message()) from None


def _live_company(company_id) -> Company:
    company = Company.objects.select_for_update().filter(pk=company_id).first()
    if company is None:
        raise CredentialError(
            _("Company %(id)s does not exist or is deleted.") % {"id": company_id}, "company"
        )
    return company


def _validate_settings(provider: str, settings: IntegrationSettings) -> None:
    for name, value in (("event_type_id", settings.event_type_id), ("team_id", settings.team_id)):
        if value is not None and not 1 <= value <= MAX_ID:
            raise CredentialError(
                _("%(field)s must be a whole number from 1 to %(max)d.")
                % {"field": name, "max": MAX_ID},
                name,
            )
    for name, value in (("team_slug", settings.team_slug), ("agent_id", settings.agent_id)):
        if value and len(value) > MAX_TEXT:
            raise CredentialError(
                _("%(field)s is longer than %(max)d characters.")
                % {"field": name, "max": MAX_TEXT},
                name,
            )
    if provider == CALCOM.provider and settings.is_active and not settings.event_type_id:
        raise CredentialError(_("Cal.com needs the event type id to book."), "event_type_id")
    if provider == RETELL.provider and settings.is_active and not settings.agent_id:
        raise CredentialError(_("Retell needs the agent id."), "agent_id")
    if provider == RETELL.provider and settings.agent_id:
        problem = agent_id_problem(settings.agent_id)
        if problem:
            raise CredentialError(problem, "agent_id")


@sensitive_variables("api_key", "encrypter")
def save_core_integration(
    *,
    company_id,
    provider: str,
    api_key: str | None = KEEP,
    remove_key: bool = False,
    settings: IntegrationSettings,
    integration_id: int | None = None,
    source: str = Source.ADMIN,
    name: str = "",
) -> Integration:
    """Create or update the Cal.com or Retell integration of a company; CredentialError if not.

    At most one active integration per company and provider: the company row is locked for the
    check, so two saves at the same moment cannot both create one. Both rows are written in one
    operation: the request's own in the admin (``source`` admin), else one of ``source`` and
    ``name`` (``set_credentials``: command, "set_credentials"). The change store gets the keys
    as fingerprints only.
    """
    if provider not in (CALCOM.provider, RETELL.provider):
        raise CredentialError(_("Unknown provider %(provider)s.") % {"provider": provider})
    if api_key is not KEEP:
        api_key = validate_api_key(provider, api_key)
    _validate_settings(provider, settings)
    encrypter = _encrypter()
    agent_name = None
    if provider == RETELL.provider and settings.agent_id:
        # Asked before any row is locked; None when Retell cannot tell (the id becomes the name).
        agent_name = _agent_name(settings.agent_id, api_key, integration_id, company_id, encrypter)
    with _operation(source, name), transaction.atomic(), _refused_as_credential_error():
        company = _live_company(company_id)
        if provider == RETELL.provider and settings.agent_id:
            # The gateway's call paths find the company by this row first (semantics.md §3a).
            try:
                register_agent(company=company, agent_id=settings.agent_id, name=agent_name)
            except ValidationError as error:
                raise CredentialError(" ".join(error.messages), "agent_id") from None
        integration = _integration_to_save(company, provider, integration_id, settings)
        if api_key is KEEP and not remove_key and not integration.api_key:
            raise CredentialError(_("Enter the API key."), "api_key")
        _apply_settings(integration, provider, settings)
        if remove_key:
            integration.api_key = None
        elif api_key is not KEEP:
            integration.api_key = encrypter.encrypt_string(api_key)
        services.save_record(instance=integration, allow_secrets=True)
        _write_company_columns(company, provider, settings, encrypter, api_key, remove_key)
    return integration


@sensitive_variables("api_key", "key", "encrypter")
def _agent_name(agent_id, api_key, integration_id, company_id, encrypter) -> str | None:
    """The agent's name from Retell's ``GET /get-agent/{agent_id}``, or None on any problem.

    Asked with the gateway's platform key (``GATEWAY_RETELL_API_KEY``, semantics §2: the key every
    gateway Retell client uses) when it is set; else with the key being saved, else the
    integration's stored key, else the company's (the key the connection test uses); with a
    short timeout; nothing is written here.
    """
    platform = (getattr(django_settings, "GATEWAY_RETELL_API_KEY", "") or "").strip()
    key = platform or (
        api_key
        if api_key is not KEEP
        else _stored_retell_key(integration_id, company_id, encrypter)
    )
    if not key or key_problem(key):
        return None
    timeout = min(float(django_settings.PROVIDER_TIMEOUT_SECONDS), AGENT_LOOKUP_TIMEOUT)
    try:
        with RetellClient(api_key=key, timeout=timeout) as client:
            answer = client.agent(agent_id)
    except ProviderError:
        return None
    name = answer.get("agent_name")
    return name.strip() if isinstance(name, str) and name.strip() else None


@sensitive_variables("encrypter")
def _stored_retell_key(integration_id, company_id, encrypter) -> str | None:
    stored = []
    if integration_id is not None:
        stored.append(
            (
                Integration.objects.filter(pk=integration_id, company_id=company_id)
                .values_list("api_key", flat=True)
                .first(),
                encrypter.decrypt_string,
            )
        )
    stored.append(
        (
            Company.objects.filter(pk=company_id).values_list("retell_api_key", flat=True).first(),
            encrypter.decrypt,
        )
    )
    for payload, decrypt in stored:
        if payload:
            try:
                value = decrypt(payload)
            except DecryptionError:
                continue
            if isinstance(value, str):
                return value
    return None


@contextmanager
def _refused_as_credential_error():
    """A value the write services refuse (services/limits.py) as the credential error the
    form and the command show; raised inside the transaction, which is rolled back."""
    try:
        yield
    except services.InvalidValueError as error:
        raise CredentialError(error.message, error.field) from None


def _operation(source: str, name: str):
    """The operation the save belongs to: an admin request already is one."""
    ambient = current()
    if source == Source.ADMIN and ambient is not None and ambient.source == Source.ADMIN:
        return nullcontext(ambient)
    return operation(source=source, name=name)


def _integration_to_save(company, provider, integration_id, settings) -> Integration:
    others = Integration.objects.active().filter(company=company, provider=provider)
    if integration_id is not None:
        integration = (
            Integration.objects.select_for_update()
            .filter(pk=integration_id, company=company)
            .first()
        )
        if integration is None:
            raise CredentialError(_("This integration no longer exists."))
        others = others.exclude(pk=integration_id)
    else:
        kind = KINDS[provider]
        integration = Integration(
            company=company, provider=provider, type=kind.type, name=kind.name
        )
    if settings.is_active and others.exists():
        raise CredentialError(
            _("%(company)s already has an active %(provider)s integration: edit that one.")
            % {"company": company.name, "provider": KINDS[provider].name}
        )
    return integration


def _apply_settings(integration: Integration, provider: str, settings: IntegrationSettings) -> None:
    config = dict(integration.config_object) | settings.extra
    if provider == CALCOM.provider:
        config[CONFIG_EVENT_TYPE_ID] = settings.event_type_id
        config[CONFIG_TEAM_SLUG] = settings.team_slug or None
        config[CONFIG_TEAM_ID] = settings.team_id
    else:
        config[CONFIG_AGENT_ID] = settings.agent_id
    integration.config = config
    integration.is_active = settings.is_active
    integration.status = "active" if settings.is_active else "inactive"
    integration.environment = settings.environment or "production"
    integration.description = settings.description
    # A gateway users.id standing for the console, if configured; the history names the person.
    integration.updated_by = django_settings.GATEWAY_CONSOLE_USER_ID
    if integration._state.adding:
        integration.created_by = django_settings.GATEWAY_CONSOLE_USER_ID


@sensitive_variables("api_key", "encrypter")
def _write_company_columns(company, provider, settings, encrypter, api_key, remove_key) -> None:
    """The columns the gateway's runtime reads (the history gets the key's fingerprints)."""
    column = "calcom_api_key" if provider == CALCOM.provider else "retell_api_key"
    if remove_key:
        setattr(company, column, None)
    elif api_key is not KEEP:
        setattr(company, column, encrypter.encrypt(api_key))
    if provider == CALCOM.provider:
        company.calcom_team_slug = settings.team_slug or None
        company.calcom_team_id = settings.team_id
        company.calcom_event_type_id = (
            str(settings.event_type_id) if settings.event_type_id else None
        )
        fields = ["calcom_api_key", "calcom_team_slug", "calcom_team_id", "calcom_event_type_id"]
    else:
        company.retell_agent_id = settings.agent_id
        fields = ["retell_api_key", "retell_agent_id"]
    services.save_record(instance=company, fields=fields, allow_secrets=True)
