"""Cal.com API v2: does the key work, and does it see the configured event type?

``GET {base}/me`` proves the key; ``GET {base}/event-types/{id}`` with the header
``cal-api-version: 2024-06-14`` proves the event type (semantics.md §2). The event type is only
asked for when the key works: one request per endpoint at most, never a retry.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from integrations_app.providers.base import (
    ERROR,
    HEALTHY,
    OK,
    UNHEALTHY,
    Check,
    ProviderClient,
    ProviderReport,
)
from integrations_app.providers.errors import ProviderError

EVENT_TYPES_API_VERSION = "2024-06-14"
PROVIDER = "Cal.com"
# A list of event types longer than this many pages is not read to its end: a clear error.
MAX_EVENT_TYPE_PAGES = 20
# What an event type in a list must have (Cal.com v2, cal-api-version 2024-06-14).
EVENT_TYPE_FIELDS = {"id": int, "title": str, "slug": str, "lengthInMinutes": int, "hidden": bool}
# The envelope of a list answer: nothing else is expected.
_LIST_KEYS = {"status", "data", "pagination"}


class CalcomClient(ProviderClient):
    provider = PROVIDER
    base_url_setting = "CALCOM_API_BASE_URL"

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float | None = None):
        super().__init__(
            api_key=api_key, base_url=base_url or settings.CALCOM_API_BASE_URL, timeout=timeout
        )

    def me(self) -> dict:
        return _data(self.get_json("/me"), self.provider)

    def event_type(self, event_type_id: int) -> dict:
        not_found = _("event type %(id)s not found for this key") % {"id": event_type_id}
        data = _data(
            self.get_json(
                f"/event-types/{event_type_id}",
                headers={"cal-api-version": EVENT_TYPES_API_VERSION},
                not_found=not_found,
            ),
            self.provider,
        )
        if not data:
            # Cal.com has answered an unknown id with 200 and "data": null.
            raise ProviderError(
                _("%(provider)s: %(reason)s") % {"provider": PROVIDER, "reason": not_found}
            )
        return data

    def event_types(self, *, team_id: int | None = None) -> list[dict]:
        """Every event type of the team (``GET /teams/{id}/event-types``) or, without a team,
        of the key's user (``GET /event-types``), following ``pagination`` to its end.

        Each event type is checked for the fields the comparison reads (`EVENT_TYPE_FIELDS`);
        an answer of another shape, or more than `MAX_EVENT_TYPE_PAGES` pages, is a
        ProviderError with a clear message, never a partial list.
        """
        path = f"/teams/{int(team_id)}/event-types" if team_id else "/event-types"
        items: list[dict] = []
        query = ""
        for _page in range(MAX_EVENT_TYPE_PAGES):
            answer = self.get_json(
                path + query, headers={"cal-api-version": EVENT_TYPES_API_VERSION}
            )
            page, more = _event_type_page(answer, path)
            items.extend(page)
            if not more:
                return items
            if not page:
                raise ProviderError(
                    _("%(provider)s: %(path)s announced a next page after an empty one")
                    % {"provider": PROVIDER, "path": path}
                )
            query = f"?take={len(page)}&skip={len(items)}"
        raise ProviderError(
            _("%(provider)s: %(path)s did not end after %(pages)s pages; nothing was read")
            % {"provider": PROVIDER, "path": path, "pages": MAX_EVENT_TYPE_PAGES}
        )


def _event_type_page(answer, path: str) -> tuple[list[dict], bool]:
    """(the event types of one list answer, whether another page follows)."""
    values = {"provider": PROVIDER, "path": path}
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise ProviderError(
            _("%(provider)s: the answer of %(path)s has no list of event types") % values
        )
    if answer.get("status") != "success":
        raise ProviderError(_("%(provider)s: %(path)s answered without success") % values)
    extra = sorted(set(answer) - _LIST_KEYS)
    if extra:
        raise ProviderError(
            _("%(provider)s: the answer of %(path)s has unexpected fields: %(fields)s")
            % {**values, "fields": ", ".join(extra)}
        )
    for item in answer["data"]:
        if not isinstance(item, dict):
            raise ProviderError(
                _("%(provider)s: an event type in %(path)s is not an object") % values
            )
        wrong = [
            name
            for name, kind in EVENT_TYPE_FIELDS.items()
            if not isinstance(item.get(name), kind)
            or (kind is int and isinstance(item.get(name), bool))
        ]
        if wrong:
            raise ProviderError(
                _(
                    "%(provider)s: event type %(id)s in %(path)s lacks or mistypes the "
                    "fields %(fields)s"
                )
                % {**values, "id": item.get("id", "?"), "fields": ", ".join(wrong)}
            )
    pagination = answer.get("pagination")
    more = isinstance(pagination, dict) and pagination.get("hasNextPage") is True
    return answer["data"], more


def _data(answer, provider: str) -> dict:
    """The ``data`` object of a Cal.com answer ``{"status": "success", "data": {...}}``."""
    if not isinstance(answer, dict):
        raise ProviderError(
            _("%(provider)s answered with JSON of an unexpected shape") % {"provider": provider}
        )
    if answer.get("status") == "error":
        raise ProviderError(
            _("%(provider)s answered with an error status") % {"provider": provider}
        )
    data = answer.get("data", answer)
    return data if isinstance(data, dict) else {}


def run_checks(*, api_key: str, event_type_id: int) -> ProviderReport:
    key_label = _("API key")
    event_label = _("event type")
    with CalcomClient(api_key=api_key) as client:
        try:
            me = client.me()
        except ProviderError as error:
            return ProviderReport(UNHEALTHY, 0, (Check("me", key_label, ERROR, error.message),))
        who = me.get("username") or me.get("email") or me.get("id")
        key_check = Check(
            "me",
            key_label,
            OK,
            _("the API key works (Cal.com user %(user)s)") % {"user": who}
            if who
            else _("the API key works"),
        )
        try:
            event = client.event_type(event_type_id)
        except ProviderError as error:
            return ProviderReport(
                UNHEALTHY, 25, (key_check, Check("event_type", event_label, ERROR, error.message))
            )
    title = event.get("title") or event.get("slug")
    event_check = Check(
        "event_type",
        event_label,
        OK,
        _("event type %(id)s found (%(title)s)") % {"id": event_type_id, "title": title}
        if title
        else _("event type %(id)s found") % {"id": event_type_id},
    )
    return ProviderReport(HEALTHY, 100, (key_check, event_check))
