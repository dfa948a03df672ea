"""The gateway's raw values as people read them, declared once (issue 12, point 3).

The gateway stores keys (``inbound``, ``trial``, ``appointment_scheduled``, ``production``);
every page, filter, history and record shows their label in the reader's language through this
module. ``VALUES`` maps ``(table, column)`` to ``{raw value: label}``; a value the gateway
writes that is not declared here is shown as it is, never an error. The model fields of closed
sets (MySQL enums) take their choices from here (``choices``), the admin's list columns,
filters and read-only fields read ``label_of``, the change history ``shown``.

This module imports no model (the models import it).
"""

import datetime
from collections.abc import Mapping

from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

EMPTY = "—"

ACTIVE = {
    "active": _("Active"),
    "inactive": _("Inactive"),
}
SYNC = {
    "synced": _("Synchronised"),
    "pending": pgettext_lazy("sync status", "Pending"),
    "syncing": _("Synchronising"),
    "error": _("Error"),
    "never": _("Never synchronised"),
}
# Retell's call states (call_status) and what the gateway keeps in calls.status.
CALL_STATES = {
    "registered": _("Registered"),
    "ongoing": _("Ongoing"),
    "in_progress": _("In progress"),
    "ended": _("Ended"),
    "completed": pgettext_lazy("call", "Completed"),
    "analyzed": _("Analysed"),
    "error": _("Error"),
    "failed": _("Failed"),
    "not_connected": _("Not connected"),
    "no_answer": _("No answer"),
    "busy": _("Busy"),
    "missed": _("Missed"),
    "cancelled": pgettext_lazy("call", "Cancelled"),
}
CHANNELS = {
    "phone": _("Phone"),
    "email": _("E-mail"),
    "sms": _("SMS"),
    "whatsapp": "WhatsApp",
    "push": _("Push notification"),
    "web": _("Web"),
    "online": _("Online"),
    "in_person": _("In person"),
}
PROVIDERS = {
    "calcom": "Cal.com",
    "retell": "Retell AI",
    "webhook": _("Webhook"),
    "api": _("API"),
    "oauth2": _("OAuth 2"),
}
SOURCES = {
    **{key: CHANNELS[key] for key in ("phone", "online", "email", "web")},
    "app": _("App"),
    "walk_in": _("Walk-in"),
    "calcom": "Cal.com",
    "retell": "Retell AI",
    "retell_auto": _("Retell (automatic)"),
    "manual": _("Manual"),
    "import": _("Import"),
}
LANGUAGES = {"de": _("German"), "en": _("English")}

# companies.industry: a free varchar(50); the values the gateway's onboarding writes.
INDUSTRIES = {
    "healthcare": _("Healthcare"),
    "dental": _("Dental practice"),
    "veterinary": _("Veterinary practice"),
    "beauty": _("Beauty and cosmetics"),
    "wellness": _("Wellness"),
    "fitness": _("Fitness"),
    "legal": _("Legal services"),
    "finance": _("Finance and tax"),
    "automotive": _("Automotive"),
    "education": _("Education"),
    "retail": _("Retail"),
    "other": pgettext_lazy("industry", "Other"),
}
# companies.country: ISO 3166 codes (branches.country holds the country's name as typed).
COUNTRIES = {"DE": _("Germany"), "AT": _("Austria"), "CH": _("Switzerland")}
# branches.country: the German name (its default "Deutschland"); another name stays as it is.
COUNTRY_NAMES = {"Deutschland": COUNTRIES["DE"], "Österreich": COUNTRIES["AT"],
                 "Schweiz": COUNTRIES["CH"]}  # fmt: skip
# Where a phone-number import came from (integrations_app_phoneimport.source).
IMPORT_SOURCES = {
    "admin": _("Import page"),
    "import_export": _("Import page"),
    "command:import_phone_numbers": _("Command import_phone_numbers"),
}

