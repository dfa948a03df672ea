"""The server side: connect, create (or refuse) the database, load the reference schema, and
move a table's secondary indexes and foreign keys out of the way of the bulk load and back.

Loading 1,000,000 calls into a table with 63 secondary indexes row by row needs a random
page of each index per row; building the indexes afterwards sorts once. The final tables are
checked to be exactly what the schema created (SHOW CREATE TABLE before and after), and every
foreign key that was off during the load is checked row by row (``orphans``).
"""

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import MySQLdb
from MySQLdb.constants import CLIENT

# Only these databases may be dropped by --replace.
REPLACEABLE = ("askpro_scaled", "askpro_bench")
NAME = re.compile(r"\A[A-Za-z0-9_]{1,64}\Z")
SESSION = (
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', "
    "foreign_key_checks = 0, unique_checks = 0"
)


class Refused(Exception):
    """The database may not be used as asked: a one-line reason, exit status 2."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def from_url(cls, url: str) -> "Server":
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb"):
            raise ValueError("must look like mysql://user:password@host:port/database")
        database = parts.path.lstrip("/")
        if not NAME.match(database):
            raise ValueError("needs a database name of letters, digits and _ after the port")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=database,
        )

    def connect(self, database: str | None = None, multi: bool = False):
        flags = CLIENT.MULTI_STATEMENTS | CLIENT.MULTI_RESULTS if multi else 0
        kwargs = {"database": database} if database else {}
        return MySQLdb.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            charset="utf8mb4", client_flag=flags, **kwargs,
        )  # fmt: skip

    def url(self) -> str:
        auth = self.user + (":***" if self.password else "")
        return f"mysql://{auth}@{self.host}:{self.port}/{self.database}"


def prepare_database(server: Server, replace: bool) -> None:
    """Create the database if missing; refuse one that holds tables unless --replace (and
    then only a database named askpro_scaled* / askpro_bench*)."""
    name = server.database
    conn = server.connect()
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [name]
        )
        exists = cursor.fetchone()[0] > 0
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", [name]
        )
        tables = cursor.fetchone()[0]
        if exists and tables:
            if not replace:
                raise Refused(
                    f"database {name} already holds {tables} tables; "
                    "pass --replace to drop and recreate it"
                )
            if not name.startswith(REPLACEABLE):
                raise Refused(
                    f"refusing to drop database {name}: --replace only drops databases whose "
                    f"name starts with {' or '.join(REPLACEABLE)}"
                )
            cursor.execute(f"DROP DATABASE `{name}`")
            exists = False
        if not exists:
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()


def load_schema(server: Server, sql: str) -> int:
    """Execute the schema file's statements (the server splits them); the number of tables."""
    conn = server.connect(server.database, multi=True)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        while cursor.nextset():  # each statement's result; an error surfaces here
            pass
        cursor.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                       [server.database])  # fmt: skip
        return cursor.fetchone()[0]
    finally:
        conn.close()


def session(server: Server):
    """A connection for the load: strict SQL mode, UTC, key checks off (see the module doc)."""
    conn = server.connect(server.database)
    conn.autocommit(False)
    conn.cursor().execute(SESSION)
    return conn


@dataclass
class Deferred:
    """A table's secondary indexes and foreign keys, as SHOW CREATE TABLE wrote them."""

    table: str
    create: str
    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, definition)
    foreign_keys: list[tuple[str, str]] = field(default_factory=list)


_INDEX = re.compile(r"^\s*((?:UNIQUE )?KEY `([^`]+)` .*?),?$")
_FOREIGN = re.compile(r"^\s*(CONSTRAINT `([^`]+)` FOREIGN KEY .*?),?$")


def show_create(cursor, table: str) -> str:
    cursor.execute(f"SHOW CREATE TABLE `{table}`")
    return re.sub(r" AUTO_INCREMENT=\d+", "", cursor.fetchone()[1])


def defer_indexes(cursor, table: str) -> Deferred:
    """Drop the table's foreign keys and secondary indexes; what to add back afterwards."""
    deferred = Deferred(table, show_create(cursor, table))
    for line in deferred.create.splitlines():
        if match := _INDEX.match(line):
            deferred.indexes.append((match.group(2), match.group(1)))
        elif match := _FOREIGN.match(line):
            deferred.foreign_keys.append((match.group(2), match.group(1)))
    if deferred.foreign_keys:
        drops = ", ".join(f"DROP FOREIGN KEY `{name}`" for name, _d in deferred.foreign_keys)
        cursor.execute(f"ALTER TABLE `{table}` {drops}")
    if deferred.indexes:
        drops = ", ".join(f"DROP INDEX `{name}`" for name, _d in deferred.indexes)
        cursor.execute(f"ALTER TABLE `{table}` {drops}")
    return deferred


def build_indexes(cursor, deferred: Deferred) -> None:
    """Build the secondary indexes in one pass over the table (a duplicate fails a UNIQUE
    key here)."""
    if deferred.indexes:
        adds = ", ".join(f"ADD {definition}" for _n, definition in deferred.indexes)
        cursor.execute(f"ALTER TABLE `{deferred.table}` {adds}, ALGORITHM=INPLACE")


def add_foreign_keys(cursor, deferred: Deferred) -> None:
    """Add the foreign keys back (unchecked: ``orphans`` checks them) and prove the table is
    exactly as the schema created it."""
    table = deferred.table
    if deferred.foreign_keys:
        adds = ", ".join(f"ADD {definition}" for _n, definition in deferred.foreign_keys)
        cursor.execute(f"ALTER TABLE `{table}` {adds}, ALGORITHM=INPLACE")
    if show_create(cursor, table) != deferred.create:
        raise RuntimeError(f"{table}: the rebuilt table differs from the schema's definition")


_REFERENCE = re.compile(r"FOREIGN KEY \(`([^`]+)`\) REFERENCES `([^`]+)` \(`([^`]+)`\)")


def orphans(cursor, deferred: Deferred) -> list[str]:
    """Each foreign key of the table whose rows name a missing parent: 'table.column -> n'."""
    found = []
    for name, definition in deferred.foreign_keys:
        match = _REFERENCE.search(definition)
        if not match:
            raise RuntimeError(f"{deferred.table}: cannot read foreign key {name}")
        column, parent, parent_column = match.groups()
        cursor.execute(
            f"SELECT COUNT(*) FROM `{deferred.table}` c LEFT JOIN `{parent}` p "  # noqa: S608
            f"ON p.`{parent_column}` = c.`{column}` "
            f"WHERE c.`{column}` IS NOT NULL AND p.`{parent_column}` IS NULL"
        )
        count = cursor.fetchone()[0]
        if count:
            found.append(f"{deferred.table}.{column} -> {parent}: {count} rows")
    return found
