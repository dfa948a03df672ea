"""Where the audit's time goes at scale (issue 13, point 2): per check, the measures, the row
counts, the whole `audit --format json` and the dashboard page, with queries.

    DATABASE_URL=mysql://root@127.0.0.1:3306/askpro_scaled GATEWAY_APP_KEY=... \\
        GATEWAY_PREVIOUS_KEYS=... .venv/bin/python bench/audit_checks.py [--repeat 3] \\
        [--only checks,audit,dashboard,pages]

Read-only on the gateway's tables. The dashboard is fetched by Django's test client as a
superuser `bench-admin` (created in the console's own user table if missing). Prints min and
median of --repeat runs; the per-check figures are taken in one process after the others
(warm: parse and decrypt caches of earlier runs are cleared before each run).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")


def _stats(values: list[float]) -> str:
    return f"{min(values):7.3f} / {statistics.median(values):7.3f} s"


def clear_caches() -> None:
    from audit_app.checks import common

    for name in ("to_e164", "number_problem", "_routing_forms"):
        fn = getattr(common, name, None)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


def time_checks(repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit_app import measures
    from audit_app.registry import CheckUnavailable, all_checks

    rows = []
    for check in all_checks():
        times, queries, count = [], 0, None
        for _ in range(repeat):
            clear_caches()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                try:
                    outcome = check.run(200)
                    count = outcome.count
                except CheckUnavailable:
                    count = "n/a"
                times.append(time.perf_counter() - start)
            queries = len(captured)
        rows.append((check.id, times, queries, count))
    for label, fn in (("measures.compute", measures.compute), ("row_counts", measures.row_counts)):
        times = []
        for _ in range(repeat):
            clear_caches()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
        rows.append((label, times, len(captured), ""))
    rows.sort(key=lambda r: -statistics.median(r[1]))
    print(f"{'check':<18} {'min / median':>20} {'queries':>8} {'count':>8}")
    for name, times, queries, count in rows:
        print(f"{name:<18} {_stats(times):>20} {queries:>8} {count!s:>8}")
    print(f"{'sum of medians':<18} {sum(statistics.median(r[1]) for r in rows):7.3f} s")


def time_audit(repeat: int) -> None:
    """The whole command in a fresh process, as an operator runs it (startup included)."""
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "manage.py", "audit", "--format", "json", "--fail-on", "never"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
        size = len(done.stdout)
    startup = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "help"], cwd=ROOT, capture_output=True)
        startup.append(time.perf_counter() - start)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with open(os.devnull, "w") as sink, CaptureQueriesContext(connection) as captured:
        call_command("audit", "--format", "json", "--fail-on", "never", stdout=sink)
    print(
        f"audit --format json: {_stats(times)}, {len(captured)} queries, {size / 1e6:.2f} MB; "
        f"process startup alone (manage.py help): {_stats(startup)}"
    )


def time_dashboard(repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = get_user_model().objects.filter(username="bench-admin").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-admin", "", None)
    client = Client()
    client.force_login(user)
    url = "/admin/audit_app/fixrecord/dashboard/"
    client.get(url)  # warm: sessions, content types
    times, queries, size = [], 0, 0
    for _ in range(repeat):
        clear_caches()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
        queries, size = len(captured), len(response.content)
    print(f"dashboard: {_stats(times)}, {queries} queries, {size / 1e3:.0f} kB")


def time_check_pages(repeat: int) -> None:
    """Each check's own page (its rows read now, first page), as a person opens it."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from audit_app.registry import all_checks

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-admin"))
    rows = []
    for check in all_checks():
        url = f"/admin/audit_app/fixrecord/check/{check.id}/"
        times = []
        for _ in range(repeat):
            clear_caches()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, (check.id, response.status_code)
        rows.append((check.id, times, len(captured)))
    rows.sort(key=lambda r: -statistics.median(r[1]))
    for check_id, times, queries in rows:
        print(f"check page {check_id:<12} {_stats(times)} {queries:>4} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="checks,audit,dashboard")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    wanted = set(args.only.split(","))
    if "audit" in wanted:
        time_audit(args.repeat)
    if "dashboard" in wanted:
        time_dashboard(args.repeat)
    if "pages" in wanted:
        time_check_pages(args.repeat)
    if "checks" in wanted:
        time_checks(args.repeat)


if __name__ == "__main__":
    main()
