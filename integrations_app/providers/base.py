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


class ProviderError(Exception):
    """A provider call that did not give a usable answer; `message` is safe to show and store."""

    def __init__(self, message: str, *, status: int | None = None):
        self.message = message
        self.status = status
        super().__init__(message)


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
        except httpx.TimeoutException:
            raise ProviderError(
                _("%(provider)s timed out after %(seconds)s s")
                % {"provider": self.provider, "seconds": seconds_text(self.timeout)}
            ) from None
        except httpx.HTTPError as error:
            # The exception's text may quote the request; only its type is shown.
            raise ProviderError(
                _("%(provider)s could not be reached (%(error)s)")
                % {"provider": self.provider, "error": type(error).__name__}
            ) from None
        status = response.status_code
        logger.debug("%s GET %s answered %s", self.provider, path, status)
        if not 200 <= status < 300:
            raise ProviderError(
                self._status_message(status, path, response, not_found), status=status
            )
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                _("%(provider)s answered %(status)s, but the answer is not JSON")
                % {"provider": self.provider, "status": status},
                status=status,
            ) from None

    def _status_message(
        self, status: int, path: str, response: httpx.Response, not_found: str | None
    ) -> str:
        values = {"provider": self.provider, "status": status, "path": path}
        if status == 401:
            message = _("%(provider)s answered 401: the API key was refused") % values
        elif status == 403:
            message = _("%(provider)s answered 403: the API key is not allowed to do this") % values
        elif status == 404 and not_found:
            message = _("%(provider)s answered 404: %(reason)s") % {**values, "reason": not_found}
        elif status == 404:
            message = (
                _("%(provider)s answered 404 for %(path)s: check the provider's base URL") % values
            )
        elif status == 429:
            message = _("%(provider)s answered 429: too many requests, try again later") % values
        elif status >= 500:
            message = (
                _("%(provider)s answered %(status)s: an error on the provider's side") % values
            )
        elif 300 <= status < 400:
            message = (
                _("%(provider)s answered %(status)s (a redirect): check the provider's base URL")
                % values
            )
        else:
            message = _("%(provider)s answered %(status)s") % values
        excerpt = self._excerpt(response)
        if excerpt:
            message = _("%(message)s (the provider says: %(excerpt)s)") % {
                "message": message,
                "excerpt": excerpt,
            }
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
