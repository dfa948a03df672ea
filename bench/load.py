"""Under load (issue 13, point 6): 20 signed-in users for 60 s against the production server
setup on the scaled data, while a phone import and a fix run; bounded, loopback only.

    .venv/bin/python bench/load.py --database-url mysql://root@127.0.0.1:3306/askpro_scaled_load \\
        [--seconds 60] [--users 20] [--import-rows 3000] [--json]

Starts ``scripts/serve.sh`` (check --deploy, collectstatic into a temporary STATIC_ROOT,
gunicorn with its default workers) on a free port of 127.0.0.1, signs in ``--users`` accounts
``bench-load-NN`` (group Manager; created, or their password set again) through the login form
with its CSRF token, as behind the TLS proxy (``X-Forwarded-Proto: https``). Each user requests
the main pages in a fixed pseudo-random order (weights below) until ``--seconds`` have passed,
then finishes the request it is in (120 s timeout each) and stops. After 10 s two child
processes write at the same time: an import of ``--import-rows`` new numbers through the
import service, and a fix through audit_app's apply path (the first of FIXES with something to
do). Afterwards every imported number and every row the fix planned is checked in the
database (a missing or different one is a lost write), and both operations are undone through
the console's undo, so the copy can be used again. The database must be a copy of its own
(``askpro_scaled`` is refused: the import and the fix write there).

Report: requests, errors (a status other than 200, or no answer) and p50/p95/max per page;
lost writes; the writers' times. ``--json`` prints it as JSON last (bench/run.py reads it).
"""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import load_client  # noqa: E402
from bench.sections import ensure_snapshot  # noqa: E402

REFUSED = {"askpro_scaled"}
USER_PREFIX = "bench-load"  # the accounts' names start with this
START_WRITERS_AFTER = 10.0
SERVER_LOG = BASE_DIR / "var" / "bench" / "load-server.log"


def database_env(url: str) -> dict:
    name = urlsplit(url).path.strip("/")
    keys = BASE_DIR / "var" / "bench"
    env = dict(os.environ) | {"DATABASE_URL": url,
                              "DJANGO_SETTINGS_MODULE": "askpro_console.settings"}  # fmt: skip
    env.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    for variable, suffix in (
        ("GATEWAY_APP_KEY", "key"),
        ("GATEWAY_PREVIOUS_KEYS", "previous-keys"),
    ):
        path = keys / f"{name}.{suffix}"
        if path.exists():
            env[variable] = path.read_text().strip()
    return env


def setup_django(url: str) -> None:
    os.environ.update(database_env(url))
    os.environ["DEBUG"] = "false"
    import django

    django.setup()


def prepare_users(count: int) -> tuple[list[str], str]:
    """``bench-load-01`` ... in the Manager group, one fresh password for all of them."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    manager = Group.objects.get(name="Manager")
    password = secrets.token_urlsafe(16)
    User = get_user_model()
    template = User(username="x")
    template.set_password(password)  # hashed once, the same hash for every account
    names = [f"{USER_PREFIX}-{n:02d}" for n in range(1, count + 1)]
    for name in names:
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True})
        user.password, user.is_staff, user.is_active = template.password, True, True
        user.save(update_fields=["password", "is_staff", "is_active"])
        user.groups.add(manager)
    with contextlib.suppress(Exception):  # a lock left by an earlier run
        call_command("axes_reset", verbosity=0)
    return names, password


def page_urls() -> dict[str, str]:
    from django.urls import reverse

    from integrations_app.models import Company

    company = Company.objects.order_by("id").values_list("id", flat=True).first()
    admin = "admin:integrations_app_{}_changelist"
    return {
        "admin index": reverse("admin:index"),
        "dashboard": reverse("admin:audit_app_dashboard"),
        "companies": reverse(admin.format("company")),
        "phone numbers": reverse(admin.format("phonenumber")),
        "integrations": reverse(admin.format("integration")),
        "calls": reverse(admin.format("call")),
        "company change page": reverse("admin:integrations_app_company_change", args=[company]),
        "phone numbers search": reverse(admin.format("phonenumber")) + "?q=%2B4930",
    }


# The mix: lists and pages as support uses them; the dashboard as managers open it.
WEIGHTS = {
    "admin index": 2, "dashboard": 1, "companies": 2, "phone numbers": 2, "integrations": 2,
    "calls": 2, "company change page": 2, "phone numbers search": 2,
}  # fmt: skip


class Server:
    """scripts/serve.sh on a free port (like tests/test_production.py's ``Served``)."""

    def __init__(self, url: str, workdir: Path):
        self.port = load_client.free_port()
        self.env = database_env(url) | {
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(workdir / "static"),
            "BIND": f"127.0.0.1:{self.port}",
            "LANGUAGE_CODE": "en",
            "DEBUG": "false",
            "VENV": str(Path(sys.executable).parent.parent),
            # the access log says how long each request took in its worker
            "GUNICORN_CMD_ARGS": f"--access-logformat '{load_client.ACCESS_FORMAT}'",
        }
        for name in ("SECURE_SSL_REDIRECT", "SECURE_COOKIES"):  # production settings
            self.env.pop(name, None)
        self.log = workdir / "server.log"

    def __enter__(self):
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                ["bash", "scripts/serve.sh"], cwd=BASE_DIR, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        if not load_client.wait_for_port(self.port, self.process, 120):
            self.__exit__()
            raise RuntimeError(f"serve.sh did not listen:\n{self.log.read_text()[-3000:]}")
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=60)


