"""The writers of bench/load.py, each in a process of its own, and the check afterwards.

    load_writers.py import --database-url URL --rows 3000 --out import.json
    load_writers.py fix --database-url URL --out fix.json
    load_writers.py verify --database-url URL --import-result import.json --fix-result fix.json

``import``: ``--rows`` new Berlin numbers (a block no row uses yet), each with a branch of a
live company, through ``import_phone_numbers`` (the service the admin's confirm calls).
``fix``: the first of FIXES that has updates to make, previewed and applied through
``audit_app.fixes.service.apply_fix`` (the dashboard's path). ``verify``: every imported number
and every row the fix planned is in the database as written, each recorded once in the change
store (else a lost write); then both operations are undone through the console's undo
(``integrations_app.services.undo``), so the copy can serve the next run.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

# Fixes that only update rows (undo puts every value back), the first with work is applied.
FIXES = ("attach-numbers-to-branch", "attach-staff-to-branch", "normalize-numbers")
USER = "bench-load-01"
REASON = "bench/load.py: load test"


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")
    import django

    django.setup()


def user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=USER).first()


def free_block(rows: int) -> list[str]:
    """E.164 Berlin numbers +4930 2xxxxxxx of a block no phone number uses yet."""
    from django.db.models import Q

    from integrations_app.models import PhoneNumber

    chooser = random.Random()
    for _ in range(50):
        start = chooser.randrange(20_000_000, 29_990_000 - rows)
        numbers = [f"+4930{start + i:08d}" for i in range(rows)]
        taken = PhoneNumber._base_manager.filter(
            Q(number__in=numbers) | Q(number_normalized__in=numbers) | Q(phone_number__in=numbers)
        ).exists()
        if not taken:
            return numbers
    raise RuntimeError("no free block of numbers found")


def write_import(rows: int) -> dict:
    from integrations_app.models import Branch, Company
    from integrations_app.phone_import.service import import_phone_numbers

    live = Company.objects.values("id")
    branches = list(Branch.objects.filter(company_id__in=live).order_by("id")
                    .values_list("company_id", "id")[:200])  # fmt: skip
    numbers = free_block(rows)
    lines = ["company;branch;number;type;primary;active;description"]
    for i, number in enumerate(numbers):
        company, branch = branches[i % len(branches)]
        lines.append(f"{company};{branch};{number};direct;0;1;load test {i}")
    data = ("\r\n".join(lines) + "\r\n").encode()
    started = time.perf_counter()
    result = import_phone_numbers(data=data, file_name="load-test.csv", source="bench",
                                  reason=REASON, user=user())  # fmt: skip
    seconds = time.perf_counter() - started
    if not result.written:
        errors = [str(e) for e in result.plan.errors[:3]]
        return {"error": f"not imported: {errors}", "seconds": seconds}
    return {
        "numbers": numbers, "operation": result.record.operation_id, "seconds": seconds,
        "summary": f"{len(numbers):,} numbers imported through the service in {seconds:.1f} s "
                   f"(operation {result.record.operation_id})",
    }  # fmt: skip


def write_fix() -> dict:
    from audit_app.fixes.service import apply_fix, preview

    for fix_id in FIXES:
        plan = preview(fix_id)
        if plan.writes and all(w.action == "update" for w in plan.writes):
            break
    else:
        return {"error": f"none of {', '.join(FIXES)} has anything to do"}
    started = time.perf_counter()
    record = apply_fix(fix_id=fix_id, digest=plan.digest, user=user(), source="bench",
                       reason=REASON)  # fmt: skip
    seconds = time.perf_counter() - started
    writes = [{"table": w.table, "pk": str(w.pk), "after": w.after} for w in plan.writes]
    return {
        "fix": fix_id, "operation": record.operation_id, "writes": writes, "seconds": seconds,
        "summary": f"{fix_id}: {len(writes):,} rows updated through apply_fix in {seconds:.1f} s "
                   f"(operation {record.operation_id})",
    }  # fmt: skip


def _same(expected, actual) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected) == bool(actual)
    return (None if expected is None else str(expected)) == (
        None if actual is None else str(actual))  # fmt: skip


def verify_import(result: dict) -> tuple[int, str]:
    from changelog.models import Change
    from integrations_app.models import PhoneNumber

    numbers = result["numbers"]
    found = set(PhoneNumber.objects.filter(number__in=numbers)
                .values_list("number", flat=True))  # fmt: skip
    recorded = Change.objects.filter(operation_id=result["operation"],
                                     table="phone_numbers").count()  # fmt: skip
    lost = len(numbers) - len(found) + max(0, len(numbers) - recorded)
    return lost, (f"import: {len(found):,} of {len(numbers):,} numbers there, {recorded:,} "
                  "recorded in the change store")  # fmt: skip


def verify_fix(result: dict) -> tuple[int, str]:
    from django.apps import apps

    from changelog.models import Change
    from integrations_app.models import GATEWAY_MODELS

    models = {m._meta.db_table: m for m in GATEWAY_MODELS}
    lost, checked = 0, 0
    by_table: dict[str, list[dict]] = {}
    for write in result["writes"]:
        by_table.setdefault(write["table"], []).append(write)
    for table, writes in by_table.items():
        model = models.get(table) or apps.get_model(table)
        columns = sorted({c for w in writes for c in w["after"]})
        rows = {str(r["pk"]): r for r in model._base_manager.filter(
            pk__in=[w["pk"] for w in writes]).values("pk", *columns)}  # fmt: skip
        for write in writes:
            row = rows.get(write["pk"])
            checked += 1
            if row is None or not all(_same(v, row[c]) for c, v in write["after"].items()):
                lost += 1
    recorded = Change.objects.filter(operation_id=result["operation"]).count()
    lost += max(0, len(result["writes"]) - recorded)
    return lost, (f"fix {result['fix']}: {checked - lost:,} of {checked:,} planned rows as "
                  f"planned, {recorded:,} recorded in the change store")  # fmt: skip


def undo(operation_id) -> str:
    from changelog.models import Operation
    from integrations_app.services.undo import apply_undo, plan_undo

    op = Operation.objects.get(pk=operation_id)
    plan = plan_undo(op=op)
    apply_undo(op_id=op.pk, digest=plan.digest, user=user(), reason=REASON + " (clean-up)",
               partial=True)  # fmt: skip
    return (
        f"operation {operation_id} undone ({len(plan.writes):,} rows, {len(plan.refused)} refused)"
    )


def verify(import_path: Path, fix_path: Path) -> dict:
    results = {k: json.loads(p.read_text()) if p.exists() else {"error": "no result"}
               for k, p in (("import", import_path), ("fix", fix_path))}  # fmt: skip
    lost, parts, undone = 0, [], []
    for kind, check in (("import", verify_import), ("fix", verify_fix)):
        if "operation" not in results[kind]:
            parts.append(f"{kind}: not written ({results[kind].get('error')})")
            continue
        n, text = check(results[kind])
        lost += n
        parts.append(text)
    for kind in ("fix", "import"):  # the later one first
        if "operation" in results[kind]:
            try:
                undone.append(undo(results[kind]["operation"]))
            except Exception as error:  # reported, never hidden
                undone.append(f"{kind}: undo failed: {error}")
    summary = "; ".join(parts) + f"; {lost} lost writes. Clean-up: " + "; ".join(undone)
    return {"lost_writes": lost, "summary": summary}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("import", "fix", "verify"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--import-result", type=Path)
    parser.add_argument("--fix-result", type=Path)
    args = parser.parse_args(argv)
    setup(args.database_url)
    if args.kind == "verify":
        print(json.dumps(verify(args.import_result, args.fix_result), default=str))
        return 0
    try:
        result = write_import(args.rows) if args.kind == "import" else write_fix()
    except Exception as error:  # the load test reports it
        result = {"error": f"{type(error).__name__}: {error}"}
    args.out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
