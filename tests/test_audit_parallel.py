"""The audit's checks run in parallel threads (MySQL/MariaDB, outside a transaction): the same
outcomes as one by one, each shared read made once, and counts first for every check."""

import contextvars
import threading
import time

import pytest
from django.db import connection

from audit_app import registry
from audit_app.registry import audit_run, get_check, run_all, shared
from integrations_app.crypto.encrypter import Encrypter
from tests.test_audit_checks import _world


def test_a_shared_read_asked_for_by_several_threads_at_once_is_made_once():
    made = []

    def compute():
        made.append(threading.current_thread().name)
        time.sleep(0.05)  # the others ask while it is being made
        return {"rows": len(made)}

    seen = []
    with audit_run():
        threads = [
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(lambda: seen.append(shared("rows", compute)),),
            )
            for _n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert len(made) == 1
    assert len(seen) == 4 and all(value is seen[0] for value in seen)


def test_counts_first_keeps_the_first_rows_and_counts_all(db, gateway_key):
    """run(row_limit, count_all=True): the count of find() and its first rows, for every check
    but the table inventory (rated row by row), which keeps all its rows."""
    _world(6, Encrypter.from_settings())
    with audit_run():
        for check_id in ("AUD-PHN-002", "AUD-BRN-002", "AUD-NTF-001", "AUD-STF-001"):
            check = get_check(check_id)
            every = check.find()
            assert len(every) >= 3, check_id
            outcome = check.run(2, count_all=True)
            assert outcome.count == len(every) and outcome.rows == every[:2], check_id
            assert outcome.partial
        inventory = get_check("AUD-TBL-001")
        assert inventory.rates_rows
        outcome = inventory.run(1, count_all=True)
        assert outcome.rows == inventory.find() and not outcome.partial


@pytest.mark.django_db(transaction=True)
def test_the_parallel_run_finds_what_the_run_one_by_one_finds(mysql_only, gateway_key, settings):
    _world(8, Encrypter.from_settings())
    settings.AUDIT_PARALLEL_QUERIES = False
    alone = run_all(3, count_all=True)
    settings.AUDIT_PARALLEL_QUERIES = True
    assert registry.parallel_allowed()
    opened = _connections_opened()
    together = run_all(3, count_all=True)
    # the other threads connected on their own (the server counts every connection made)
    assert _connections_opened() - opened >= registry.PARALLEL_THREADS - 1

    def seen(outcomes):
        return [(o.check.id, o.available, o.count, o.rows) for o in outcomes]

    assert seen(together) == seen(alone)
    assert {o.check.id for o in together if o.count} >= {"AUD-PHN-002", "AUD-CUS-001"}


def _connections_opened() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
        return int(cursor.fetchone()[1])
