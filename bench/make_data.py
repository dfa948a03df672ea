"""Fill a MariaDB database with the gateway's reference schema at its planned size (issue 13).

    .venv/bin/python bench/make_data.py \
        --database-url mysql://root@127.0.0.1:3306/askpro_scaled \
        --schema /work/shared/askproai/schema.sql [--scale 0.01] [--companies 10000 ...] \
        [--gateway-key base64:...] [--previous-key base64:...] [--seed 1] [--replace]

Creates the database if missing (a database that holds tables is refused unless --replace,
which drops only databases named askpro_scaled* or askpro_bench*), loads the schema file as
it is, fills the business tables with realistic gaps (bench/scaled/), checks every foreign key
and unique key, and prints rows and seconds per table. The same --seed gives the same data.
The test-only gateway key goes to stdout and to var/bench/<database>.key (the previous key to
<database>.previous-keys) for `GATEWAY_APP_KEY=... manage.py audit`.
"""

import argparse
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.scaled import activity, database, keys, lines, providers, tenancy  # noqa: E402
from bench.scaled.activity_plan import plan_activity  # noqa: E402
from bench.scaled.plan import DEFAULT_SIZES, World, plan_companies  # noqa: E402
from bench.scaled.values import stream  # noqa: E402
from bench.scaled.writer import BATCH_ROWS, Writer  # noqa: E402

KEY_DIR = BASE_DIR / "var" / "bench"
NEEDED_TABLES = (
    "companies", "branches", "staff", "phone_numbers", "retell_agents", "services",
    "integrations", "notification_templates", "customers", "appointments", "calls",
    "customer_interactions",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make_data.py",
        description="Fill a MariaDB database with the gateway's schema at its planned size.",
    )
    parser.add_argument(
        "--database-url",
        required=True,
        type=_server,
        help="mysql://user:password@host:port/database",
    )
    parser.add_argument(
        "--schema", required=True, type=_schema_text, help="the gateway's schema.sql"
    )
    parser.add_argument(
        "--scale",
        type=_positive_float,
        default=1.0,
        help="multiply every default size (0.01: a quick run)",
    )
    for table, size in DEFAULT_SIZES.items():
        parser.add_argument(
            f"--{table.replace('_', '-')}",
            type=_count,
            metavar="N",
            help=f"rows of {table} (default {size:,} x --scale)",
        )
    parser.add_argument(
        "--gateway-key",
        type=_key,
        default=keys.DEFAULT_KEY,
        help="APP_KEY to encrypt under (default: an obviously fake test key)",
    )
    parser.add_argument(
        "--previous-key",
        type=_key,
        default=keys.DEFAULT_PREVIOUS_KEY,
        help="a previous APP_KEY some values are still under (test key)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    parser.add_argument("--batch-rows", type=_count, default=BATCH_ROWS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="drop and recreate an askpro_scaled*/askpro_bench* database",
    )
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments, checked: a bad one is a one-line message and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.previous_key == args.gateway_key:
        parser.error("--previous-key must differ from --gateway-key")
    args.sizes = sizes(args)
    if args.sizes["companies"] < 1:
        parser.error("at least one company is needed")
    if args.sizes["appointments"] and not args.sizes["customers"]:
        parser.error("appointments need customers (appointments.customer_id is NOT NULL)")
    if args.batch_rows < 1:
        parser.error("--batch-rows must be at least 1")
    return args


def sizes(args: argparse.Namespace) -> dict[str, int]:
    """Each table's rows: the explicit argument, else the default times --scale."""
    chosen = {}
    for table, size in DEFAULT_SIZES.items():
        explicit = getattr(args, table)
        chosen[table] = explicit if explicit is not None else round(size * args.scale)
    if args.companies is None:
        chosen["companies"] = max(1, chosen["companies"])
    return chosen