VALUES: dict[tuple[str, str], Mapping[str, object]] = {
    ("companies", "industry"): INDUSTRIES,
    ("companies", "country"): COUNTRIES,
    ("branches", "country"): COUNTRY_NAMES,
    ("companies", "billing_status"): {
        **ACTIVE,
        "trial": _("Trial"),
        "suspended": pgettext_lazy("billing", "Suspended"),
    },
    ("companies", "default_language"): LANGUAGES,
    ("services", "sync_status"): SYNC,
    ("retell_agents", "sync_status"): SYNC,
    ("integrations", "provider"): PROVIDERS,
    ("integrations", "type"): {
        "calendar": _("Calendar"),
        "telephony": _("Telephony"),
        "webhook": _("Webhook"),
        "api": _("API"),
        "oauth2": _("OAuth 2"),
    },
    ("integrations", "status"): {
        **ACTIVE,
        "error": _("Error"),
        "syncing": _("Synchronising"),
        "pending": pgettext_lazy("integration", "Pending"),
        "suspended": pgettext_lazy("integration", "Suspended"),
    },
    ("integrations", "health_status"): {
        "healthy": _("Healthy"),
        "degraded": _("Degraded"),
        "unhealthy": _("Unhealthy"),
        "unknown": _("Not tested"),
    },
    ("integrations", "environment"): {
        "production": _("Production"),
        "staging": _("Staging"),
        "sandbox": _("Sandbox"),
        "development": _("Development"),
        "test": _("Test"),
    },
    ("phone_numbers", "type"): {"direct": _("Direct"), "hotline": _("Hotline")},
    ("calls", "direction"): {"inbound": _("Inbound"), "outbound": _("Outbound")},
    ("calls", "status"): CALL_STATES,
    ("calls", "call_status"): CALL_STATES,
    ("appointments", "status"): {
        "pending": pgettext_lazy("appointment", "Pending"),
        "scheduled": _("Scheduled"),
        "booked": _("Booked"),
        "confirmed": _("Confirmed"),
        "rescheduled": _("Rescheduled"),
        "completed": pgettext_lazy("appointment", "Completed"),
        "cancelled": pgettext_lazy("appointment", "Cancelled"),
        "no_show": _("No-show"),
    },
    ("appointments", "source"): SOURCES,
    ("customers", "status"): {
        **ACTIVE,
        "blocked": _("Blocked"),
        "archived": _("Archived"),
    },
    ("customers", "customer_type"): {"private": _("Private"), "business": _("Business")},
    ("customers", "journey_status"): {
        "initial_contact": _("Initial contact"),
        "lead": _("Lead"),
        "prospect": _("Prospect"),
        "appointment_scheduled": _("Appointment scheduled"),
        "appointment_completed": _("Appointment attended"),
        "customer": _("Customer"),
        "regular": _("Regular customer"),
        "regular_customer": _("Regular customer"),
        "vip": _("VIP"),
        "at_risk": _("At risk"),
        "churned": _("Churned"),
        "lost": _("Lost"),
    },
    ("customers", "source"): SOURCES,
    ("customers", "preferred_language"): LANGUAGES,
    ("customer_interactions", "interaction_type"): {
        "phone_call": _("Phone call"),
        "appointment_booking": _("Appointment booked"),
        "appointment_cancellation": _("Appointment cancelled"),
        "appointment_reschedule": _("Appointment rescheduled"),
        "inquiry": _("Inquiry"),
        "complaint": _("Complaint"),
        "feedback": _("Feedback"),
        "no_show": _("No-show"),
        "walk_in": _("Walk-in"),
        "online_booking": _("Online booking"),
        "sms": _("SMS"),
        "email": _("E-mail"),
        "whatsapp": "WhatsApp",
    },
    ("customer_interactions", "channel"): CHANNELS,
    ("notification_templates", "channel"): CHANNELS,
    # The console's own: where a fix was applied from, a connection test's provider.
    ("audit_app_fixrecord", "source"): {"dashboard": _("Dashboard"), "command": _("Command")},
    ("integrations_app_connectiontestoutcome", "provider"): PROVIDERS,
    ("integrations_app_phoneimport", "source"): IMPORT_SOURCES,
}

# integrations.config's keys (integration_kinds.py): one name each, in the history and in the
# Cal.com/Retell form (admin/credential_forms.py), whose sections name the provider.
CONFIG_KEYS = {
    "event_type_id": _("Event type ID"),
    "team_slug": _("Team slug"),
    "team_id": _("Team ID"),
    "agent_id": _("Agent ID"),
}
# The keys of a JSON column as people read them.
KEYS: dict[tuple[str, str], Mapping[str, object]] = {("integrations", "config"): CONFIG_KEYS}

