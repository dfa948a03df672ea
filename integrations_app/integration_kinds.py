"""The kinds of integration the gateway knows, as the console writes them into `integrations`.

`provider` holds the lowercase key (semantics.md §4); `type` is NOT NULL in the gateway.
Cal.com and Retell have their own forms; the others are edited generically.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    provider: str
    type: str
    name: str
    label: str


CALCOM = Kind("calcom", "calendar", "Cal.com", _("Cal.com (appointment booking)"))
RETELL = Kind("retell", "telephony", "Retell AI", _("Retell AI (phone agent)"))
WEBHOOK = Kind("webhook", "webhook", "Webhook", _("Webhook"))
API = Kind("api", "api", "API", _("API"))
OAUTH2 = Kind("oauth2", "oauth2", "OAuth 2", _("OAuth 2"))

KINDS = {kind.provider: kind for kind in (CALCOM, RETELL, WEBHOOK, API, OAUTH2)}
CORE_PROVIDERS = (CALCOM.provider, RETELL.provider)

# The environments the console offers for an integration (every form reads this; their labels
# are in labels.py). A row the gateway wrote with another keeps its own value as a choice.
ENVIRONMENTS = ("production", "staging", "test")
DEFAULT_ENVIRONMENT = ENVIRONMENTS[0]

# What the console keeps in integrations.config (never a secret):
#   calcom: {"event_type_id": int, "team_slug": str | None, "team_id": int | None}
#   retell: {"agent_id": str}
CONFIG_EVENT_TYPE_ID = "event_type_id"
CONFIG_TEAM_SLUG = "team_slug"
CONFIG_TEAM_ID = "team_id"
CONFIG_AGENT_ID = "agent_id"
