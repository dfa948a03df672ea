"""The audit alerts' settings from the environment (read by settings.py, checked at start-up).

``AUDIT_ALERT_THRESHOLDS="phone_coverage:50,branch_coverage:80"``: measure key -> minimum percent.
``AUDIT_ALERT_RECIPIENTS="ops@example.org:en,chef@example.org"``: addresses that get the alert
besides the Manager group, each with an optional language; a Manager's own address named here with
a language gets the alert in that language. ``EMAIL_URL`` (django-environ's form, e.g.
``smtp+tls://user:password@mail.example.org:587``) sets Django's EMAIL_* settings.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

from askpro_console.config import SUPPORTED_LANGUAGES, ConfigError, Settings


def thresholds(env: Settings, name: str = "AUDIT_ALERT_THRESHOLDS") -> dict[str, float]:
    found = {}
    for part in (p.strip() for p in env.string(name).split(",")):
        if not part:
            continue
        key, _colon, raw = part.partition(":")
        try:
            value = float(raw.strip())
        except ValueError:
            value = -1.0
        if not key.strip() or not 0 <= value <= 100:
            raise ConfigError(
                env._("%(name)s: %(value)r is not measure:percent (a percent from 0 to 100)")
                % {"name": name, "value": part}
            )
        found[key.strip()] = value
    return found


def recipients(env: Settings, name: str = "AUDIT_ALERT_RECIPIENTS") -> dict[str, str]:
    """{address: language}; the language is "" when the entry names none (LANGUAGE_CODE then)."""
    found = {}
    for part in (p.strip() for p in env.string(name).split(",")):
        if not part:
            continue
        address, language = part, ""
        if ":" in part:
            address, _colon, language = part.rpartition(":")
            language = language.strip().lower()
            address = address.strip()
        if language and language not in SUPPORTED_LANGUAGES or "@" not in address:
            raise ConfigError(
                env._("%(name)s: %(value)r is not address[:de|en]") % {"name": name, "value": part}
            )
        found[address] = language
    return found


def email(env: Settings, default_url: str) -> dict:
    """Django's EMAIL_* settings from EMAIL_URL (or ``default_url``)."""
    url = env.string("EMAIL_URL") or default_url
    try:
        config = environ.Env.email_url_config(url)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        raise ConfigError(f"EMAIL_URL: {exc}") from exc
    # Unset parts keep Django's defaults (EMAIL_HOST "localhost", no user, ...).
    return {key: value for key, value in config.items() if value not in (None, "")}
