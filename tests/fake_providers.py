"""A fake provider API: a real HTTP server on 127.0.0.1, in a background thread.

Each test says what a path answers (status, JSON or raw body, a delay) and afterwards reads
what the server received (path, headers), so it can prove which key was sent and that nothing
was retried. Paths without an answer get 404 with a JSON error.

    with FakeProvider() as server:
        server.answer("/v2/me", json={"status": "success", "data": {}})
        settings.CALCOM_API_BASE_URL = server.url + "/v2"
"""

import json
import logging
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from integrations_app.crypto.encrypter import Encrypter
from integrations_app.models import Company, Integration, PhoneNumber


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    query: str = ""  # the query string, without "?"
    body: bytes = b""  # what a PATCH sent


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    # Many clients at once (a bulk connection test): the default backlog of 5 would drop them.
    request_queue_size = 256


@dataclass
class FakeProvider:
    answers: dict[str, Answer] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    # Added to every GET's own delay: a provider's realistic latency, in seconds.
    latency: float = 0.0
    # The most GETs it was answering at the same moment (proof that a client asks concurrently).
    max_in_flight: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._in_flight = 0
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- set up ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(
        self,
        path: str,
        *,
        status: int = 200,
        json: object = None,
        body: str | bytes | None = None,
        content_type: str = "application/json",
        delay: float = 0.0,
    ) -> None:
        """What GET ``path`` answers: ``json`` (serialized) or a raw ``body``."""
        if body is None:
            data = _json_bytes(json)
        else:
            data = body.encode() if isinstance(body, str) else body
        self.answers[path] = Answer(status, data, content_type, delay)

    # -- what was received -----------------------------------------------------------------

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def counts(self) -> Counter:
        with self._lock:
            return Counter(r.path for r in self.received)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> "FakeProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are still delaying
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakeProvider":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @contextmanager
    def _counting(self):
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _record(self, request: Received) -> Answer | None:
        with self._lock:
            self.received.append(request)
            if request.query and f"{request.path}?{request.query}" in self.answers:
                return self.answers[f"{request.path}?{request.query}"]
            return self.answers.get(request.path)


def _json_bytes(value) -> bytes:
    return json.dumps(value).encode()


