"""Benchmark of `rotate_gateway_key` at the gateway's planned size (issue 13, point 5).

    .venv/bin/python bench/rotation.py --database-url mysql://root@127.0.0.1:3306/askpro_scaled_rot
        [--repeat 3] [--batch-size N] [--keys-dir var/bench]

Run it against a *copy* made by ``bench/make_data.py`` (and ``manage.py migrate``), never against
a database others benchmark: the real runs rewrite every readable secret. The database
``askpro_scaled`` itself is refused. The two test keys are read from ``<keys-dir>/<database>.key``
and ``.previous-keys`` (written by make_data.py).

In one process, with the keys as make_data wrote them (A current, B previous):

  (a) the dry run, --repeat times;
  (b) the real rotation: once A <- B (the values make_data put under the previous key), then
      --repeat times back (B current, A previous: every readable value moves) and forth again
      (A current: every value moves back), so each of these runs rewrites the same number of
      values; the database ends with every readable value under A.
  (c) with tracemalloc on, for Python's own peak allocations: back, a dry run that finds every
      value to rotate, forth.

Per run it prints the wall time, the statements sent (by kind; an ``executemany`` counts once
per parameter set, as MySQLdb sends an UPDATE that way), the peak resident size (VmHWM, reset
before each run) and the values and rows rotated. Times: min and median.
"""

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

REFUSED = {"askpro_scaled"}  # the shared full-size database: benchmarked by others, never rotated


def vm_hwm_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> None:
    """Linux: start VmHWM again from the current resident size (clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


class Statements:
    """Counts the statements sent through Django's connection, by their first word."""

    def __init__(self):
        self.counts = Counter()

    def __call__(self, execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        self.counts[verb] += len(params) if many and verb != "INSERT" else 1
        return execute(sql, params, many, context)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def text(self) -> str:
        return (
            f"{self.total:,} ("
            + ", ".join(f"{verb} {n:,}" for verb, n in sorted(self.counts.items()))
            + ")"
        )


@contextmanager
def keys(current: str, previous: str):
    from django.conf import settings

    from integrations_app.crypto.encrypter import Encrypter

    saved = settings.GATEWAY_APP_KEY, settings.GATEWAY_PREVIOUS_KEYS
    settings.GATEWAY_APP_KEY, settings.GATEWAY_PREVIOUS_KEYS = current, [previous]
    try:
        yield Encrypter.from_settings()
    finally:
        settings.GATEWAY_APP_KEY, settings.GATEWAY_PREVIOUS_KEYS = saved


def one_run(label, current, previous, *, dry_run, batch_size, trace=False) -> dict:
    import gc

    from django.db import connection

    from integrations_app import key_rotation

    options = {"dry_run": dry_run}
    if batch_size:
        options["batch_size"] = batch_size
    statements = Statements()
    gc.collect()
    with keys(current, previous) as encrypter, connection.execute_wrapper(statements):
        if trace:
            tracemalloc.start()
        reset_peak_rss()
        started = time.perf_counter()
        report = key_rotation.rotate(encrypter=encrypter, **options)
        seconds = time.perf_counter() - started
        hwm = vm_hwm_mib()
        traced = None
        if trace:
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    result = {
        "label": label,
        "seconds": seconds,
        "statements": statements,
        "hwm": hwm,
        "traced": traced,
        "rotated": report.counts[key_rotation.ROTATED],
        "rows": report.rows_changed,
        "problems": len(report.problems),
    }
    print(
        f"  {label:<28} {seconds:7.2f} s  statements {statements.text()}  "
        f"VmHWM {hwm:6.1f} MiB"
        + (f"  tracemalloc peak {traced:6.1f} MiB" if traced is not None else "")
        + f"  values {result['rotated']:,} in {result['rows']:,} rows,"
        + f" unreadable {result['problems']:,}",
        flush=True,
    )
    return result


def summary(name, results) -> None:
    times = [r["seconds"] for r in results]
    print(
        f"{name}: min {min(times):.2f} s, median {statistics.median(times):.2f} s over "
        f"{len(times)} runs; statements {results[0]['statements'].total:,}; "
        f"VmHWM max {max(r['hwm'] for r in results):.1f} MiB"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=0, help="default: the command's")
    parser.add_argument("--keys-dir", type=Path, default=BASE_DIR / "var" / "bench")
    args = parser.parse_args(argv)
    database = urlsplit(args.database_url).path.strip("/")
    if not database or database in REFUSED:
        raise SystemExit(f"refused: {database!r} (run against your own copy, see the docstring)")
    key_a = (args.keys_dir / f"{database}.key").read_text().strip()
    key_b = (args.keys_dir / f"{database}.previous-keys").read_text().strip().split(",")[0]

    os.environ["DATABASE_URL"] = args.database_url
    os.environ["GATEWAY_APP_KEY"] = key_a
    os.environ["GATEWAY_PREVIOUS_KEYS"] = key_b
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")
    import django

    django.setup()
    from django.db import connection

    print(f"database {database} ({connection.vendor}); code {BASE_DIR}")
    print("(a) dry run, A current, B previous")
    dry = [
        one_run(f"dry run {i + 1}", key_a, key_b, dry_run=True, batch_size=args.batch_size)
        for i in range(args.repeat)
    ]
    print("(b) rotation")
    first = one_run("A <- B (make_data's)", key_a, key_b, dry_run=False, batch_size=args.batch_size)
    full = []
    for i in range(args.repeat):
        full.append(
            one_run(
                f"B <- A (back) {i + 1}", key_b, key_a, dry_run=False, batch_size=args.batch_size
            )
        )
        full.append(
            one_run(
                f"A <- B (forth) {i + 1}", key_a, key_b, dry_run=False, batch_size=args.batch_size
            )
        )
    print("(c) with tracemalloc")
    traced = [
        one_run(
            "B <- A, traced", key_b, key_a, dry_run=False, batch_size=args.batch_size, trace=True
        ),
        one_run(
            "dry run A <- B, traced",
            key_a,
            key_b,
            dry_run=True,
            batch_size=args.batch_size,
            trace=True,
        ),
        one_run(
            "A <- B, traced", key_a, key_b, dry_run=False, batch_size=args.batch_size, trace=True
        ),
    ]
    print()
    summary("dry run", dry)
    summary("first rotation", [first])
    summary(f"full rotation ({full[0]['rotated']:,} values)", full)
    back, preview, forth = (r["traced"] for r in traced)
    print(
        f"tracemalloc peak: rotation {back:.1f} MiB, dry run {preview:.1f} MiB, "
        f"rotation {forth:.1f} MiB"
    )


if __name__ == "__main__":
    main()
