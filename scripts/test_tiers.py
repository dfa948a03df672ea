"""Run the suite tier by tier and say plainly which tiers ran and what they found.

Tiers: `sqlite`; `mariadb` (gateway tables built from the models); `reference` (the gateway's
schema.sql loaded, only when GATEWAY_REFERENCE_SCHEMA names it); `browser` (the main flows in
headless Chromium, tests/browser only, on SQLite; the other tiers leave that directory out). The
MariaDB tiers use TEST_DATABASE_URL's server when given, else a throwaway server of their own.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # our own pytest's reports, not untrusted input
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
REPORTS = BASE_DIR / "var" / "test-reports"
TIERS = ("sqlite", "mariadb", "reference", "browser")
# The browser tier runs only these (marked `browser`); the other tiers leave them out.
BROWSER_TESTS = "tests/browser"
TEST_USER, TEST_PASSWORD = "askpro_test", "askpro-test-only"


def fail(message: str) -> None:
    print(f"askpro-console tests: {message}", file=sys.stderr)
    raise SystemExit(2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
        if path:
            return path
    return None


@contextmanager
def throwaway_mariadb():
    """A private MariaDB: temporary data directory, own socket and port, removed afterwards."""
    install_db = find("mariadb-install-db", "mysql_install_db")
    server = find("mariadbd", "mysqld")
    if not (install_db and server):
        fail("no MariaDB server found. Install it with: sudo apt-get install -y mariadb-server")
    workdir = Path(tempfile.mkdtemp(prefix="askpro-mariadb-"))
    data, sock, log = workdir / "data", workdir / "mysqld.sock", workdir / "server.log"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    port = free_port()
    process = None
    log_file = open(log, "w")  # noqa: SIM115 (the server writes to it until the end)
    try:
        subprocess.run(
            [install_db, "--no-defaults", f"--datadir={data}", "--skip-test-db",
             "--auth-root-authentication-method=normal", *as_root],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        process = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
             "--bind-address=127.0.0.1", f"--pid-file={workdir / 'mysqld.pid'}", "--skip-log-bin",
             "--skip-name-resolve", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", "--innodb-buffer-pool-size=256M",
             "--innodb-flush-log-at-trx-commit=0", "--sql-mode=STRICT_TRANS_TABLES", *as_root],
            stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        import MySQLdb

        deadline = time.monotonic() + 60
        while True:
            try:
                admin = MySQLdb.connect(unix_socket=str(sock), user="root")
                break
            except MySQLdb.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    fail(f"the throwaway MariaDB did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
        cursor = admin.cursor()
        cursor.execute(f"CREATE USER '{TEST_USER}'@'127.0.0.1' IDENTIFIED BY '{TEST_PASSWORD}'")
        cursor.execute(f"GRANT ALL ON *.* TO '{TEST_USER}'@'127.0.0.1' WITH GRANT OPTION")
        admin.close()
        print(f"==> throwaway MariaDB on 127.0.0.1:{port} in {workdir}", flush=True)
        yield f"mysql://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:{port}"
    finally:
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log_file.close()
        shutil.rmtree(workdir, ignore_errors=True)


def server_of(url: str) -> tuple[str, str]:
    """Split mysql://user:pass@host:port/name into the server part and the database name."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.path.strip("/"):
        fail("TEST_DATABASE_URL must look like mysql://user:password@host:port/database")
    return f"mysql://{parts.netloc}", parts.path.strip("/")


def refuse_if_holds_data(server: str, name: str) -> None:
    """Never run tests where data lives: Django would drop and rebuild test_<name>."""
    import MySQLdb

    parts = urlsplit(server)
    try:
        conn = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
            user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
        )  # fmt: skip
    except MySQLdb.OperationalError as error:
        fail(f"cannot reach the test server: {error.args[-1]}")
    cursor = conn.cursor()
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (f"test_{name}",)
    )
    (tables,) = cursor.fetchone()
    conn.close()
    if tables:
        fail(
            f"the database test_{name} exists and holds {tables} tables; the suite never runs "
            f"against a database with data. Drop it first: DROP DATABASE `test_{name}`;"
        )


