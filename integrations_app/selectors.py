"""Reads several places need: which key each gateway path uses, integration state per company."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.integration_kinds import CALCOM, CORE_PROVIDERS, RETELL
from integrations_app.models import Company, Integration

COMPANY_KEY = "company"
PLATFORM_KEY = "platform"
UNREADABLE = "unreadable"
PLAIN_TEXT = "plain_text"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class KeyUse:
    """One gateway path and the key it will use for a company now (semantics.md §2)."""

    path: Promise
    code: str  # the gateway class, for engineers
    uses: str  # COMPANY_KEY, PLATFORM_KEY, UNREADABLE (falls back), PLAIN_TEXT, UNKNOWN
    fingerprint: str | None
    note: Promise | str


def _read_company_key(encrypter, payload):
    """(fingerprint, problem) of an encrypt()-flavour company column."""
    if not payload:
        return None, None
    if encrypter is None:
        return None, _("cannot be checked: GATEWAY_APP_KEY is not set or malformed")
    try:
        return fingerprint(encrypter.decrypt(payload)), None
    except DecryptionError as error:
        return None, error.message


def key_resolution(company: Company) -> list[KeyUse]:
    try:
        encrypter = Encrypter.from_settings()
    except GatewayKeyError:
        encrypter = None
    calcom_fp, calcom_problem = _read_company_key(encrypter, company.calcom_api_key)
    retell_fp, retell_problem = _read_company_key(encrypter, company.retell_api_key)
    platform_calcom = _("the platform key CALCOM_API_KEY from the gateway's environment")
    platform_retell = _(
        "the platform key RETELLAI_API_KEY (else RETELL_TOKEN) from the environment"
    )

    if calcom_fp:
        team_import = KeyUse(
            _("Team and event type import"), "CalcomV2Service", COMPANY_KEY, calcom_fp,
            _("the company's key (companies.calcom_api_key)"),
        )  # fmt: skip
    elif calcom_problem:
        team_import = KeyUse(
            _("Team and event type import"), "CalcomV2Service",
            UNKNOWN if encrypter is None else UNREADABLE, None,
            _("companies.calcom_api_key %(problem)s: the gateway logs a warning and silently "
              "uses %(platform)s") % {"problem": calcom_problem, "platform": platform_calcom},
        )  # fmt: skip
    else:
        team_import = KeyUse(
            _("Team and event type import"), "CalcomV2Service", PLATFORM_KEY, None, platform_calcom
        )
    if company.calcom_v2_api_key:
        booking_sync = KeyUse(
            _("Booking sync"), "CalcomV2Client", PLAIN_TEXT, fingerprint(company.calcom_v2_api_key),
            _("a key stored in plain text in companies.calcom_v2_api_key (a security finding)"),
        )  # fmt: skip
    else:
        booking_sync = KeyUse(
            _("Booking sync"), "CalcomV2Client", PLATFORM_KEY, None, platform_calcom
        )
    if retell_fp:
        retell_note = _(
            "the company's Retell key (%(fp)s) is only shown as configured, never used"
        ) % {"fp": retell_fp}
    elif retell_problem:
        retell_note = _("companies.retell_api_key %(problem)s") % {"problem": retell_problem}
    else:
        retell_note = platform_retell
    return [
        KeyUse(
            _("Live booking and availability during calls"),
            "CalcomService",
            PLATFORM_KEY,
            None,
            _("always %(platform)s, never a company's key") % {"platform": platform_calcom},
        ),  # fmt: skip
        team_import,
        booking_sync,
        KeyUse(_("Retell calls and agents"), "Retell clients", PLATFORM_KEY, None, retell_note),
    ]


def with_integration_state(companies):
    """Annotate `<provider>_health` of each company's active core integration (NULL: none)."""
    annotations = {}
    for provider in CORE_PROVIDERS:
        active = (
            Integration.objects.active()
            .filter(company=OuterRef("pk"), provider=provider)
            .order_by("-id")
        )
        annotations[f"{provider}_health"] = Subquery(active.values("health_status")[:1])
        annotations[f"{provider}_integration_id"] = Subquery(active.values("id")[:1])
    return companies.annotate(**annotations)


__all__ = ["CALCOM", "RETELL", "key_resolution", "with_integration_state"]
