"""Benchmark of the phone-number import (issue 6, point 8) against MariaDB.

    .venv/bin/python bench/phone_import.py [--rows 20000] [--big-rows 100000]
                                           [--database-url mysql://user:pw@host:port]

Without --database-url a throwaway MariaDB is started (scripts/test_tiers.throwaway_mariadb).
With it, a fresh database ``askpro_bench_<random>`` is created on that server and dropped again.

In one run, each on an empty phone_numbers table, for the same N rows of valid fictional
Berlin numbers in mixed written forms:

  (a) the dry run (read + validate, writes nothing)
  (b) the real validated import (read + validate + bulk write + one change-store row per
      written row + operation + import record)
  (c) a plain multi-row ``cursor.executemany`` INSERT of the already-normalised rows
  (d) django-import-export's default per-row import (plain ModelResource) of the same rows

and prints rows per second and the ratios; (a) to (c) run --repeat times (default 3) and the
fastest run counts. Peak memory of the validated import is measured in a fresh child process
for --rows and --big-rows: the peak resident size (VmHWM, reset just before the import) and
Python's own allocations (tracemalloc peak, in a second import of the same file).
"""

import argparse
import base64
import gc
import io
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

COMPANIES = 200
FORMS = (
    "030 {a}{b}",
    "+49 30 {a} {b}",
    "0049 30 {a}{b}",
    "+49 (30) {a}-{b}",
    "030/{a}{b}",
    "+4930{a}{b}",
)
COLUMNS = (
    "id", "company_id", "branch_id", "number", "number_normalized", "phone_number",
    "country_code", "type", "is_primary", "is_active", "description", "created_at", "updated_at",
)  # fmt: skip


