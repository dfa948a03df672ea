"""The benchmark of issue 13 at the gateway's planned size: bench/results.json and bench/RESULTS.md.

    .venv/bin/python bench/run.py                       # every section, 3 runs each
    .venv/bin/python bench/run.py --only audit,dashboard --runs 5
    .venv/bin/python bench/run.py --report-only         # RESULTS.md again from results.json

Sections: audit, dashboard, pages (on --database-url, read only: askpro_scaled), audit-index
(the audit on --copy-url with the index the gateway would need, put back afterwards), import (a
database of its own), rotation (on --copy-url: it rewrites every secret), connections
(bench/connection_tests.py), memory (--quarter-url, --database-url, --copy-url) and load
(bench/load.py on --copy-url: it imports and fixes). Each runs in a child process with its own
settings; the sections run now replace theirs in results.json, the others keep their figures.
Audit, dashboard and pages also get the floor (one COUNT(*) pass over the audited tables)
measured in the same run. Databases: bench/make_data.py (bench/README.md, "run.py").
Exit status: 0, 1 when a section failed, 2 for bad arguments.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
BASE_DIR = BENCH.parent
sys.path.insert(0, str(BASE_DIR))

SECTIONS = ("audit", "audit-index", "dashboard", "pages", "import", "rotation", "connections",
            "memory", "load")  # fmt: skip
NEEDS_FLOOR = {"audit", "audit-index", "dashboard", "pages"}
SERVER = "mysql://root@127.0.0.1:3306"
BENCH_SECRET = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit status 2
        self.exit(2, f"run.py: {message} (see --help)\n")


def _sections(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or repr(text)}: choose from {', '.join(SECTIONS)}"
        )
    return [s for s in SECTIONS if s in chosen]


def _runs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError(f"must be between 1 and 50: {text}")
    return value


def _database(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("mysql", "mariadb") or not parts.path.strip("/"):
        raise argparse.ArgumentTypeError(f"not mysql://user@host:port/database: {text!r}")
    return text


def parse_args(argv=None) -> argparse.Namespace:
    parser = Parser(prog="run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=_sections, default=list(SECTIONS), metavar="S,...")
    parser.add_argument("--runs", type=_runs, default=3, help="runs per figure (default 3)")
    parser.add_argument("--database-url", type=_database, default=f"{SERVER}/askpro_scaled")
    parser.add_argument(
        "--copy-url",
        type=_database,
        default=f"{SERVER}/askpro_scaled_load",
        help="a full-size copy for the writing sections (rotation, load)",
    )
    parser.add_argument(
        "--quarter-url",
        type=_database,
        default=f"{SERVER}/askpro_scaled_q",
        help="a quarter-size database (make_data --scale 0.25) for memory",
    )
    parser.add_argument("--load-seconds", type=_runs, default=60, help="load test length")
    parser.add_argument("--results", type=Path, default=BENCH / "results.json")
    parser.add_argument("--markdown", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--report-only", action="store_true", help="only write RESULTS.md")
    args = parser.parse_args(argv)
    if urlsplit(args.copy_url).path.strip("/") == "askpro_scaled":
        parser.error("--copy-url must not be askpro_scaled: rotation and load write there")
    return args


def database_env(url: str) -> dict:
    """The environment of a child working on ``url``: its test keys from var/bench."""
    name = urlsplit(url).path.strip("/")
    keys = BASE_DIR / "var" / "bench"
    env = dict(os.environ)
    env |= {
        "DJANGO_SETTINGS_MODULE": "askpro_console.settings",
        "DATABASE_URL": url,
        "SECRET_KEY": env.get("SECRET_KEY") or BENCH_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,testserver,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "DEBUG": "false",
        "PYTHONPATH": str(BASE_DIR),
    }
    for variable, suffix in (
        ("GATEWAY_APP_KEY", "key"),
        ("GATEWAY_PREVIOUS_KEYS", "previous-keys"),
    ):
        path = keys / f"{name}.{suffix}"
        if path.exists():
            env[variable] = path.read_text(encoding="utf-8").strip()
    return env


def command(section: str, args) -> tuple[list[str], dict]:
    python = sys.executable
    runs = ["--runs", str(args.runs)]
    if section in ("audit", "dashboard", "pages"):
        return [python, str(BENCH / "sections.py"), section, *runs], database_env(args.database_url)
    if section == "audit-index":  # it changes an index of the copy for its runs
        return [python, str(BENCH / "sections.py"), section, *runs], database_env(args.copy_url)
    if section == "import":
        server = args.database_url.rsplit("/", 1)[0]
        return [python, str(BENCH / "write_sections.py"), "import", *runs, "--server", server], \
            database_env(args.database_url)  # fmt: skip
    if section == "rotation":
        return [python, str(BENCH / "write_sections.py"), "rotation", *runs, "--database-url",
                args.copy_url], database_env(args.copy_url)  # fmt: skip
    if section == "connections":
        return [python, str(BENCH / "write_sections.py"), "connections", *runs], \
            database_env(args.database_url)  # fmt: skip
    if section == "memory":
        return [python, str(BENCH / "memory.py"), "--quarter-url", args.quarter_url,
                "--full-url", args.database_url, "--copy-url", args.copy_url], \
            database_env(args.database_url)  # fmt: skip
    return [python, str(BENCH / "load.py"), "--database-url", args.copy_url, "--seconds",
            str(args.load_seconds), "--json"], database_env(args.copy_url)  # fmt: skip


def run_child(argv: list[str], env: dict, label: str) -> dict:
    """The child's last line of stdout as JSON; its stderr goes to ours as it comes."""
    print(f"==> {label}: {' '.join(Path(a).name if a.endswith('.py') else a for a in argv[1:])}",
          flush=True)  # fmt: skip
    done = subprocess.run(argv, env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"{label}: exit status {done.returncode}")
    return json.loads(lines[-1])


