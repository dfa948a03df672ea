"""Benchmark: the bulk connection test of every testable integration, in a real worker
(issue 13, point 4).

    DATABASE_URL=mysql://root@127.0.0.1:3306/askpro_scaled \\
    GATEWAY_APP_KEY=$(cat var/bench/askpro_scaled.key) \\
    GATEWAY_PREVIOUS_KEYS=$(cat var/bench/askpro_scaled.previous-keys) \\
        .venv/bin/python bench/connection_tests.py [--limit N] [--concurrency 16] \\
        [--latency 0.2] [--runs 1]

In this process: a fake Cal.com and a fake Retell on 127.0.0.1 that answer every request as
healthy after ``--latency`` seconds (any event type, any agent, no phone numbers); ``migrate``
(the console's own tables: the job rows); one ``BackgroundJob`` of every testable integration
(active Cal.com/Retell of a live company), or of the first ``--limit``. Then a real worker,
``manage.py db_worker --batch``, with the providers' URLs pointed at the fakes and
``CONNECTION_TEST_CONCURRENCY``, runs it. Measured: the worker's wall time (start-up included)
and the job's own (started -> finished), the requests the fakes answered and how many at once.
The floor is what the latency alone costs at that concurrency: requests x latency / concurrency.

It writes what a connection test writes: every tested integration's health fields, one change
row each, one operation per chunk, the job and its not-healthy outcomes. ``run_section(runs)``
is what bench/write_sections.py calls (DATABASE_URL and the keys in the environment).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

LATENCY = 0.2
CONCURRENCY = 16
_EVENT_TYPE = re.compile(r"^/v2/event-types/(\d+)$")
_AGENT = re.compile(r"^/get-agent/([^/]+)$")


class FakeProviders(ThreadingHTTPServer):
    """Cal.com (``/v2/...``) and Retell on one port, every answer healthy after ``latency``."""

    daemon_threads = True
    request_queue_size = 512  # a worker opens up to CONNECTION_TEST_CONCURRENCY at once

    def __init__(self, latency: float):
        self.latency = latency
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        self.server_close()


def _answer(path: str):
    if path == "/v2/me":
        return {"status": "success", "data": {"id": 1, "username": "bench"}}
    if match := _EVENT_TYPE.match(path):
        return {"status": "success", "data": {"id": int(match[1]), "title": "Beratung"}}
    if match := _AGENT.match(path):
        return {"agent_id": match[1], "agent_name": "Bench agent"}
    if path == "/v2/list-phone-numbers":
        return []
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        with server.lock:
            server.requests += 1
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            time.sleep(server.latency)
        finally:
            with server.lock:
                server.in_flight -= 1
        answer = _answer(self.path.split("?", 1)[0])
        body = json.dumps(answer if answer is not None else {"message": "not found"}).encode()
        self.send_response(200 if answer is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def measure(*, limit: int | None = None, concurrency: int = CONCURRENCY, latency: float = LATENCY):
    """One job of every testable integration (or the first ``limit``), run by a real worker."""
    _setup_django()
    from django.core.management import call_command

    from integrations_app import connection_test_jobs
    from integrations_app.connection_tests import testable_integrations
    from integrations_app.models import BackgroundJob

    call_command("migrate", verbosity=0)
    ids = None
    if limit:
        ids = list(testable_integrations().order_by("pk").values_list("pk", flat=True)[:limit])
    job = connection_test_jobs.enqueue(user=None, ids=ids)
    with FakeProviders(latency) as fake:
        env = dict(os.environ) | {
            "CALCOM_API_BASE_URL": fake.url + "/v2",
            "RETELL_API_BASE_URL": fake.url,
            "CONNECTION_TEST_CONCURRENCY": str(concurrency),
            "PYTHONPATH": str(BASE_DIR),
        }
        started = time.monotonic()
        worker = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "db_worker", "--batch"]
            + ["--no-startup-delay"],
            env=env,
            cwd=BASE_DIR,
            stdout=subprocess.DEVNULL,
        )
        said = started
        while worker.poll() is None:
            time.sleep(0.2)  # the wall time to the worker's exit, within 0.2 s
            if time.monotonic() - said >= 10:
                said = time.monotonic()
                done = BackgroundJob.objects.filter(pk=job.pk).values_list("done", flat=True)[0]
                print(f"  {done}/{job.total} after {said - started:.0f} s", file=sys.stderr)
        wall = time.monotonic() - started
        requests, at_once = fake.requests, fake.max_in_flight
    job.refresh_from_db()
    if worker.returncode or job.state != "done":
        raise RuntimeError(
            f"job {job.pk} ended {job.state} ({job.error}), exit {worker.returncode}"
        )
    return {
        "job": job.pk,
        "integrations": job.total,
        "healthy": job.ok_count,
        "degraded": job.warning_count,
        "unhealthy": job.failed_count,
        "not_tested": job.skipped_count,
        "seconds": round(wall, 2),
        "job_seconds": round((job.finished_at - job.started_at).total_seconds(), 2),
        "requests": requests,
        "max_in_flight": at_once,
        "floor_seconds": round(requests * latency / concurrency, 2),
        "concurrency": concurrency,
        "latency": latency,
    }


def run_section(runs: int, *, concurrency: int = CONCURRENCY, latency: float = LATENCY) -> dict:
    """For bench/write_sections.py: ``runs`` jobs of every testable integration."""
    from bench.sections import figure

    seen = [measure(concurrency=concurrency, latency=latency) for _ in range(runs)]
    last = seen[-1]
    row = figure(
        f"bulk connection test of {last['integrations']:,} integrations in a worker "
        f"({latency * 1000:.0f} ms per provider call, {concurrency} at a time)",
        [run["seconds"] for run in seen],
        floor_seconds=last["floor_seconds"],
        requests=last["requests"],
        max_in_flight=last["max_in_flight"],
    )
    return {
        "rows": [row],
        "notes": [
            "Every testable integration (active Cal.com/Retell of a live company) in one "
            "background job run by `manage.py db_worker --batch` (start-up included); fake "
            "providers on 127.0.0.1 answer every call as healthy after the latency. The floor is "
            "requests x latency / concurrency."
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="test only the first N")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    for _ in range(args.runs):
        result = measure(limit=args.limit, concurrency=args.concurrency, latency=args.latency)
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