def _handler_for(provider: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            received = Received(
                "GET",
                urlsplit(self.path).path,
                {name.lower(): value for name, value in self.headers.items()},
                urlsplit(self.path).query,
            )
            answer = provider._record(received) or Answer(
                404, _json_bytes({"message": f"no fake answer for {received.path}"})
            )
            delay = answer.delay + provider.latency
            with provider._counting():
                if delay and provider._stopping.wait(delay):
                    return
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def do_PATCH(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            received = Received(
                "PATCH",
                urlsplit(self.path).path,
                {name.lower(): value for name, value in self.headers.items()},
                urlsplit(self.path).query,
                self.rfile.read(length) if length else b"",
            )
            answer = provider._record(received) or Answer(
                404, _json_bytes({"message": f"no fake answer for {received.path}"})
            )
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
            pass

    return Handler


# -- both providers, pointed at by the settings ----------------------------------------------


@dataclass
class Providers:
    calcom: FakeProvider
    retell: FakeProvider

    def counts(self) -> Counter:
        return self.calcom.counts() + self.retell.counts()


@contextmanager
def serving(settings, *, timeout: float = 2.0):
    """A fake Cal.com and a fake Retell; the settings point at them for this test."""
    with FakeProvider() as calcom_server, FakeProvider() as retell_server:
        settings.CALCOM_API_BASE_URL = calcom_server.url + "/v2"
        settings.RETELL_API_BASE_URL = retell_server.url
        settings.PROVIDER_TIMEOUT_SECONDS = timeout
        yield Providers(calcom_server, retell_server)


# -- what the providers answer when all is well ----------------------------------------------

CAL_CANARY = "cal_test_canary_5f2c9e1a7b3d"
RETELL_CANARY = "key_test_canary_8d41b07e3c6a"
EVENT_TYPE_ID = 4711
AGENT_ID = "agent_test_0001"
OTHER_AGENT_ID = "agent_test_0002"
NUMBERS = ("+49301000001", "+49301000002", "+49301000003")

ME = {"status": "success", "data": {"id": 17, "username": "praxis-test"}}
EVENT_TYPE = {"status": "success", "data": {"id": EVENT_TYPE_ID, "title": "Beratung 30 min"}}
AGENT = {"agent_id": AGENT_ID, "agent_name": "Praxis Empfang"}


def calcom_ok(server: FakeProvider) -> None:
    server.answer("/v2/me", json=ME)
    server.answer(f"/v2/event-types/{EVENT_TYPE_ID}", json=EVENT_TYPE)


def cal_event_type(
    event_type_id: int, title: str, length: int = 30, *, hidden: bool = False, **fields
) -> dict:
    """One event type as Cal.com v2 lists it (cal-api-version 2024-06-14)."""
    return {
        "id": event_type_id,
        "title": title,
        "slug": title.lower().replace(" ", "-"),
        "lengthInMinutes": length,
        "hidden": hidden,
        "description": None,
        "price": 0,
        "scheduleId": None,
        "minimumBookingNotice": 120,
        "beforeEventBuffer": 0,
        "afterEventBuffer": 0,
        "locations": [],
        "metadata": {},
        "bookingFields": [],
        **fields,
    }


def calcom_event_types(server: FakeProvider, items, *, team_id=None, per_page=None) -> str:
    """What the event-type list answers: ``items`` in pages of ``per_page`` (with Cal.com's
    ``pagination`` object, ``take``/``skip`` in the query), or all on one page. Its path."""
    path = f"/v2/teams/{team_id}/event-types" if team_id else "/v2/event-types"
    items = list(items)
    if not per_page:
        server.answer(path, json={"status": "success", "data": items})
        return path
    for skip in range(0, max(len(items), 1), per_page):
        page = items[skip : skip + per_page]
        more = skip + per_page < len(items)
        answer = {
            "status": "success",
            "data": page,
            "pagination": {
                "totalItems": len(items),
                "returnedItems": len(page),
                "itemsPerPage": per_page,
                "currentPage": skip // per_page + 1,
                "hasNextPage": more,
                "hasPreviousPage": skip > 0,
            },
        }
        server.answer(path if skip == 0 else f"{path}?take={per_page}&skip={skip}", json=answer)
    return path


def retell_ok(server: FakeProvider, numbers=NUMBERS, agent_id: str = AGENT_ID) -> None:
    server.answer(f"/get-agent/{AGENT_ID}", json=AGENT)
    server.answer(
        "/v2/list-phone-numbers",
        json=[{"phone_number": n, "inbound_agent_id": agent_id} for n in numbers],
    )


def retell_number(number: str, agents=(), *, deprecated: bool = False, **fields) -> dict:
    """One item of Retell's list (and of get-phone-number): ``inbound_agents``
    [{agent_id, agent_version, weight}], or with ``deprecated`` only ``inbound_agent_id``."""
    item = {
        "phone_number": number,
        "phone_number_type": "retell-twilio",
        "phone_number_pretty": number,
        "nickname": None,
        "area_code": None,
        "last_modification_timestamp": 1767225600000,
        **fields,
    }
    agents = list(agents)
    if deprecated:
        item["inbound_agent_id"] = agents[0] if agents else None
        item["inbound_agent_version"] = 1 if agents else None
    else:
        weight = 1 / len(agents) if agents else 0
        item["inbound_agents"] = [
            {"agent_id": a, "agent_version": 1, "weight": weight} for a in agents
        ]
    return item


def retell_numbers(server: FakeProvider, items, *, per_page=None, limit: int = 1000) -> None:
    """What ``GET /v2/list-phone-numbers`` answers: ``items`` in pages of ``per_page`` (an object
    with ``pagination_key``, the last number of the page, and ``has_more``; the next page is
    asked for with ``?limit=…&pagination_key=…``), or all at once as a list. Also answers
    ``GET /get-phone-number/{number}`` for each item."""
    path = "/v2/list-phone-numbers"
    items = list(items)
    for item in items:
        server.answer(f"/get-phone-number/{item['phone_number']}", json=item)
    if not per_page:
        server.answer(path, json=items)
        return
    key = None
    for start in range(0, max(len(items), 1), per_page):
        page = items[start : start + per_page]
        more = start + per_page < len(items)
        answer = {
            "phone_numbers": page,
            "pagination_key": page[-1]["phone_number"] if more else None,
            "has_more": more,
        }
        query = f"limit={limit}" + (f"&pagination_key={key.replace('+', '%2B')}" if key else "")
        server.answer(f"{path}?{query}" if key else path, json=answer)
        key = page[-1]["phone_number"] if page else None


# -- rows ------------------------------------------------------------------------------------


def make_company(name: str = "Praxis Test", **fields) -> Company:
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    return Company.objects.create(name=name, slug=slug, **fields)


def make_numbers(company: Company, numbers=NUMBERS) -> list[PhoneNumber]:
    return [
        PhoneNumber.objects.create(company=company, number=n, number_normalized=n, phone_number=n)
        for n in numbers
    ]


def make_integration(
    company: Company | None,
    kind: str,
    *,
    secret: str | None = None,
    config: dict | None = None,
    api_key: str | None = None,
    **fields,
) -> Integration:
    """An integrations row as the console writes it; needs the `gateway_key` fixture.

    ``kind`` (calcom or retell) picks the defaults; ``fields`` may override any column.
    """
    if kind == "calcom":
        defaults = {"name": "Cal.com", "type": "calendar"}
        config = {"event_type_id": EVENT_TYPE_ID} if config is None else config
        secret = CAL_CANARY if secret is None else secret
    else:
        defaults = {"name": "Retell AI", "type": "telephony"}
        config = {"agent_id": AGENT_ID} if config is None else config
        secret = RETELL_CANARY if secret is None else secret
    if api_key is None and secret:
        api_key = Encrypter.from_settings().encrypt_string(secret)
    return Integration.objects.create(
        company=company,
        config=config,
        api_key=api_key,
        **{"provider": kind, **defaults, **fields},
    )


# -- secrets never leak ----------------------------------------------------------------------


def assert_no_secret(*texts, secrets=(CAL_CANARY, RETELL_CANARY)) -> None:
    """Neither a canary nor its distinctive tail appears in any of the texts."""
    for text in texts:
        text = "" if text is None else str(text)
        for secret in secrets:
            assert secret not in text
            assert secret.split("canary_")[1] not in text


@contextmanager
def all_logs(caplog):
    """Every log record at DEBUG, including the `askpro` loggers (which do not propagate)."""
    askpro = logging.getLogger("askpro")
    askpro.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="askpro"):
            yield caplog
    finally:
        askpro.removeHandler(caplog.handler)


def run_connection_test(integration, logs):
    """(result, the integration row as stored) of one connection test; no secret in any text."""
    from integrations_app import connection_tests
    from integrations_app.models import Integration

    result = connection_tests.test_connection(integration=integration)
    row = Integration.objects.get(pk=integration.pk)
    assert_no_secret(
        result.message,
        *(check.message for check in result.checks),
        row.last_error,
        logs.text,
        *(record.getMessage() for record in logs.records),
    )
    return result, row
