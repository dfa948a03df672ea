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
    """One moment of the gateway's work and the key it will use for a company now
    (semantics.md §2): said in the user's words, with the engineers' names as the detail."""

    path: Promise  # when: what happens on a call or a booking
    effect: Promise | str  # which key, and what that means
    uses: str  # COMPANY_KEY, PLATFORM_KEY, UNREADABLE (falls back), PLAIN_TEXT, UNKNOWN
    fingerprint: str | None
    detail: Promise | str  # the gateway class, the column and the environment variable


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


CALCOM_ENV = "CALCOM_API_KEY"
RETELL_ENV = "RETELLAI_API_KEY (RETELL_TOKEN)"


def _detail(code: str, column: str | None, env: str) -> str:
    if column is None:
        return _("%(code)s · environment variable %(env)s") % {"code": code, "env": env}
    return _("%(code)s · column %(column)s, else environment variable %(env)s") % {
        "code": code, "column": column, "env": env,
    }  # fmt: skip


def _team_import(encrypter, company) -> KeyUse:
    path = _("Importing the company's Cal.com team and event types (as services)")
    detail = _detail("CalcomV2Service", "companies.calcom_api_key", CALCOM_ENV)
    calcom_fp, problem = _read_company_key(encrypter, company.calcom_api_key)
    if calcom_fp:
        return KeyUse(path, _("This company's own Cal.com key."), COMPANY_KEY, calcom_fp, detail)
    if problem and encrypter is None:
        effect = _(
            "A key is stored, but the console cannot check it (GATEWAY_APP_KEY is not set or "
            "malformed)."
        )
        return KeyUse(path, effect, UNKNOWN, None, detail)
    if problem:
        effect = _(
            "A key is stored but cannot be opened (%(problem)s): the import silently uses "
            "AskPro's shared Cal.com account instead, with only a warning in the gateway's log."
        ) % {"problem": problem}
        return KeyUse(path, effect, UNREADABLE, None, detail)
    effect = _(
        "AskPro's shared Cal.com account (the platform key): this company has no Cal.com key "
        "of its own."
    )
    return KeyUse(path, effect, PLATFORM_KEY, None, detail)


def _booking_sync(company) -> KeyUse:
    path = _("Synchronising the bookings with Cal.com afterwards")
    detail = _detail("CalcomV2Client", "companies.calcom_v2_api_key", CALCOM_ENV)
    if company.calcom_v2_api_key:
        effect = _(
            "A key stored unencrypted for this company: it is used, but plain text in the "
            "database is a security finding."
        )
        return KeyUse(path, effect, PLAIN_TEXT, fingerprint(company.calcom_v2_api_key), detail)
    effect = _(
        "AskPro's shared Cal.com account (the platform key), even when the company has a "
        "Cal.com key of its own."
    )
    return KeyUse(path, effect, PLATFORM_KEY, None, detail)


def _retell(encrypter, company) -> KeyUse:
    retell_fp, problem = _read_company_key(encrypter, company.retell_api_key)
    effect = _("Always AskPro's shared Retell account (the platform key).")
    if retell_fp:
        effect = _(
            "Always AskPro's shared Retell account (the platform key). This company's Retell "
            "key (%(fp)s) is only shown as “configured” in the gateway, never used."
        ) % {"fp": retell_fp}
    elif problem:
        effect = _(
            "Always AskPro's shared Retell account (the platform key). This company's stored "
            "Retell key %(problem)s; it would not be used anyway."
        ) % {"problem": problem}
    detail = _("%(code)s · environment variable %(env)s; column %(column)s only displayed") % {
        "code": _("every Retell client"), "env": RETELL_ENV, "column": "companies.retell_api_key",
    }  # fmt: skip
    return KeyUse(_("Phone calls and the agents on Retell"), effect, PLATFORM_KEY, None, detail)


def key_resolution(company: Company) -> list[KeyUse]:
    """What happens with which key, for each moment of the gateway's work (semantics.md §2)."""
    try:
        encrypter = Encrypter.from_settings()
    except GatewayKeyError:
        encrypter = None
    during_call = KeyUse(
        _("During a call: checking free times and booking an appointment"),
        _("Always AskPro's shared Cal.com account (the platform key); this company's own key "
          "is never used here."),
        PLATFORM_KEY, None, _detail("CalcomService", None, CALCOM_ENV),
    )  # fmt: skip
    return [
        during_call,
        _team_import(encrypter, company),
        _booking_sync(company),
        _retell(encrypter, company),
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
