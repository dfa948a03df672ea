"""What every provider client shares: one GET, its errors in plain words, the report.

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

logger = logging.getLogger("askpro.providers")

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"

OK = "ok"
WARNING = "warning"
ERROR = "error"

EXCERPT_CHARS = 160
# Provider text longer than this is cut (at a word) before it is scrubbed: scrubbing stays bounded.
SCRUB_CHARS = 4000
# A run of this many characters taken from the key is treated as the key.
KEY_FRAGMENT_CHARS = 8
REDACTED = "[redacted]"
# The prefixes of the providers' keys (Cal.com ``cal_``, Retell ``key_``).
KEY_PREFIXES = ("cal_", "key_")
USER_AGENT = "AskPro-Console connection test"
_NOT_JSON = object()
_TAG = re.compile(r"<[^>]*>")

# Anything that looks like a credential, in whatever a provider echoes back (`redact_key`).
# Order matters: a bearer token first, then "api_key: ..." whole, then key-shaped words.
_MASK = r"(?:[*•·…]|\.{2,})"  # what masks a key's middle: cal_****7f3a9c, key_…3c6a
_B64 = r"[A-Za-z0-9+/_\-]"
_SECRET_PATTERNS = (
    re.compile(r"(?i)bearer\s+\S+"),
    re.compile(
        r"(?i)(api[_-]?key|token|secret|password|authorization)([\"']?\s*[:=]\s*[\"']?)"
        r"(?:(?:basic|bearer|token)\s+)?[^\s\"',}]+"
    ),
    # A provider key, whole or masked.
    re.compile(
        rf"(?i)\b(?:cal|key|sk|pk|rk|api|whsec)_(?:[\w\-]*{_MASK}(?:[\w\-]|{_MASK})*|[\w\-]{{4,}})"
    ),
    # A masked key without its prefix: ****7f3a9c, abcd****, …7f3a9c.
    re.compile(r"(?<![\w\-*•])[\w\-]*[*•]{3,}[\w\-]*|…[0-9A-Fa-f]{4,}\b"),
    # A JSON Web Token, a long hex token (32+), or a long base64 one (40+, upper and lower
    # case and digits; not a URL path, which starts with "/").
    re.compile(r"\beyJ[\w\-]+\.[\w\-]+\.[\w\-]*"),
    re.compile(r"\b[0-9A-Fa-f]{32,}\b"),
    re.compile(
        rf"(?<!{_B64})(?=[A-Za-z0-9+_\-])(?={_B64}*[a-z])(?={_B64}*[A-Z])(?={_B64}*[0-9])"
        rf"{_B64}{{40,}}={{0,2}}"
    ),
)


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
ADDRESS = "address"  # the provider's base URL: not found (DNS), nobody listening, a redirect
NETWORK = "network"  # the way there: a timeout, a reset, a TLS failure, a proxy
KEY = "key"  # the key: refused (401) or not allowed (403)
PROVIDER = "provider"  # the provider answered, but not usably (5xx, 429, not JSON)
CAUSES = (ADDRESS, NETWORK, KEY, PROVIDER)

# How the operating system words a failed name lookup and a refused connection (the
# exception's own text is never shown: it may quote the request).
_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo",
    "name resolution",
    "errno -2",
    "errno -3",
    "errno -5",
)
_REFUSED_WORDS = ("connection refused", "errno 111", "errno 61", "actively refused")
_TLS_WORDS = ("ssl", "certificate", "tls")


class ProviderError(Exception):
    """A provider call that did not give a usable answer; `message` is safe to show and store
    and says what to check; `cause` is one of CAUSES (None: a problem of the answer's data)."""

    def __init__(self, message: str, *, status: int | None = None, cause: str | None = None):
        self.message = message
        self.status = status
        self.cause = cause
        super().__init__(message)


def transport_error(
    provider: str, host: str, timeout: float, error: Exception, setting: str
) -> ProviderError:
    """The ProviderError for a call that got no HTTP answer: what failed and what to check
    (``setting``: the environment variable of the provider's base URL, settings.py)."""
    values = {
        "provider": provider,
        "host": host,
        "seconds": seconds_text(timeout),
        "setting": setting,
    }
    if isinstance(error, httpx.TimeoutException):
        return ProviderError(
            _(
                "%(provider)s timed out after %(seconds)s s: check the network between the "
                "console and %(host)s (firewall, proxy) and whether the provider is up"
            )
            % values,
            cause=NETWORK,
        )
    text = str(error).lower()
    if isinstance(error, httpx.ConnectError) and any(w in text for w in _DNS_WORDS):
        message = _(
            "%(provider)s could not be reached (the address %(host)s was not found): check the "
            "base URL in the environment variable %(setting)s and the server's name "
            "resolution (DNS)"
        )
        cause = ADDRESS
    elif isinstance(error, httpx.ConnectError) and any(w in text for w in _REFUSED_WORDS):
        message = _(
            "%(provider)s could not be reached (connection refused by %(host)s): check the "
            "base URL in the environment variable %(setting)s (host and port) and the firewall"
        )
        cause = ADDRESS
    elif any(w in text for w in _TLS_WORDS):
        message = _(
            "%(provider)s could not be reached (the secure connection to %(host)s failed): "
            "check the base URL in the environment variable %(setting)s and any proxy between "
            "the console and the provider"
        )
        cause = NETWORK
    elif isinstance(error, httpx.NetworkError | httpx.ProxyError | httpx.UnsupportedProtocol):
        message = _(
            "%(provider)s could not be reached (%(error)s at %(host)s): check the network "
            "connection (firewall, proxy) and the base URL in the environment variable "
            "%(setting)s"
        )
        cause = NETWORK
    else:
        message = _(
            "%(provider)s gave no valid answer (%(error)s): check the base URL in the "
            "environment variable %(setting)s; if it is right, the provider has a problem"
        )
        cause = PROVIDER
    # Only the exception's type is shown: its text may quote the request.
    return ProviderError(message % {**values, "error": type(error).__name__}, cause=cause)


def not_json_error(provider: str, status: int, setting: str) -> ProviderError:
    return ProviderError(
        _(
            "%(provider)s answered %(status)s, but the answer is not JSON: check that the "
            "base URL in the environment variable %(setting)s points to the provider's API "
            "(not a web page or a proxy's page)"
        )
        % {"provider": provider, "status": status, "setting": setting},
        status=status,
        cause=PROVIDER,
    )


def redact_key(text: str, key: str = "") -> str:
    """`text` without `key` and without anything else shaped like a key: the one place that
    makes a provider's text safe to show and to store.

    The key goes in any form a provider may echo it: the whole key, the key without its
    ``cal_``/``key_`` prefix, or any part of it of `KEY_FRAGMENT_CHARS` or more characters
    (case-insensitive). Then every key-shaped word, the given key's or another's: a provider key
    whole or masked (``cal_****7f3a9c``, ``key_…3c6a``), ``Bearer`` values, ``api_key=...``
    pairs, long hex and base64 tokens (`_SECRET_PATTERNS`).

    Bounded: every window of `KEY_FRAGMENT_CHARS` characters of the key is looked for with
    ``str.find`` (keys are short, texts are capped), the characters found are marked, and each
    run of marked characters becomes one ``[redacted]``; the patterns do not backtrack.
    """
    if not text:
        return text
    text = _without_key(text, key) if key else text
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(r"\1\2[redacted]", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def _without_key(text: str, key: str) -> str:
    lowered, low_key = text.lower(), key.lower()
    marked = bytearray(len(text))
    forms = {low_key}
    for prefix in KEY_PREFIXES:
        if low_key.startswith(prefix) and len(low_key) > len(prefix):
            forms.add(low_key[len(prefix) :])
    needles = set(forms)  # whole forms, even when shorter than a fragment
    width = KEY_FRAGMENT_CHARS
    needles.update(low_key[i : i + width] for i in range(len(low_key) - width + 1))
    for needle in needles:
        start = lowered.find(needle)
        while start != -1:
            marked[start : start + len(needle)] = b"\x01" * len(needle)
            start = lowered.find(needle, start + 1)
    if not any(marked):
        return text
    parts, i = [], 0
    while i < len(text):
        if marked[i]:
            while i < len(text) and marked[i]:
                i += 1
            parts.append(REDACTED)
        else:
            j = i
            while j < len(text) and not marked[j]:
                j += 1
            parts.append(text[i:j])
            i = j
    return "".join(parts)


def scrub(text: str, *secrets: str) -> str:
    """`redact_key` for several secrets (or none): without each of them and without anything
    shaped like a key or token."""
    for secret in secrets or ("",):
        text = redact_key(text, secret)
    return text


def _cause_of_status(status: int, not_found: str | None) -> str | None:
    """What an HTTP status asks to check (None: a 404 for a configured id, the data's problem)."""
    if status in (401, 403):
        return KEY
    if status == 404:
        return None if not_found else ADDRESS
    if 300 <= status < 400:
        return ADDRESS
    return PROVIDER


def seconds_text(seconds: float) -> str:
    return f"{seconds:g}"


def key_problem(api_key: str) -> str | None:
    """Why a key cannot be sent in an HTTP header (spaces, line breaks, non-ASCII), or None."""
    if not api_key:
        return _("the API key is empty")
    if not api_key.isascii() or not api_key.isprintable() or any(c.isspace() for c in api_key):
        return _("the API key contains spaces, line breaks or non-ASCII characters")
    return None


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
            cause=_cause_of_status(status, not_found),
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
