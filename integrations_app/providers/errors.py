"""A provider's failures in plain words, and never a key in them (providers/base.py raises them).

`ProviderError` carries the message, the HTTP status and the cause (address, network, key,
provider) that tells a person what to check; `transport_error` and `not_json_error` build it
from what went wrong. `scrub` and `redact_key` take out of any provider text whatever looks like
a key or a bearer token, and the client's own key in every form (`KEY_FRAGMENT_CHARS`).
"""

import re

import httpx
from django.utils.translation import gettext as _

# Provider text longer than this is cut (at a word) before it is scrubbed: scrubbing stays bounded.
SCRUB_CHARS = 4000
# A run of this many characters taken from the key is treated as the key.
KEY_FRAGMENT_CHARS = 8
REDACTED = "[redacted]"
# The prefixes of the providers' keys (Cal.com ``cal_``, Retell ``key_``).
KEY_PREFIXES = ("cal_", "key_")

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


def cause_of_status(status: int, not_found: str | None) -> str | None:
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
