"""Memory stays flat (issue 13, point 5): the audit, the phone-number export and the key rotation
at a quarter and at the full planned size, each in a fresh child process.

    .venv/bin/python bench/memory.py --quarter-url mysql://root@127.0.0.1:3306/askpro_scaled_q \\
        --full-url mysql://root@127.0.0.1:3306/askpro_scaled \\
        --copy-url mysql://root@127.0.0.1:3306/askpro_scaled_load [--only audit,export,rotation]

Per measurement: Python's own peak (tracemalloc, on for the whole measured call) and the
process's peak resident size (VmHWM, reset just before the call: Python, mysqlclient and
everything else), the resident size before, the seconds (slowed by tracemalloc) and the rows.

- audit: ``manage.py audit --format json`` (call_command, the output thrown away as written)
  on the quarter database and on askpro_scaled;
- export: the admin's phone-number export (CSV, then XLSX) with Django's test client, the
  response read chunk by chunk and thrown away: 10,000 numbers (quarter), 40,000 (full);
- rotation: ``rotate_gateway_key`` back and forth (B <- A, A <- B; the larger peak) on the
  quarter database and on the full-size copy (never askpro_scaled: it writes).

"Flat": the peak at full size (4x the rows) at most 1.5x the peak at a quarter.
The section's JSON is printed last (bench/run.py reads it).
"""

import argparse
import contextlib
import gc
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

FLAT = 1.5  # full-size peak / quarter-size peak, for 4x the rows
WHAT = ("audit", "export-csv", "export-xlsx", "rotation")


def status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def measured(result: dict):
    """tracemalloc and VmHWM around the block; fills ``result``."""
    gc.collect()
    result["rss_before_mib"] = round(status_mib("VmRSS"), 1)
    with open("/proc/self/clear_refs", "w") as refs:  # VmHWM starts again from VmRSS
        refs.write("5")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["tracemalloc_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        result["hwm_mib"] = round(status_mib("VmHWM"), 1)


class Discard(io.TextIOBase):
    """The audit's output, counted and thrown away as it is written."""

    size = 0

    def write(self, text):
        self.size += len(text)
        return len(text)


def child_audit() -> dict:
    from django.core.management import call_command

    from integrations_app.models import PhoneNumber

    out, result = Discard(), {"rows": PhoneNumber.objects.count()}
    with measured(result), contextlib.suppress(SystemExit):  # exit 1: critical findings
        call_command("audit", format="json", stdout=out, stderr=io.StringIO())
    result["output_bytes"] = out.size
    result["rows_label"] = "phone numbers"
    return result


def child_export(fmt: str) -> dict:
    from django.urls import reverse

    from bench.admin_pages import signed_in_client
    from integrations_app.models import PhoneNumber

    client = signed_in_client()
    url = reverse("admin:integrations_app_phonenumber_export")
    client.get(url, secure=True)  # the session and the form, outside the measurement
    result = {"rows": PhoneNumber.objects.count(), "rows_label": "phone numbers"}
    with measured(result):
        response = client.post(url, {"format": fmt, "resource": "0"}, secure=True)
        size = 0
        if response.streaming:
            for chunk in response.streaming_content:
                size += len(chunk)
        else:
            size = len(response.content)
        response.close()
    result |= {"status": response.status_code, "output_bytes": size,
               "streaming": response.streaming}  # fmt: skip
    return result


def child_rotation(database: str) -> dict:
    from bench import rotation

    if database in rotation.REFUSED:
        raise SystemExit(f"refused: {database} (the rotation writes; give it a copy)")
    keys = BASE_DIR / "var" / "bench"
    key_a = (keys / f"{database}.key").read_text().strip()
    key_b = (keys / f"{database}.previous-keys").read_text().strip().split(",")[0]
    runs = []
    for current, previous in ((key_b, key_a), (key_a, key_b)):  # back, then forth: A current
        result = {}
        with measured(result):
            done = rotation.one_run("traced", current, previous, dry_run=False, batch_size=0)
        result["rows"] = done["rotated"]
        result["rows_label"] = "values rotated"
        runs.append(result)
    return max(runs, key=lambda r: r["tracemalloc_mib"])


def child(what: str, database_url: str) -> dict:
    database = urlsplit(database_url).path.strip("/")
    os.environ["DATABASE_URL"] = database_url
    keys = BASE_DIR / "var" / "bench"
    for variable, suffix in (
        ("GATEWAY_APP_KEY", "key"),
        ("GATEWAY_PREVIOUS_KEYS", "previous-keys"),
    ):
        path = keys / f"{database}.{suffix}"
        if path.exists():
            os.environ[variable] = path.read_text().strip()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")
    import django

    django.setup()
    if what == "audit":
        result = child_audit()
    elif what.startswith("export"):
        result = child_export("0" if what == "export-csv" else "1")
    else:
        result = child_rotation(database)
    return result | {"database": database}


def measure(what: str, database_url: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", what, "--database-url", database_url],
        capture_output=True, text=True, cwd=BASE_DIR,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{what} on {database_url}: {done.stderr.strip()[-1500:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {what}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


NAMES = {
    "audit": "audit --format json",
    "export-csv": "phone-number export, CSV (admin)",
    "export-xlsx": "phone-number export, XLSX (admin)",
    "rotation": "rotate_gateway_key (B <- A, A <- B; the larger peak)",
}


def section(args) -> dict:
    rows = []
    for what in args.only:
        full_url = args.copy_url if what == "rotation" else args.full_url
        row = {"name": NAMES[what]}
        try:
            row["quarter"] = measure(what, args.quarter_url)
            row["full"] = measure(what, full_url)
        except RuntimeError as error:
            row |= {"met": False, "error": str(error)}
            rows.append(row)
            continue
        quarter, full = row["quarter"]["tracemalloc_mib"], row["full"]["tracemalloc_mib"]
        row["growth"] = round(full / quarter, 2) if quarter else None
        row["met"] = bool(quarter) and full <= FLAT * quarter
        rows.append(row)
    notes = [
        f"Flat: the tracemalloc peak at full size at most {FLAT:g}x the peak at a quarter "
        "(4x the rows). VmHWM is the whole process (Django, mysqlclient, the interpreter: "
        "~80 MiB before any work), reset just before the measured call; each measurement in a "
        "fresh process; times are slowed by tracemalloc.",
    ]
    for row in rows:
        if row.get("error"):
            notes.append(f"{row['name']}: failed: {row['error'][-300:]}")
        elif not row["met"]:
            notes.append(f"{row['name']}: grows {row['growth']}x for 4x the rows.")
    return {"rows": rows, "notes": notes}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=WHAT, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--quarter-url", default="mysql://root@127.0.0.1:3306/askpro_scaled_q")
    parser.add_argument("--full-url", default="mysql://root@127.0.0.1:3306/askpro_scaled")
    parser.add_argument("--copy-url", default="mysql://root@127.0.0.1:3306/askpro_scaled_load")
    parser.add_argument("--only", default=",".join(WHAT))
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(sys.stderr):
        if args.child:
            result = child(args.child, args.database_url)
        else:
            args.only = [w for w in args.only.split(",") if w]
            unknown = set(args.only) - set(WHAT)
            if unknown:
                parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
            result = section(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