def start_writer(kind: str, url: str, rows: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(BASE_DIR / "bench" / "load_writers.py"), kind, "--database-url",
         url, "--rows", str(rows), "--out", str(out)],
        cwd=BASE_DIR, env=database_env(url),
    )  # fmt: skip


def run(args, workdir: Path) -> dict:
    setup_django(args.database_url)
    names, password = prepare_users(args.users)
    # The dashboard shows the scheduled audit's latest snapshot, as in production (a database
    # without one runs the audit live on every view: seconds per view at this size).
    snapshot = ensure_snapshot()
    urls = page_urls()
    with Server(args.database_url, workdir) as server:
        base = f"http://127.0.0.1:{server.port}"
        sessions = load_client.sign_in_all(base, names, password)
        # each page once before the clock starts (the workers' imports, the first queries)
        load_client.warm_up(base, sessions[0], urls)
        stats = load_client.Stats()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=load_client.user_loop,
                             args=(base, session, urls, WEIGHTS, n, deadline, stats))
            for n, session in enumerate(sessions)
        ]  # fmt: skip
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(min(START_WRITERS_AFTER, args.seconds / 6))  # writers while users run
        outs = {kind: workdir / f"{kind}.json" for kind in ("import", "fix")}
        writers = {k: start_writer(k, args.database_url, args.import_rows, outs[k]) for k in outs}
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        for writer in writers.values():
            writer.wait(timeout=900)
        server_log = server.log.read_text(errors="replace")
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    SERVER_LOG.write_text(server_log)  # kept for a look at any traceback
    written = {k: json.loads(p.read_text()) if p.exists() else {"error": "no result"}
               for k, p in outs.items()}  # fmt: skip
    check = subprocess.run(
        [sys.executable, str(BASE_DIR / "bench" / "load_writers.py"), "verify", "--database-url",
         args.database_url, "--import-result", str(outs["import"]), "--fix-result",
         str(outs["fix"])],
        cwd=BASE_DIR, env=database_env(args.database_url), capture_output=True, text=True,
    )  # fmt: skip
    verified = json.loads(check.stdout.strip().splitlines()[-1]) if check.stdout.strip() else {
        "error": check.stderr[-1500:]}  # fmt: skip
    server = load_client.server_times(server_log, urls)
    result = report(args, stats.rows(server), stats.error_samples, elapsed, written, verified,
                    server_log)  # fmt: skip
    if snapshot:
        result["notes"].insert(1, snapshot)
    return result


def report(args, rows, error_samples, elapsed, written, verified, server_log) -> dict:
    lost = verified.get("lost_writes")
    totals = {
        "requests": sum(r["requests"] for r in rows),
        "errors": sum(r["errors"] for r in rows),
        "lost_writes": lost if lost is not None else -1,
        "seconds": round(elapsed, 1),
    }
    tracebacks = server_log.count("Traceback")
    timeouts = server_log.count("WORKER TIMEOUT")
    notes = [
        f"{args.users} users signed in through the login form, {elapsed:.0f} s "
        f"({args.seconds} s, then each finished its request); gunicorn from scripts/serve.sh "
        "with its default workers (2 x cores + 1) on 127.0.0.1, production settings, "
        "X-Forwarded-Proto: https. Mix per user (weights): "
        + ", ".join(f"{k} {v}" for k, v in WEIGHTS.items())
        + ".",
        f"Server log (var/bench/load-server.log): {tracebacks} tracebacks, {timeouts} worker "
        "timeouts.",
        "p50/p95 as the users saw them (the wait for a free worker included) and in the worker "
        "(gunicorn's access log, %(D)s); worker-seconds: the page's share of the workers' time.",
    ]
    exception = re.compile(r"^[\w.]+(Error|Exception|Deadlock)\b")
    raised = sorted({line.strip() for line in server_log.splitlines()
                     if exception.match(line.strip())})  # fmt: skip
    notes += [f"server: {line[:300]}" for line in raised[:5]]
    for kind in ("import", "fix"):
        w = written.get(kind, {})
        notes.append(f"{kind}: " + (w.get("summary") or f"failed: {w.get('error', '?')}"))
    notes.append("Checked afterwards: " + (verified.get("summary") or
                                           f"failed: {verified.get('error', '?')}"))  # fmt: skip
    for error in error_samples[:5]:
        notes.append(f"error: {error}")
    return {"rows": rows, "totals": totals, "notes": notes, "writes": written,
            "verified": verified}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=3000)
    parser.add_argument("--json", action="store_true", help="print the result as JSON last")
    args = parser.parse_args(argv)
    database = urlsplit(args.database_url).path.strip("/")
    if not database or database in REFUSED:
        parser.error(f"refused: {database!r}: the import and the fix write; give it a copy")
    if not (1 <= args.seconds <= 600 and 1 <= args.users <= 100):
        parser.error("--seconds must be 1-600 and --users 1-100 (a bounded test)")
    import tempfile

    with (
        tempfile.TemporaryDirectory(prefix="askpro-load-") as tmp,
        contextlib.redirect_stdout(sys.stderr),
    ):
        result = run(args, Path(tmp))
        for row in result["rows"]:
            print(f"  {row['name']:<22} {row['requests']:>5} requests {row['errors']} errors"
                  f"  p50 {row['p50']:.3f} s  p95 {row['p95']:.3f} s")  # fmt: skip
        print("  " + json.dumps(result["totals"]))
        for note in result["notes"]:
            print("  " + note)
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