def server_and_admin(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        raise SystemExit("--database-url must look like mysql://user:password@host:port")
    return parts


def mysql_connect(url: str, database: str | None = None):
    import MySQLdb

    parts = server_and_admin(url)
    kwargs = dict(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
        user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
    )  # fmt: skip
    if database:
        kwargs["database"] = database
    return MySQLdb.connect(**kwargs)


def configure(database_url: str) -> None:
    """Environment first, then django.setup(): a configured deployment (DEBUG off)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "askpro_console.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault(
        "GATEWAY_APP_KEY",
        "base64:" + base64.b64encode(b"key_test_current_0123456789abcde").decode(),
    )
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij")
    os.environ["DEBUG"] = "false"
    os.environ["LANGUAGE_CODE"] = "en"
    # 100,000 rows are about 3.5 MB; keep the limits out of the way of the benchmark.
    os.environ["PHONE_IMPORT_MAX_BYTES"] = str(64 * 1024 * 1024)
    os.environ["PHONE_IMPORT_MAX_ROWS"] = str(1_000_000)
    import django

    django.setup()


def build_database() -> list[tuple[int, str]]:
    """Migrate, create the gateway tables, 200 companies with one branch each."""
    from django.core.management import call_command
    from django.db import connection

    from integrations_app import gateway_schema
    from integrations_app.models import Branch, Company

    call_command("migrate", verbosity=0, interactive=False)
    gateway_schema.create_tables(connection)
    companies = Company.objects.bulk_create(
        [Company(name=f"Bench Firma {n:03d}", slug=f"bench-{n:03d}") for n in range(COMPANIES)]
    )
    if companies[0].pk is None:  # MariaDB returns no ids from a bulk insert of auto keys
        companies = list(Company.objects.order_by("id"))
    Branch.objects.bulk_create(
        [Branch(company=c, name="Zentrale", slug=f"bench-b-{c.pk}") for c in companies]
    )
    return list(Branch.objects.order_by("company_id").values_list("company_id", "id"))


def make_csv(rows: int, companies: list[int]) -> bytes:
    """N valid fictional Berlin numbers (030 2xxxxxxx), mixed written forms, deterministic."""
    out = io.StringIO()
    out.write("company;branch;number;type;primary;active;description\r\n")
    for i in range(rows):
        digits = f"{20_000_000 + i:08d}"
        number = FORMS[i % len(FORMS)].format(a=digits[:4], b=digits[4:])
        company = companies[i % len(companies)]
        primary = "1" if i < len(companies) else "0"  # one primary number per company
        kind = "hotline" if i % 10 == 0 else "direct"
        out.write(f"{company};;{number};{kind};{primary};ja;Bench Zeile {i}\r\n")
    return out.getvalue().encode("utf-8")


def empty_tables() -> None:
    from django.db import connection

    from changelog.models import Change, Operation
    from integrations_app.models import PhoneImport

    tables = (
        "phone_numbers",
        Change._meta.db_table,
        PhoneImport._meta.db_table,
        Operation._meta.db_table,
    )
    with connection.cursor() as cursor:
        # MariaDB refuses TRUNCATE of a table another table's foreign key points to
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in tables:
            cursor.execute(f"TRUNCATE TABLE `{table}`")
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")


def count_numbers() -> int:
    from integrations_app.models import PhoneNumber

    return PhoneNumber.objects.count()


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def rounds(data: bytes, n: int, repeat: int) -> tuple[float, float, float]:
    """(a), (b) and (c) in turn, ``repeat`` rounds, each run on empty tables; the fastest of
    each counts (the rounds share whatever else the machine and the server are doing)."""
    rows = normalised_rows(run_dry(data).plan)
    times = {"a": [], "b": [], "c": []}
    for _ in range(repeat):
        empty_tables()
        times["a"].append(timed(lambda: run_dry(data))[0])
        assert count_numbers() == 0
        empty_tables()
        times["b"].append(timed(lambda: run_import(data))[0])
        assert count_numbers() == n
        empty_tables()
        times["c"].append(timed(lambda: run_executemany(rows))[0])
        assert count_numbers() == n
    labels = {
        "a": "(a) dry run (read + validate)         ",
        "b": "(b) validated import                  ",
        "c": "(c) plain executemany INSERT          ",
    }
    for key, label in labels.items():
        runs = ", ".join(f"{t:.2f}" for t in times[key])
        print(f"{label} {rate(n, min(times[key]))}  runs: {runs} s")
    return min(times["a"]), min(times["b"]), min(times["c"])


def run_dry(data: bytes):
    from integrations_app.phone_import import import_phone_numbers

    result = import_phone_numbers(data=data, file_name="bench.csv", source="bench", dry_run=True)
    assert not result.plan.has_errors, result.plan.errors[:5]
    return result


def run_import(data: bytes):
    from integrations_app.phone_import import import_phone_numbers

    result = import_phone_numbers(data=data, file_name="bench.csv", source="bench")
    assert result.written, result.plan.errors[:5]
    return result


def normalised_rows(plan) -> list[tuple]:
    from django.utils import timezone

    now = timezone.now().replace(microsecond=0, tzinfo=None)  # the gateway's UTC timestamps
    rows = []
    for r in plan.rows:
        a = r.values()
        rows.append((
            str(uuid.uuid4()), a["company_id"], a["branch_id"], a["number"],
            a["number_normalized"], a["phone_number"], a["country_code"], a["type"],
            int(a["is_primary"]), int(a["is_active"]), a["description"], now, now,
        ))  # fmt: skip
    return rows


def run_executemany(rows: list[tuple]) -> None:
    from django.db import connection, transaction

    sql = (  # column names are the script's own constants
        f"INSERT INTO phone_numbers ({', '.join(COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # mysqlclient rewrites INSERT ... VALUES into multi-row statements (up to ~1 MiB each)
        cursor.executemany(sql, rows)


def per_row_resource():
    from import_export import resources

    from integrations_app.models import PhoneNumber

    class PhoneNumberResource(resources.ModelResource):
        class Meta:
            model = PhoneNumber
            fields = (
                "company", "branch", "number", "number_normalized", "phone_number",
                "country_code", "type", "is_primary", "is_active", "description",
            )  # fmt: skip
            import_id_fields = ("number",)

    return PhoneNumberResource()


def per_row_dataset(plan):
    import tablib

    headers = ["company", "branch", "number", "number_normalized", "phone_number",
               "country_code", "type", "is_primary", "is_active", "description"]  # fmt: skip
    dataset = tablib.Dataset(headers=headers)
    for r in plan.rows:
        a = r.values()
        dataset.append([
            a["company_id"], a["branch_id"], a["number"], a["number_normalized"],
            a["phone_number"], a["country_code"], a["type"], int(a["is_primary"]),
            int(a["is_active"]), a["description"],
        ])  # fmt: skip
    return dataset


def run_per_row(dataset) -> None:
    result = per_row_resource().import_data(
        dataset, dry_run=False, raise_errors=True, use_transactions=True
    )
    assert not result.has_errors() and not result.has_validation_errors()


def maxrss_mib() -> float:
    """Peak resident memory of this process since it started (VmHWM: not inherited on exec,
    unlike getrusage's ru_maxrss)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB


def memory_child(args) -> None:
    """In a fresh process: peak memory of one validated import of --rows rows."""
    configure(args.child_database_url)
    from integrations_app.models import Branch

    companies = list(Branch.objects.order_by("company_id").values_list("company_id", flat=True))
    data = make_csv(args.rows, companies)
    # 1. resident memory (all of it: Python, SQLite, mysqlclient), peak reset just before
    empty_tables()
    gc.collect()
    reset_peak_rss()
    baseline = current_rss_mib()
    run_import(data)
    rss_peak = maxrss_mib()
    assert count_numbers() == args.rows
    # 2. Python's own allocations during a second import of the same file (tracemalloc)
    empty_tables()
    tracemalloc.start()
    seconds, _ = timed(lambda: run_import(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count_numbers() == args.rows
    print(json.dumps({
        "rows": args.rows, "file_mib": len(data) / 2**20, "tracemalloc_peak_mib": peak / 2**20,
        "maxrss_before_mib": baseline, "maxrss_after_mib": rss_peak,
        "seconds_traced": seconds,
    }))  # fmt: skip


def reset_peak_rss() -> None:
    """Linux: start VmHWM again from the current resident size (clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def current_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure_memory(rows: int, database_url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--memory-child", "--rows", str(rows),
         "--child-database-url", database_url],
        check=True, capture_output=True, text=True, cwd=BASE_DIR,
    )  # fmt: skip
    return json.loads(output.stdout.strip().splitlines()[-1])


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f} rows/s  ({seconds:7.2f} s)"


def profile(data: bytes) -> None:
    import cProfile
    import pstats

    empty_tables()
    profiler = cProfile.Profile()
    profiler.runcall(run_import, data)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def benchmark(database_url: str, args) -> None:
    configure(database_url)
    print(f"==> setting up: migrate, gateway tables, {COMPANIES} companies with one branch each")
    branches = build_database()
    companies = [company_id for company_id, _ in branches]
    n, big = args.rows, args.big_rows
    data = make_csv(n, companies)
    print(f"==> {n:,} rows, CSV of {len(data) / 2**20:.2f} MiB")
    if args.profile:
        profile(data)
        return

    t_dry, t_import, t_plain = rounds(data, n, args.repeat)

    t_per_row = None
    if not args.skip_per_row:
        dataset = per_row_dataset(run_dry(data).plan)
        empty_tables()
        t_per_row, _ = timed(lambda: run_per_row(dataset))
        assert count_numbers() == n
        print(f"(d) django-import-export per row       {rate(n, t_per_row)}")
    else:
        print("(d) django-import-export per row       skipped (--skip-per-row)")

    print(f"\nvalidated import / executemany: {t_import / t_plain:5.2f}x  (target: within 3x)")
    print(f"dry run / executemany:          {t_dry / t_plain:5.2f}x")
    if t_per_row:
        print(f"per-row import / validated:     {t_per_row / t_import:5.2f}x")

    if big:
        big_data = make_csv(big, companies)
        print(f"\n==> {big:,} rows, CSV of {len(big_data) / 2**20:.2f} MiB (per-row skipped)")
        t_dry_big, t_import_big, t_plain_big = rounds(big_data, big, args.repeat)
        print(f"\nvalidated import / executemany: {t_import_big / t_plain_big:5.2f}x")
        del big_data

    empty_tables()
    print("\n==> peak memory of the validated import (fresh process each, under tracemalloc)")
    for size in [n] + ([big] if big else []):
        try:
            m = measure_memory(size, database_url)
        except subprocess.CalledProcessError as error:
            print(f"{size:>8,} rows: FAILED: {error.stderr.strip().splitlines()[-1]}")
            continue
        print(
            f"{size:>8,} rows: tracemalloc peak {m['tracemalloc_peak_mib']:7.1f} MiB, "
            f"resident {m['maxrss_before_mib']:6.1f} -> peak {m['maxrss_after_mib']:6.1f} MiB "
            f"(file {m['file_mib']:.2f} MiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--big-rows", type=int, default=100_000, help="0: skip the big run")
    parser.add_argument("--database-url", default="", help="mysql://user:password@host:port")
    parser.add_argument("--skip-per-row", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of (a), (b), (c); the fastest counts"
    )
    parser.add_argument(
        "--profile", action="store_true", help="only: cProfile of one validated import of --rows"
    )
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args)
        return
    started = time.monotonic()
    if args.database_url:
        run_on_server(args.database_url, args)
    else:
        from scripts.test_tiers import throwaway_mariadb

        with throwaway_mariadb() as server:
            run_on_server(server, args)
    print(f"\n==> total {time.monotonic() - started:.0f} s")


def run_on_server(server_url: str, args) -> None:
    parts = server_and_admin(server_url)
    server = f"{parts.scheme}://{parts.netloc}"
    name = f"askpro_bench_{uuid.uuid4().hex[:8]}"
    admin = mysql_connect(server)
    admin.cursor().execute(
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    try:
        benchmark(f"{server}/{name}", args)
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


if __name__ == "__main__":
    main()
