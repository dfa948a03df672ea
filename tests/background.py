"""Reading a scratch database that a worker process writes, from the test process: plain
DB-API connections (SQLite or MariaDB), so a test can watch a job while the worker runs."""

import sqlite3
import time

import environ

JOB_COLUMNS = (
    "state",
    "total",
    "done",
    "ok_count",
    "warning_count",
    "failed_count",
    "skipped_count",
    "error",
    "phone_import_id",
)


def _connect(url: str):
    config = environ.Env.db_url_config(url)
    if url.startswith("sqlite"):
        return sqlite3.connect(config["NAME"], timeout=30), '"'
    import MySQLdb

    connection = MySQLdb.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 3306),
        user=config["USER"] or "root",
        passwd=config["PASSWORD"] or "",
        db=config["NAME"],
        autocommit=True,
    )
    return connection, "`"


def rows(url: str, sql: str) -> list[tuple]:
    """``sql`` with ``{q}`` as the database's identifier quote."""
    connection, quote = _connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(sql.replace("{q}", quote))
        return list(cursor.fetchall())
    finally:
        connection.close()


def scalar(url: str, sql: str):
    return rows(url, sql)[0][0]


def job(url: str, job_id: int) -> dict:
    (row,) = rows(
        url,
        f"SELECT {', '.join(JOB_COLUMNS)} FROM integrations_app_backgroundjob WHERE id = {job_id}",
    )
    return dict(zip(JOB_COLUMNS, row, strict=True))


def wait_for(url: str, job_id: int, condition, *, timeout: float) -> dict:
    """The job as soon as ``condition(job)`` holds (AssertionError after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        found = job(url, job_id)
        if condition(found):
            return found
        assert time.monotonic() < deadline, f"job {job_id} stayed {found}"
        time.sleep(0.05)