def _server(text: str) -> database.Server:
    try:
        return database.Server.from_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _schema_text(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {error}") from None
    missing = [t for t in NEEDED_TABLES if f"CREATE TABLE `{t}`" not in text]
    if missing:
        raise argparse.ArgumentTypeError(f"{path} creates no table {', '.join(missing)}")
    return text


def _key(text: str) -> str:
    try:
        keys.parse_key(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 100: {text}")
    return value


def fill(writer: Writer, world: World, progress) -> float:
    """Every table in foreign-key order; the seconds spent planning the activity."""
    plan_companies(world)
    writer.load("companies", tenancy.COMPANY_COLUMNS, tenancy.company_rows(world))
    progress("companies")
    tenancy.plan_branches(world)
    for table, columns, rows in (
        ("branches", tenancy.BRANCH_COLUMNS, tenancy.branch_rows),
        ("staff", tenancy.STAFF_COLUMNS, tenancy.staff_rows),
        ("phone_numbers", lines.NUMBER_COLUMNS, lines.number_rows),
        ("retell_agents", lines.AGENT_COLUMNS, lines.agent_rows),
        ("services", providers.SERVICE_COLUMNS, providers.service_rows),
        ("integrations", providers.INTEGRATION_COLUMNS, providers.integration_rows),
        ("notification_templates", providers.TEMPLATE_COLUMNS, providers.template_rows),
    ):
        writer.load(table, columns, rows(world))
        progress(table)
    started = time.perf_counter()
    plan = plan_activity(world)
    planned = time.perf_counter() - started
    progress("activity plan", planned)
    for table, columns, rows in (
        ("calls", activity.CALL_COLUMNS, activity.call_rows),  # first: its index build is longest
        ("customers", activity.CUSTOMER_COLUMNS, activity.customer_rows),
        ("appointments", activity.APPOINTMENT_COLUMNS, activity.appointment_rows),
        ("customer_interactions", activity.INTERACTION_COLUMNS, activity.interaction_rows),
    ):
        writer.load(table, columns, rows(world, plan))
        progress(table)
    return planned


def analyze(conn, tables) -> float:
    """Fresh index statistics for the optimizer (the audit's plans depend on them)."""
    started = time.perf_counter()
    cursor = conn.cursor()
    cursor.execute("ANALYZE TABLE " + ", ".join(f"`{t}`" for t in tables))
    cursor.fetchall()
    return time.perf_counter() - started


def write_keys(name: str, args: argparse.Namespace) -> tuple[Path, Path]:
    KEY_DIR.mkdir(parents=True, exist_ok=True)
    current, previous = KEY_DIR / f"{name}.key", KEY_DIR / f"{name}.previous-keys"
    current.write_text(args.gateway_key + "\n", encoding="utf-8")
    previous.write_text(args.previous_key + "\n", encoding="utf-8")
    return current, previous


def print_summary(writer: Writer, extra: dict[str, float], total: float, world: World) -> None:
    print()
    print(
        f"{'table':<24} {'rows':>11} {'insert s':>9} {'indexes s':>10} {'total s':>8} {'rows/s':>9}"
    )
    for stats in writer.stats.values():
        seconds = stats.insert_seconds + stats.index_seconds
        rate = stats.rows / seconds if seconds else 0
        print(
            f"{stats.table:<24} {stats.rows:>11,} {stats.insert_seconds:>9.1f} "
            f"{stats.index_seconds:>10.1f} {seconds:>8.1f} {rate:>9,.0f}"
        )
    for label, seconds in extra.items():
        print(f"{label:<24} {'':>11} {'':>9} {'':>10} {seconds:>8.1f}")
    rows = sum(s.rows for s in writer.stats.values())
    print(f"{'total':<24} {rows:>11,} {'':>9} {'':>10} {total:>8.1f}")
    print()
    print(f"{'gap generated':<62} {'rows':>8}")
    for gap, count in sorted(world.gaps.items()):
        print(f"{gap:<62} {count:>8,}")


def main(argv=None) -> int:
    args = parse_args(argv)
    server = args.database_url
    started = time.perf_counter()
    extra = {}
    try:
        database.prepare_database(server, args.replace)
        t = time.perf_counter()
        tables = database.load_schema(server, args.schema)
        extra["schema load"] = time.perf_counter() - t
        print(f"{server.url()}: schema loaded, {tables} tables ({extra['schema load']:.1f} s)")
        writer = Writer(server, batch_rows=args.batch_rows)
        world = World(args.sizes, args.seed, keys.Secrets(
            keys.parse_key(args.gateway_key), keys.parse_key(args.previous_key),
            stream(args.seed, "secrets")))  # fmt: skip

        def progress(table: str, seconds: float | None = None) -> None:
            stats = writer.stats.get(table)
            if stats is None:
                print(f"  {table}: {seconds:.1f} s", flush=True)
            else:
                print(f"  {table}: {stats.rows:,} rows inserted in {stats.insert_seconds:.1f} s "
                      "(indexes queued)", flush=True)  # fmt: skip

        with keys.seeded_ivs(stream(args.seed, "ivs")):
            extra["activity plan"] = fill(writer, world, progress)
        extra["rest of index builds"] = writer.finish()
        extra["analyze"] = analyze(writer.conn, list(writer.stats))
        writer.conn.close()
    except database.Refused as refusal:
        print(f"make_data.py: {refusal}", file=sys.stderr)
        return 2
    except database.MySQLdb.OperationalError as error:
        print(f"make_data.py: {server.url()}: {error.args[-1]}", file=sys.stderr)
        return 1
    print_summary(writer, extra, time.perf_counter() - started, world)
    current, previous = write_keys(server.database, args)
    print()
    print(f"gateway key (test only): {args.gateway_key}  -> {current.relative_to(BASE_DIR)}")
    print(f"previous key (test only): {args.previous_key}  -> {previous.relative_to(BASE_DIR)}")
    print(f"  DATABASE_URL={server.url()} GATEWAY_APP_KEY=$(cat {current.relative_to(BASE_DIR)}) "
          f"GATEWAY_PREVIOUS_KEYS=$(cat {previous.relative_to(BASE_DIR)}) "
          ".venv/bin/python manage.py audit")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
