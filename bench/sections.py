"""The read-only sections of bench/run.py, measured against the database of the environment.

    DATABASE_URL=... GATEWAY_APP_KEY=... .venv/bin/python bench/sections.py floor --runs 3
    .venv/bin/python bench/sections.py audit-once        # one run, in this (fresh) process

run.py starts this file as a child process per section (its own settings and database) and
reads the JSON it prints last. ``audit`` and ``dashboard`` start one more fresh process per
run (``audit-once``, ``dashboard-once``): what a person or a cron job meets, no cache of a
previous run in the same process. Every section gives each figure's runs, min and median.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")

# Targets of issue 13 (the table at its top).
AUDIT_TARGET = {"seconds": 2.0, "queries": 50}
DASHBOARD_TARGET = {"seconds": 1.0, "queries": 20}
PAGE_TARGET = {"seconds": 0.3, "queries": 15}


def figure(name: str, runs: list[float], **extra) -> dict:
    """One measured figure: its runs (seconds), min and median, and whatever else was seen."""
    return {
        "name": name,
        "runs": [round(r, 4) for r in runs],
        "min": round(min(runs), 4),
        "median": round(statistics.median(runs), 4),
        **extra,
    }


def judged(row: dict, target: dict) -> dict:
    """The row with its target as text and met/missed (median time and queries)."""
    parts = [f"< {target['seconds'] * 1000:.0f} ms" if target["seconds"] < 1 else
             f"< {target['seconds']:g} s"]  # fmt: skip
    met = row["median"] < target["seconds"]
    if "queries" in target and row.get("queries") is not None:
        parts.append(f"< {target['queries']} queries")
        met = met and row["queries"] < target["queries"]
    return row | {"target": ", ".join(parts), "met": met}


def vm_hwm_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- the floor: one COUNT(*) pass over the audited tables ----------------------------------------
def floor(runs: int) -> dict:
    """Each gateway table counted once per run (``SELECT COUNT(*)``, InnoDB's smallest index):
    the time of the whole pass, and each table's rows (the sizes in RESULTS.md)."""
    import django

    django.setup()
    from django.db import connection

    from integrations_app.models import GATEWAY_MODELS

    tables = [m._meta.db_table for m in GATEWAY_MODELS]
    times, counts = [], {}
    with connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            for table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM `{table}`")  # noqa: S608 (own names)
                counts[table] = cursor.fetchone()[0]
            times.append(time.perf_counter() - started)
    return {"floor": figure("COUNT(*) pass over the 12 audited tables", times), "tables": counts}


# --- one run of the audit or the dashboard, in a fresh process ----------------------------------
def server_cpu_seconds() -> float | None:
    """The CPU seconds the local MariaDB server has used so far (its process's user + system
    time from /proc), or None where it is not a local process (then not reported)."""
    found = subprocess.run(["pgrep", "-x", "mariadbd"], capture_output=True, text=True).stdout
    found = (
        found or subprocess.run(["pgrep", "-x", "mysqld"], capture_output=True, text=True).stdout
    )
    try:
        with open(f"/proc/{found.split()[0]}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (IndexError, OSError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def audit_once() -> dict:
    """``manage.py audit --format json`` through call_command: time, queries, output size, and
    the CPU seconds of this process and of the database server during it."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends import utils
    from django.test.utils import CaptureQueriesContext

    out = io.StringIO()
    status = 0
    every = []  # the statements of every connection (the audit's threads have their own),
    # their session set-up included: counted where every Django cursor executes.
    execute = utils.CursorWrapper.execute

    def counted(self, sql, params=None):
        every.append(sql)
        return execute(self, sql, params)

    utils.CursorWrapper.execute = counted
    with CaptureQueriesContext(connection) as captured:
        server_before, cpu_before = server_cpu_seconds(), time.process_time()
        started = time.perf_counter()
        try:
            call_command("audit", format="json", stdout=out, stderr=io.StringIO())
        except SystemExit as exit_:  # 1: critical findings, as expected on this data
            status = exit_.code or 0
        seconds = time.perf_counter() - started
        cpu, server_after = time.process_time() - cpu_before, server_cpu_seconds()
    utils.CursorWrapper.execute = execute
    text = out.getvalue()
    document = json.loads(text)
    omitted = sum(c.get("rows_omitted", 0) for c in document.get("checks", []))
    return {
        "seconds": seconds, "queries": max(len(every), len(captured)),
        "queries_main_connection": len(captured), "bytes": len(text.encode()),
        "status": status, "rows_omitted": omitted, "hwm_mib": vm_hwm_mib(), "cpu_seconds": cpu,
        "server_cpu_seconds": None if server_before is None else server_after - server_before,
    }  # fmt: skip


def dashboard_once() -> dict:
    """GET of the readiness dashboard with Django's test client, rendering included."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.admin_pages import signed_in_client

    client = signed_in_client()
    client.get(reverse("admin:index"), secure=True)  # the session, templates, URL resolver
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(reverse("admin:audit_app_dashboard"), secure=True)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "queries": len(captured), "status": response.status_code}


def fresh_runs(mode: str, runs: int) -> list[dict]:
    """``runs`` runs of ``audit-once`` or ``dashboard-once``, each in a new process."""
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, mode], capture_output=True, text=True, cwd=BASE_DIR
        )
        if done.returncode:
            raise RuntimeError(f"{mode} failed: {done.stderr.strip()[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_seconds"] = time.perf_counter() - started
        results.append(result)
        print(f"  {mode}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return results


def audit(runs: int) -> dict:
    results = fresh_runs("audit-once", runs)
    row = figure(
        "audit --format json", [r["seconds"] for r in results],
        queries=max(r["queries"] for r in results), bytes=results[0]["bytes"],
        process=figure("process", [r["process_seconds"] for r in results]),
        rows_omitted=results[0]["rows_omitted"], exit_status=results[0]["status"],
    )  # fmt: skip
    return {"rows": [judged(row, AUDIT_TARGET)], "notes": cpu_notes(results)}


def cpu_notes(results: list[dict]) -> list[str]:
    """What the runs cost in CPU, the console's and the database server's (medians): on this
    machine's cores the wall time cannot be less than their sum divided by the cores."""
    server = [r["server_cpu_seconds"] for r in results if r.get("server_cpu_seconds") is not None]
    if not server:
        return []
    console = statistics.median(r["cpu_seconds"] for r in results)
    server_median = statistics.median(server)
    cores = os.cpu_count() or 1
    return [
        f"CPU per run (median): the console {console:.2f} s, the MariaDB server "
        f"{server_median:.2f} s; together {console + server_median:.2f} s, so on {cores} cores "
        f"no run can take less than {(console + server_median) / cores:.2f} s."
    ]


# The index bench/RESULTS.md recommends for the gateway's own migrations: AUD-CUS-001 asks
# which customers have a live call, and `calls.deleted_at` is in no index, so the server reads
# all 1,000,000 calls. `calls` is at MySQL's 64 indexes: it takes the place of a duplicate
# (`idx_calls_customer_id` is `calls_customer_id_index` again).
RECOMMENDED_INDEX = "bench_calls_customer_live"
ADD_INDEX = (
    "ALTER TABLE calls DROP INDEX idx_calls_customer_id, ADD INDEX bench_calls_customer_live "
    "(customer_id, deleted_at, start_timestamp)"
)
DROP_INDEX = (
    "ALTER TABLE calls DROP INDEX bench_calls_customer_live, ADD INDEX idx_calls_customer_id "
    "(customer_id)"
)


def audit_with_index(runs: int) -> dict:
    """The audit as in audit(), on the copy (run.py's --copy-url) with the recommended index in
    place of its duplicate; put back as it was afterwards. Never on askpro_scaled: it keeps the
    reference schema's indexes."""
    import django

    django.setup()
    from django.db import connection

    if connection.settings_dict["NAME"] == "askpro_scaled":
        raise SystemExit("refused: askpro_scaled keeps the reference schema (use the copy)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW INDEX FROM calls WHERE Key_name = %s", [RECOMMENDED_INDEX])
        if not cursor.fetchall():
            cursor.execute(ADD_INDEX)
    try:
        results = fresh_runs("audit-once", runs)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(DROP_INDEX)
    row = figure(
        "audit --format json, with the index the gateway would need",
        [r["seconds"] for r in results],
        queries=max(r["queries"] for r in results),
        bytes=results[0]["bytes"],
        process=figure("process", [r["process_seconds"] for r in results]),
    )
    return {
        "rows": [judged(row, AUDIT_TARGET)],
        "notes": cpu_notes(results)
        + [
            "On the full-size copy with `calls (customer_id, deleted_at, start_timestamp)` in "
            "place of the duplicate `idx_calls_customer_id` (the console never changes the "
            "gateway's indexes: this is the recommendation measured). The index is put back as "
            "it was after the runs."
        ],
    }


def ensure_snapshot() -> str | None:
    """At the gateway's size the dashboard shows the latest audit snapshot (the scheduled
    audit's): a freshly built database has none yet, so one is recorded first, as the
    scheduled audit would (console tables only; the gateway's are read)."""
    import django

    django.setup()
    from django.core.management import call_command

    from audit_app import snapshots

    if snapshots.latest() is not None:
        return None
    try:
        call_command("audit", "--record", stdout=open(os.devnull, "w"))  # noqa: SIM115
    except SystemExit as done:
        if done.code != 1:  # 1: checks have findings, as at the gateway's size; recorded
            raise
    return "no audit snapshot in the database: one recorded first (audit --record)"


def dashboard(runs: int) -> dict:
    note = ensure_snapshot()
    results = fresh_runs("dashboard-once", runs)
    bad = [r["status"] for r in results if r["status"] != 200]
    row = figure(
        "readiness dashboard (GET, rendered)", [r["seconds"] for r in results],
        queries=max(r["queries"] for r in results), status=bad[0] if bad else 200,
    )  # fmt: skip
    return {"rows": [judged(row, DASHBOARD_TARGET)], "notes": [note] if note else []}


# --- every gateway changelist and one change page per model -------------------------------------
def pages(runs: int) -> dict:
    """bench/admin_pages.py's pages, one warm-up GET each and then ``runs`` timed GETs."""
    import django

    django.setup()
    from bench.admin_pages import measure_url, signed_in_client
    from bench.admin_pages import pages as admin_pages
    from integrations_app.models import GATEWAY_MODELS

    client = signed_in_client()
    rows = []
    for model, label, url in admin_pages(GATEWAY_MODELS):
        seconds, queries, status = measure_url(client, url, runs)
        row = figure(f"{model._meta.db_table}: {label}", seconds, queries=queries, status=status)
        row = judged(row, PAGE_TARGET)
        row["met"] = row["met"] and status == 200
        rows.append(row)
        print(f"  {row['name']}: {row['median'] * 1000:.0f} ms, {queries} queries, {status}",
              file=sys.stderr, flush=True)  # fmt: skip
    return {"rows": rows}


SECTIONS = {"floor": floor, "audit": audit, "audit-index": audit_with_index,
            "dashboard": dashboard, "pages": pages}  # fmt: skip
ONCE = {"audit-once": audit_once, "dashboard-once": dashboard_once}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=sorted(SECTIONS) + sorted(ONCE))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.section in ONCE:
        with contextlib.redirect_stdout(sys.stderr):
            result = ONCE[args.section]()
    else:
        with contextlib.redirect_stdout(sys.stderr):
            result = SECTIONS[args.section](args.runs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
