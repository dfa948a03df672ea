"""The full-size hostile files of the security review against the phone-number reader.

    .venv/bin/python bench/hostile_files.py [--keep DIR] [--only NAME]

Builds each file with tests/hostile_files.py (the zip written part by part in streamed chunks,
so no part is ever held unpacked), then reads each in a fresh child process, as the preview
does before it checks a row (``read_table`` and every row), and prints the time, the peak
resident size (``resource.getrusage``, the whole process: Python, Django and the read), the
CPU time (the wall time counts whatever else the machine does) and the outcome. Each file is
read twice:

  defaults        the settings as shipped
  zip checks off  the declared-size and packing-ratio checks lifted
                  (PHONE_IMPORT_XLSX_MAX_UNPACKED and _MAX_RATIO at 2**40): what the streaming
                  bounds alone do (rows, cell length, the shared strings' own bound)

  before          with ``--before DIR``: the reader of another checkout (``git archive <commit>
                  | tar -x -C DIR``), with the same address-space cap and ``--timeout``

A child may use at most 2 GiB of address space, so a regression fails there, not the machine.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests import hostile_files as h  # noqa: E402

FILES = {
    # name: (what the review reported, how to build it)
    "empty-rows": ("438 KB sheet, 50,000,000 <row/>, no <dimension>: 72 s, 4.4 GB",
                   lambda: h.empty_rows(50_000_000)),
    "shared-strings": ("1.5 MB sharedStrings bomb: 4.6 GB",
                       lambda: h.strings_bomb(37_000_000)),
    "inline-cell": ("one inline cell of 1.5 GB, packed", lambda: h.inline_cell(1_500_000_000)),
    "cell-rows": ("5,000,000 rows of one cell, 1.7 MB", lambda: h.cell_rows(5_000_000)),
}  # fmt: skip
MODES = {"defaults": False, "zip checks off": True}
ADDRESS_SPACE = 2 * 1024**3


def read_in_child(path: str, lifted: bool, tree: str | None) -> None:
    """Child: read the file as the preview does; one JSON line on stdout."""
    if tree:
        sys.path.insert(0, tree)
        os.chdir(tree)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import translation

    from integrations_app.phone_import.errors import ImportFileError
    from integrations_app.phone_import.reader import read_table

    if lifted:
        settings.PHONE_IMPORT_XLSX_MAX_UNPACKED = 2**40
        settings.PHONE_IMPORT_XLSX_MAX_RATIO = 2**40
    translation.activate("en")
    data = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    try:
        table = read_table(data)
        outcome = f"read: {sum(1 for _row in table.rows())} rows"
    except ImportFileError as error:
        outcome = f"refused ({getattr(error, 'code', '-')}): {error}"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_before": before, "rss_peak": peak,
                      "outcome": outcome}))  # fmt: skip


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(path: Path, lifted: bool, tree: str | None = None, timeout: float = 600) -> dict:
    command = [sys.executable, __file__, "--read", str(path)] + (["--lifted"] if lifted else [])
    command += ["--tree", tree] if tree else []
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory
        )
    except subprocess.TimeoutExpired:
        return {"seconds": float(timeout), "cpu": float("nan"), "rss_before": 0, "rss_peak": 0,
                "outcome": f"stopped after {timeout:.0f} s"}  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        died = f"child died ({done.returncode}): {last[-120:]}"
        return {"seconds": float("nan"), "cpu": float("nan"), "rss_before": 0, "rss_peak": 0,
                "outcome": died}  # fmt: skip
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "exit": done.returncode}


def unpacked(path: Path) -> int:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", help="write the files to this directory and keep them")
    parser.add_argument("--only", choices=sorted(FILES), action="append")
    parser.add_argument("--before", help="also read with the reader of this checkout")
    parser.add_argument("--timeout", type=float, default=120, help="for --before (seconds)")
    parser.add_argument("--read", help=argparse.SUPPRESS)
    parser.add_argument("--lifted", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        read_in_child(args.read, args.lifted, args.tree)
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| file | review | packed | unpacked | built in | mode | read in | peak RSS "
          "(before the read) | outcome |")  # fmt: skip
    print("|---|---|---:|---:|---:|---|---:|---:|---|")
    for name in args.only or FILES:
        review, build = FILES[name]
        started = time.perf_counter()
        path = folder / f"{name}.xlsx"
        path.write_bytes(build())
        built = time.perf_counter() - started
        runs = [(mode, run(path, lifted)) for mode, lifted in MODES.items()]
        if args.before:
            runs.append(("before", run(path, False, args.before, args.timeout)))
        for mode, found in runs:
            print(f"| {name} | {review} | {path.stat().st_size / 1024:,.0f} KiB | "
                  f"{unpacked(path) / 1024**2:,.0f} MiB | {built:.1f} s | {mode} | "
                  f"{found['seconds']:.2f} s ({found['cpu']:.2f} s) | "
                  f"{found['rss_peak'] / 1024:.0f} MiB "
                  f"({found['rss_before'] / 1024:.0f}) | {found['outcome'][:110]} |",
                  flush=True)  # fmt: skip
        if not args.keep:
            path.unlink()
    if not args.keep:
        folder.rmdir()


if __name__ == "__main__":
    main()