# A date filter's title where "By …" needs another form of the column's label (German:
# „Nach letzter Synchronisierung“, not „Nach letzte Synchronisierung“): (table, column).
FILTER_TITLES = {
    ("integrations", "last_sync_at"): pgettext_lazy("filter: by …", "last sync"),
    ("customers", "last_call_at"): pgettext_lazy("filter: by …", "last call"),
}

# Columns the gateway names without a label of their own (secrets the console never shows,
# keys it keeps): their label, not "Api key".
COLUMN_LABELS = {
    "id": _("ID"),
    "tenant_id": _("Tenant ID"),
    "api_key": _("API key"),
    "api_secret": _("API secret"),
    "access_token": _("Access token"),
    "refresh_token": _("Refresh token"),
    "webhook_secret": _("Webhook secret"),
    "webhook_signing_secret": _("Webhook signing secret"),
    "credentials": _("Credentials"),
    "google_calendar_credentials": _("Google Calendar credentials"),
    "google_calendar_token": _("Google Calendar token"),
    "google_refresh_token": _("Google refresh token"),
    "outlook_access_token": _("Outlook access token"),
    "outlook_refresh_token": _("Outlook refresh token"),
    "calcom_api_key": _("Cal.com API key"),
    "created_by": _("Created by"),
    "updated_by": _("Updated by"),
    "branch_id": _("Branch"),
}


def labels_of(table: str, column: str) -> Mapping[str, object] | None:
    """The labels of a column's values, or None when its values are shown as they are."""
    return VALUES.get((table, column))


def label_of(table: str, column: str, value) -> str | None:
    """The label of one raw value, or None when the value is not a declared one."""
    labels = VALUES.get((table, column))
    if labels is None or not isinstance(value, str):
        return None
    label = labels.get(value)
    return None if label is None else str(label)


def choices(table: str, column: str, values=None) -> list[tuple[str, object]]:
    """``[(raw, label)]`` for a field's choices or a filter: ``values`` in their order (a
    value without a label keeps its raw text), else every declared value."""
    labels = VALUES.get((table, column), {})
    return [(v, labels.get(v, v)) for v in (labels if values is None else values)]


def yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")


def local_time(value: datetime.datetime, format_name: str = "DATETIME_FORMAT") -> str:
    """A moment in the console's one time zone (settings.TIME_ZONE), in the reader's format."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, format_name)


def readable(value, keys: Mapping[str, object] | None = None) -> str:
    """A JSON object or list as text people read (``key: value, key: value``), not a repr;
    ``keys``: the labels of the object's keys (KEYS), a key without one as it is."""
    if isinstance(value, Mapping):
        if not value:
            return EMPTY
        keys = keys or {}
        return ", ".join(f"{keys.get(key, key)}: {_nested(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_nested(item) for item in value) if value else EMPTY
    return shown(value)


def _nested(value) -> str:
    if isinstance(value, Mapping | list | tuple) and value:
        return f"({readable(value)})"
    return shown(value)


def shown(value, table: str = "", column: str = "") -> str:
    """Any stored value for people: its label, yes/no, a dash for nothing, readable JSON, a
    local time; anything else as it is."""
    if value is None or value == "":
        return EMPTY
    label = label_of(table, column, value)
    if label is not None:
        return label
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime.datetime):
        return local_time(value)
    if isinstance(value, Mapping | list | tuple):
        return readable(value, KEYS.get((table, column)))
    return str(localize(value))


def rows_created(count: int) -> str:
    """ "1 row created" / "3 rows created", in the reader's language."""
    return ngettext("%(count)d row created", "%(count)d rows created", count) % {"count": count}


def rows_changed(count: int) -> str:
    """ "1 row changed" / "3 rows changed", in the reader's language."""
    return ngettext("%(count)d row changed", "%(count)d rows changed", count) % {"count": count}


def quoted(text) -> str:
    """``text`` in the reader's quotation marks: “…” in English, „…“ in German."""
    return pgettext("quotation marks", "“%(text)s”") % {"text": text}