def machine(args) -> dict:
    import django
    import MySQLdb

    parts = urlsplit(args.database_url)
    conn = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    cursor = conn.cursor()
    cursor.execute("SELECT VERSION(), @@innodb_buffer_pool_size, @@innodb_flush_log_at_trx_commit")
    version, pool, flush = cursor.fetchone()
    conn.close()
    with open("/proc/meminfo") as meminfo:
        ram_kib = int(meminfo.readline().split()[1])
    with open("/proc/cpuinfo") as cpuinfo:
        names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = names[0] if names else platform.machine()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    return {
        "cores": os.cpu_count(), "cpu": cpu, "ram_gib": round(ram_kib / 2**20, 1),
        "mariadb": f"MariaDB {version}" if "MariaDB" in version else f"MySQL {version}",
        "buffer_pool_mib": int(pool) // 2**20, "flush_log": flush,
        "python": platform.python_version(), "django": django.get_version(), "commit": commit,
        "load_before": _load(),
    }  # fmt: skip


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_sections(args, results: dict) -> bool:
    ok = True
    floor = None
    if NEEDS_FLOOR & set(args.only):
        argv = [sys.executable, str(BENCH / "sections.py"), "floor", "--runs", str(args.runs)]
        measured = run_child(argv, database_env(args.database_url), "floor")
        floor, results["sizes"] = measured["floor"], measured["tables"]
    for section in args.only:
        argv, env = command(section, args)
        started, load_before = time.monotonic(), _load()
        try:
            result = run_child(argv, env, section)
        except (RuntimeError, json.JSONDecodeError) as error:
            ok = False
            result = {"status": "failed", "error": str(error), "rows": []}
        result.setdefault("status", "ok")
        if section in NEEDS_FLOOR:
            result["floor"] = floor
        result |= {
            "measured_at": now(), "runs": args.runs, "load_before": load_before,
            "load_after": _load(), "seconds_taken": round(time.monotonic() - started, 1),
            "database": urlsplit(env["DATABASE_URL"]).path.strip("/")
            if section != "import" else "askpro_bench_* (its own)",
        }  # fmt: skip
        results.setdefault("sections", {})[section] = result
        save(args, results)  # each section as soon as it is measured
    return ok


def save(args, results: dict) -> None:
    from bench import report

    args.results.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    report.write(results, args.markdown)


def main(argv=None) -> int:
    args = parse_args(argv)
    results = {}
    if args.results.exists():
        results = json.loads(args.results.read_text(encoding="utf-8"))
    if args.report_only:
        save(args, results)
        return 0
    started = time.monotonic()
    results["machine"] = machine(args)
    ok = run_sections(args, results)
    save(args, results)
    print(f"==> {args.markdown} written; {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
