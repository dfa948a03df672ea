"""What every provider client shares: one GET, its errors in plain words (providers/errors.py),
the report.

No retries (httpx's transport retries nothing by default and is told so), no redirects, one
short timeout from ``settings.PROVIDER_TIMEOUT_SECONDS``. Every failure becomes a
`ProviderError` whose message names the provider, the status and what it means, never the key:
excerpts of a provider's error body are cut short and scrubbed of anything that looks like a
key or a bearer token. A client also redacts the key it was given from every ProviderError
its public methods raise: the whole key, the key without its ``cal_``/``key_`` prefix, and any
part of it of `KEY_FRAGMENT_CHARS` or more characters (`redact_key`).
"""

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from integrations_app.providers.errors import (
    SCRUB_CHARS,
    ProviderError,
    cause_of_status,
    not_json_error,
    redact_key,
    scrub,
    transport_error,
)

logger = logging.getLogger("askpro.providers")

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"

OK = "ok"
WARNING = "warning"
ERROR = "error"

EXCERPT_CHARS = 160
USER_AGENT = "AskPro-Console connection test"
_NOT_JSON = object()
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Check:
    """One check of a connection test: `name` is stable (``me``, ``event_type``, ``agent``,
    ``phone_numbers``, ``config``, ``key``), `label` and `message` are translated text."""

    name: str
    label: str
    severity: str  # OK, WARNING or ERROR
    message: str

    @property
    def ok(self) -> bool:
        return self.severity == OK


@dataclass(frozen=True)
class ProviderReport:
    """The outcome of one provider's checks: health status, a 0-100 score and every check."""

    status: str  # HEALTHY, DEGRADED or UNHEALTHY
    score: int
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)


# What a failed call asks the user to check (ProviderError.cause): stable codes.
@functools.cache
def _tls_context():
    """One TLS context (certifi's CAs, verified) for every client: building one loads the CA
    bundle, about 25 ms of CPU, which a bulk test of thousands of integrations would pay each
    time. A context may be shared by any number of connections and threads."""
    return httpx.create_ssl_context()


def _redacting(method):
    """`method` of a client, but a ProviderError it raises has the client's key redacted."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ProviderError as error:
            self._redact(error)
            raise

    wrapper._redacting = True
    return wrapper


class ProviderClient:
    """A JSON client for one provider and one key; use it as a context manager.

    Every public method (of this class and of each subclass) goes through `_redacting`: a
    ProviderError leaving the client never carries the key, whatever the provider echoed and
    wherever the message was built.
    """

    provider = ""  # the name shown in messages, e.g. "Cal.com"
    # The environment variable of the provider's base URL (askpro_console/settings.py), named
    # where a failure asks to check the address.
    base_url_setting = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if (
                not name.startswith("_")
                and callable(value)
                and not isinstance(value, (staticmethod, classmethod, type))
                and not getattr(value, "_redacting", False)
            ):
                setattr(cls, name, _redacting(value))

    def _redact(self, error: ProviderError) -> None:
        """Redact this client's key from `error`'s message, in place."""
        message = redact_key(error.message, self._api_key)
        if message != error.message:
            error.message = message
            error.args = (message,)

    def __init__(self, *, api_key: str, base_url: str, timeout: float | None = None):
        self._api_key = api_key
        self.timeout = float(timeout if timeout is not None else settings.PROVIDER_TIMEOUT_SECONDS)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            verify=_tls_context(),
            transport=httpx.HTTPTransport(retries=0, verify=_tls_context()),
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        self._client.close()

    @_redacting
    def get_json(
        self, path: str, *, headers: dict | None = None, not_found: str | None = None
    ) -> Any:
        """GET ``path`` once and return the parsed JSON; ProviderError for anything else.

        ``not_found`` is the message for a 404 (e.g. "agent X not found for this key").
        """
        try:
            response = self._client.get(path, headers=headers)
        except httpx.HTTPError as error:
            raise self._transport_error(error) from None
        status = response.status_code
        logger.debug("%s GET %s answered %s", self.provider, path, status)
        if not 200 <= status < 300:
            raise self._status_error(status, path, response, not_found)
        try:
            return response.json()
        except ValueError:
            raise not_json_error(self.provider, status, self.base_url_setting) from None

    def _transport_error(self, error: Exception) -> ProviderError:
        host = self._client.base_url.netloc.decode("ascii")
        return transport_error(self.provider, host, self.timeout, error, self.base_url_setting)

    def _status_error(
        self, status: int, path: str, response: httpx.Response, not_found: str | None
    ) -> ProviderError:
        return ProviderError(
            self._status_message(status, path, response, not_found),
            status=status,
            cause=cause_of_status(status, not_found),
        )

    def _status_message(
        self, status: int, path: str, response: httpx.Response, not_found: str | None
    ) -> str:
        values = {
            "provider": self.provider,
            "status": status,
            "path": path,
            "setting": self.base_url_setting,
        }
        check = ""
        if status == 401:
            message = _("%(provider)s answered 401: the API key was refused") % values
            check = _(
                "Check the key stored for the integration: mistyped, revoked, or of another "
                "account."
            )
        elif status == 403:
            message = _("%(provider)s answered 403: the API key is not allowed to do this") % values
            check = _("Check the key's permissions at the provider and that it is the company's.")
        elif status == 404 and not_found:
            message = _("%(provider)s answered 404: %(reason)s") % {**values, "reason": not_found}
        elif status == 404:
            message = (
                _(
                    "%(provider)s answered 404 for %(path)s: check the base URL in the "
                    "environment variable %(setting)s"
                )
                % values
            )
        elif status == 429:
            message = _("%(provider)s answered 429: too many requests, try again later") % values
        elif status >= 500:
            message = (
                _("%(provider)s answered %(status)s: an error on the provider's side") % values
            )
            check = _("Try again later; if it persists, check the provider's status page.")
        elif 300 <= status < 400:
            message = (
                _(
                    "%(provider)s answered %(status)s (a redirect): check the base URL in the "
                    "environment variable %(setting)s"
                )
                % values
            )
        else:
            message = _("%(provider)s answered %(status)s") % values
            check = (
                _(
                    "An unexpected answer: check the base URL in the environment variable "
                    "%(setting)s."
                )
                % values
            )
        excerpt = self._excerpt(response)
        if excerpt:
            message = _("%(message)s (the provider says: %(excerpt)s)") % {
                "message": message,
                "excerpt": excerpt,
            }
        if check:
            message = f"{message}. {check}"
        return redact_key(message, self._api_key)

    def _excerpt(self, response: httpx.Response) -> str:
        """A short, scrubbed excerpt of the provider's own error message."""
        text = ""
        try:
            data = response.json()
        except ValueError:
            data = _NOT_JSON
        if data is _NOT_JSON:
            text = _TAG.sub(" ", response.text)  # an HTML error page: its words only
        elif isinstance(data, dict):
            error = data.get("error")
            if isinstance(error, dict):
                text = error.get("message") or error.get("code") or ""
            elif isinstance(error, str):
                text = error
            text = text or data.get("message") or data.get("detail") or ""
            if not isinstance(text, str):
                text = str(text)
        text = " ".join(text.split())
        if not text:
            return ""
        if len(text) > SCRUB_CHARS:
            # Cut at a word before scrubbing (keys have no spaces): no start of a key is left.
            text = text[:SCRUB_CHARS].rsplit(" ", 1)[0]
        # Scrubbed before cutting, so that a cut cannot leave the start of a key behind.
        text = scrub(text, self._api_key)
        if len(text) > EXCERPT_CHARS:
            text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
        return text