def run_tier(tier: str, database_url: str, pytest_args: list[str]) -> dict:
    REPORTS.mkdir(parents=True, exist_ok=True)
    if tier == "browser":
        pytest_args = [*pytest_args, "-m", "browser", BROWSER_TESTS]
    else:
        pytest_args = [f"--ignore={BROWSER_TESTS}", *pytest_args]
    if tier in ("mariadb", "reference"):
        # Tests that read files only (marked no_db) give the same answer on every database.
        pytest_args = ["-m", "not no_db", *pytest_args]  # a user's -m wins
    report = REPORTS / f"{tier}.xml"
    report.unlink(missing_ok=True)
    env = dict(os.environ, DATABASE_URL=database_url, LANGUAGE_CODE="de",
               ASKPRO_GATEWAY_TABLES="reference" if tier == "reference" else "models",
               ASKPRO_TEST_TIER=tier,
               # A DATABASE_URL means production settings; Django's test client speaks plain HTTP.
               SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false")  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    print(f"\n==> tier {tier}: {database_url.split('@')[-1]}", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}",
         "-o", f"junit_suite_name={tier}", *pytest_args],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip
    counts = {"tier": tier, "exit": result.returncode, "seconds": time.monotonic() - started}
    counts |= {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if report.exists():
        suite = ET.parse(report).getroot()  # noqa: S314
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] = int(suite.get(key, 0))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", action="append", choices=TIERS, help="run only these tiers")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args()
    reference = os.environ.get("GATEWAY_REFERENCE_SCHEMA", "")
    if reference:
        path = Path(reference).resolve()
        if not path.is_file():
            fail(f"GATEWAY_REFERENCE_SCHEMA names no file: {reference}")
        os.environ["GATEWAY_REFERENCE_SCHEMA"] = str(path)
    wanted = args.tier or [t for t in TIERS if t != "reference" or reference]
    if "reference" in wanted and not reference:
        fail("the reference tier needs GATEWAY_REFERENCE_SCHEMA=path/to/schema.sql")

    results = []
    with tempfile.TemporaryDirectory(prefix="askpro-sqlite-") as tmp:
        for tier in ("sqlite", "browser"):
            if tier in wanted:
                url = f"sqlite:///{tmp}/{tier}.sqlite3"
                results.append(run_tier(tier, url, args.pytest_args))
    mysql_tiers = [t for t in wanted if t in ("mariadb", "reference")]
    if mysql_tiers:
        given = os.environ.get("TEST_DATABASE_URL", "")
        with mariadb_server(given) as (server, base):
            for tier in mysql_tiers:
                name = base if tier == "mariadb" else f"{base}_ref"
                if given:
                    refuse_if_holds_data(server, name)
                results.append(run_tier(tier, f"{server}/{name}", args.pytest_args))
    # `-- -k …` narrows every tier; the browser tier, not asked for by name, may then match none.
    may_match_none = {"browser"} if args.pytest_args and not args.tier else set()
    summarize(results, wanted, may_match_none)


@contextmanager
def mariadb_server(given_url: str):
    """(server URL, base database name): TEST_DATABASE_URL's server, else a throwaway one."""
    if given_url:
        yield server_of(given_url)
        return
    with throwaway_mariadb() as server:
        yield server, "askpro_console"


def summarize(results: list[dict], wanted: list[str], may_match_none=frozenset()) -> None:
    print("\n==> summary")
    print(f"{'tier':<10} {'tests':>6} {'passed':>7} {'failed':>7} {'skipped':>8} {'seconds':>8}")
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    problems = []
    for r in results:
        failed = r["failures"] + r["errors"]
        passed = r["tests"] - failed - r["skipped"]
        totals["passed"] += passed
        totals["failed"] += failed
        totals["skipped"] += r["skipped"]
        print(f"{r['tier']:<10} {r['tests']:>6} {passed:>7} {failed:>7} {r['skipped']:>8} "
              f"{r['seconds']:>8.1f}")  # fmt: skip
        if r["tier"] in may_match_none and r["exit"] == 5 and r["tests"] == 0:
            print(f"(tier {r['tier']}: no test matched the pytest arguments)")
            continue
        if r["exit"] != 0 or failed:
            problems.append(f"tier {r['tier']} failed (pytest exit {r['exit']})")
        if passed == 0:
            problems.append(f"tier {r['tier']} ran no test")
    ran = {r["tier"] for r in results}
    problems += [f"tier {t} did not run" for t in wanted if t not in ran]
    for problem in problems:
        print(f"askpro-console tests: {problem}", file=sys.stderr)
    print(
        f"tests: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped"
    )
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
