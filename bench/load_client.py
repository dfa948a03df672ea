"""The HTTP side of bench/load.py: sign in through the login form, request pages, count.

Standard library only (http.client, one connection per request as gunicorn's sync workers
close them), loopback only; behind the TLS proxy as production is (``X-Forwarded-Proto:
https``, the CSRF Origin and Referer of https://127.0.0.1:port).
"""

import http.client
import random
import re
import socket
import statistics
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TIMEOUT = 120  # seconds a request may take before it counts as an error
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.3)
    return False


class Session:
    """Cookies of one signed-in user."""

    def __init__(self, base: str):
        self.base = base
        self.host = urlsplit(base).netloc
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        """(status, body, seconds); cookies kept; raises OSError/HTTPException on no answer."""
        parts = urlsplit(self.base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        sent = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "User-Agent": "askpro-bench-load",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            return response.status, data, seconds, response.headers
        finally:
            connection.close()

    def sign_in(self, username: str, password: str) -> None:
        login = "/admin/login/?next=/admin/"
        status, body, _, _ = self.request("GET", login)
        found = CSRF_INPUT.search(body)
        if status != 200 or not found:
            raise RuntimeError(f"login page: status {status}")
        origin = f"https://{self.host}"
        form = urlencode({"csrfmiddlewaretoken": found.group(1).decode(), "username": username,
                          "password": password, "next": "/admin/"}).encode()  # fmt: skip
        status, body, _, headers = self.request("POST", login, form, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin, "Referer": origin + login})  # fmt: skip
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"sign-in of {username}: status {status} {body[:200]!r}")


def sign_in_all(base: str, names: list[str], password: str) -> list[Session]:
    sessions = []
    for name in names:
        session = Session(base)
        session.sign_in(name, password)
        sessions.append(session)
    return sessions


def warm_up(base: str, session: Session, urls: dict[str, str]) -> None:
    for path in urls.values():
        session.request("GET", path, headers={"User-Agent": WARM_UP_AGENT})


WARM_UP_AGENT = "askpro-bench-warm-up"
# gunicorn's access log line for each request (GUNICORN_CMD_ARGS, bench/load.py): the time the
# worker spent on it, without the wait in the queue before a worker took it.
ACCESS_FORMAT = "BENCH %(a)s %(m)s %(U)s %(q)s %(s)s %(D)s"
ACCESS_LINE = re.compile(r"^BENCH (\S+) GET (\S+) (\S*) (\d{3}) (\d+)$")


def server_times(log: str, urls: dict[str, str]) -> dict[str, list[float]]:
    """Seconds in the worker per page, from the access log (the load's requests only)."""
    pages = {path: name for name, path in urls.items()}
    times: dict[str, list[float]] = {}
    for line in log.splitlines():
        found = ACCESS_LINE.match(line.strip())
        if not found or found.group(1) == WARM_UP_AGENT:
            continue
        path = found.group(2) + (f"?{found.group(3)}" if found.group(3) else "")
        if path in pages:
            times.setdefault(pages[path], []).append(int(found.group(5)) / 1e6)
    return times


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_samples: list[str] = []

    def add(self, page: str, seconds: float, error: str = "") -> None:
        with self.lock:
            self.times.setdefault(page, []).append(seconds)
            self.errors.setdefault(page, 0)
            if error:
                self.errors[page] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{page}: {error}")

    def rows(self, server: dict[str, list[float]] | None = None) -> list[dict]:
        rows = []
        for page, times in self.times.items():
            ordered = sorted(times)
            row = {
                "name": page, "requests": len(times), "errors": self.errors[page],
                "p50": round(statistics.median(ordered), 4),
                "p95": round(percentile(ordered, 0.95), 4), "max": round(ordered[-1], 4),
            }  # fmt: skip
            in_worker = sorted((server or {}).get(page, []))
            if in_worker:
                row["server_p50"] = round(statistics.median(in_worker), 4)
                row["server_p95"] = round(percentile(in_worker, 0.95), 4)
                row["server_seconds"] = round(sum(in_worker), 1)
            rows.append(row)
        return sorted(rows, key=lambda r: r["name"])


def user_loop(base, session, urls, weights, number, deadline, stats) -> None:
    """Pages in a fixed pseudo-random order (seeded by the user's number) until the deadline."""
    chooser = random.Random(number)
    names = list(weights)
    while time.monotonic() < deadline:
        page = chooser.choices(names, weights=[weights[n] for n in names])[0]
        started = time.perf_counter()
        try:
            status, body, seconds, _ = session.request("GET", urls[page])
        except (OSError, http.client.HTTPException) as error:
            stats.add(page, time.perf_counter() - started, f"{type(error).__name__}: {error}")
            continue
        error = "" if status == 200 else f"status {status}"
        if not error and b'name="password"' in body and b"id_username" in body:
            error = "signed out (login page)"
        stats.add(page, seconds, error)
