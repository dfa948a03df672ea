"""`rotate_gateway_key`: values under a previous key move to the current key, in their flavour."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import translation

from changelog.models import Change, Operation, Source
from integrations_app import key_rotation
from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.crypto.keys import parse_app_key
from integrations_app.models import Company, Integration
from tests import support
from tests.support import TEST_APP_KEY, TEST_PREVIOUS_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in their English source text, whatever the tier's language."""
    with translation.override("en"):
        yield


NEW = Encrypter(parse_app_key(TEST_APP_KEY))  # the current key only: what must read every value
OLD = Encrypter(parse_app_key(TEST_PREVIOUS_KEY))
CAL, RETELL, API, HOOK = "cal_test_äöü€_rotate", "key_test_retell_1", "cal_test_api", "whsec_test"


def tampered(payload: str) -> str:
    """A payload that still starts `eyJ` (companies' CHECK) but whose MAC no longer matches."""
    import base64

    fields = json.loads(base64.b64decode(payload))
    fields["mac"] = "0" * 64
    return base64.b64encode(json.dumps(fields).encode()).decode()


def company(name: str, **secrets) -> Company:
    return Company.objects.create(name=name, slug=name.lower().replace(" ", "-"), **secrets)


def integration(owner: Company, **secrets) -> Integration:
    return Integration.objects.create(
        company=owner, name="Cal.com", type="calcom", provider="calcom", **secrets
    )


def stored(model, pk, column):
    return model._base_manager.values_list(column, flat=True).get(pk=pk)


@pytest.fixture
def rows(gateway_key):
    """An old-key company and integration, a current one, and their secrets."""
    old = company("Alt GmbH", calcom_api_key=OLD.encrypt(CAL), retell_api_key=OLD.encrypt(RETELL))
    current = company("Neu GmbH", calcom_api_key=NEW.encrypt(CAL))
    old_integration = integration(
        old, api_key=OLD.encrypt_string(API), webhook_secret=OLD.encrypt_string(HOOK)
    )
    current_integration = integration(current, api_key=NEW.encrypt_string(API))
    return {
        "old": old,
        "current": current,
        "old_integration": old_integration,
        "current_integration": current_integration,
    }


def test_values_under_the_previous_key_are_rotated_in_their_own_flavour(rows):
    report = key_rotation.rotate()

    assert report.counts[key_rotation.ROTATED] == 4
    assert report.counts[key_rotation.CURRENT] == 2
    assert report.rows_changed == 2 and not report.problems
    old, hook = rows["old"], rows["old_integration"]
    for model, pk, column, flavour, secret in [
        (Company, old.pk, "calcom_api_key", SERIALIZED, CAL),
        (Company, old.pk, "retell_api_key", SERIALIZED, RETELL),
        (Integration, hook.pk, "api_key", RAW, API),
        (Integration, hook.pk, "webhook_secret", RAW, HOOK),
    ]:
        payload = stored(model, pk, column)
        assert payload.startswith("eyJ")
        found = NEW.inspect(payload)  # the new key alone reads it
        assert (found.value, found.flavour, found.key_index) == (secret, flavour, 0)
    assert NEW.decrypt(stored(Company, old.pk, "calcom_api_key")) == CAL
    assert NEW.decrypt_string(stored(Integration, hook.pk, "api_key")) == API


def test_laravel_reads_the_rotated_values_with_the_new_key_alone(rows, php):
    key_rotation.rotate()
    old, hook = rows["old"], rows["old_integration"]
    results = php.run(
        [
            {"key": TEST_APP_KEY, "action": action, "value": stored(model, pk, column)}
            for model, pk, column, action in [
                (Company, old.pk, "calcom_api_key", "decrypt"),
                (Company, old.pk, "retell_api_key", "decrypt"),
                (Integration, hook.pk, "api_key", "decryptString"),
                (Integration, hook.pk, "webhook_secret", "decryptString"),
            ]
        ]
    )
    assert [(r.ok, r.value) for r in results] == [(True, s) for s in (CAL, RETELL, API, HOOK)]


def test_current_values_are_untouched_byte_for_byte(rows):
    current, current_integration = rows["current"], rows["current_integration"]
    before = (
        stored(Company, current.pk, "calcom_api_key"),
        stored(Integration, current_integration.pk, "api_key"),
    )
    key_rotation.rotate()
    after = (
        stored(Company, current.pk, "calcom_api_key"),
        stored(Integration, current_integration.pk, "api_key"),
    )
    assert after == before
    assert stored(Company, current.pk, "retell_api_key") is None


def test_rotation_keeps_updated_at(rows):
    before = stored(Company, rows["old"].pk, "updated_at")
    key_rotation.rotate()
    assert stored(Company, rows["old"].pk, "updated_at") == before


def test_unreadable_values_are_listed_and_left_untouched(gateway_key):
    corrupt_mac = tampered(OLD.encrypt(CAL))
    broken = company("Kaputt GmbH", calcom_api_key=corrupt_mac, retell_api_key=OLD.encrypt(RETELL))
    garbage = integration(broken, api_key="not a payload", api_secret=OLD.encrypt_string(API))

    report = key_rotation.rotate()

    problems = {(p.table, p.pk, p.column, p.outcome, p.reason) for p in report.problems}
    assert problems == {
        ("companies", broken.pk, "calcom_api_key", "undecryptable", "mac_mismatch"),
        ("integrations", garbage.pk, "api_key", "undecryptable", "not_base64"),
    }
    assert stored(Company, broken.pk, "calcom_api_key") == corrupt_mac
    assert stored(Integration, garbage.pk, "api_key") == "not a payload"
    # The readable values of the same rows are rotated all the same.
    assert NEW.decrypt(stored(Company, broken.pk, "retell_api_key")) == RETELL
    assert NEW.decrypt_string(stored(Integration, garbage.pk, "api_secret")) == API
    assert report.counts[key_rotation.UNDECRYPTABLE] == 2


def test_values_in_the_wrong_flavour_are_reported_and_left_untouched(gateway_key):
    raw_in_serialized = OLD.encrypt_string(CAL)
    serialized_in_raw = OLD.encrypt(API)
    not_a_string = company("Zahl GmbH")
    # A serialized integer, encrypted raw under a valid key: no string, never evaluated.
    Company.objects.filter(pk=not_a_string.pk).update(retell_api_key=OLD.encrypt_string("i:5;"))
    wrong = company("Falsch GmbH", calcom_api_key=raw_in_serialized)
    wrong_integration = integration(wrong, api_key=serialized_in_raw)

    report = key_rotation.rotate()

    problems = {(p.table, p.pk, p.column, p.outcome, p.reason) for p in report.problems}
    assert problems == {
        ("companies", wrong.pk, "calcom_api_key", "wrong_flavour", "wrong_flavour"),
        ("companies", not_a_string.pk, "retell_api_key", "undecryptable", "not_a_string"),
        ("integrations", wrong_integration.pk, "api_key", "wrong_flavour", "wrong_flavour"),
    }
    assert stored(Company, wrong.pk, "calcom_api_key") == raw_in_serialized
    assert stored(Integration, wrong_integration.pk, "api_key") == serialized_in_raw
    assert report.counts[key_rotation.ROTATED] == 0


def test_a_dry_run_writes_nothing(rows):
    tables = (Company, Integration)
    before = [list(m._base_manager.order_by("pk").values()) for m in tables]
    changes, operations = Change.objects.count(), Operation.objects.count()

    report = key_rotation.rotate(dry_run=True)

    assert report.dry_run and report.counts[key_rotation.ROTATED] == 4
    assert [list(m._base_manager.order_by("pk").values()) for m in tables] == before
    assert (Change.objects.count(), Operation.objects.count()) == (changes, operations)


def test_a_second_run_rotates_nothing(rows):
    first = key_rotation.rotate()
    values = [list(m._base_manager.order_by("pk").values()) for m in (Company, Integration)]
    second = key_rotation.rotate()
    assert first.counts[key_rotation.ROTATED] == 4
    assert second.counts[key_rotation.ROTATED] == 0 and second.rows_changed == 0
    assert second.counts[key_rotation.CURRENT] == 6
    assert [list(m._base_manager.order_by("pk").values()) for m in (Company, Integration)] == values


def test_soft_deleted_rows_and_small_batches(gateway_key):
    made = [company(f"Firma {i}", calcom_api_key=OLD.encrypt(f"cal_test_{i}")) for i in range(5)]
    made[2].delete()  # soft delete: the gateway may restore it
    report = key_rotation.rotate(batch_size=2)
    assert report.counts[key_rotation.ROTATED] == 5
    for i, row in enumerate(made):
        assert NEW.decrypt(stored(Company, row.pk, "calcom_api_key")) == f"cal_test_{i}"


def test_the_history_records_columns_and_fingerprints_never_secrets(rows):
    old, hook = rows["old"], rows["old_integration"]
    payloads = [stored(Company, old.pk, "calcom_api_key"), stored(Integration, hook.pk, "api_key")]

    key_rotation.rotate()

    operation = Operation.objects.get(source=Source.ROTATION)
    assert operation.name == "rotate_gateway_key" and operation.user is None
    changes = Change.objects.filter(operation=operation)
    assert changes.count() == 2  # one per changed row
    assert all(c.action == Change.Action.UPDATE for c in changes)
    company_change = changes.get(table="companies", object_pk=str(old.pk))
    previous = "(GATEWAY_PREVIOUS_KEYS[0])"
    assert company_change.before == {
        "calcom_api_key": f"{fingerprint(CAL)} {previous}",
        "retell_api_key": f"{fingerprint(RETELL)} {previous}",
    }
    assert company_change.after == {
        "calcom_api_key": fingerprint(CAL),
        "retell_api_key": fingerprint(RETELL),
    }
    integration_change = changes.get(table="integrations", object_pk=str(hook.pk))
    assert integration_change.before == {
        "api_key": f"{fingerprint(API)} {previous}",
        "webhook_secret": f"{fingerprint(HOOK)} {previous}",
    }
    assert integration_change.after == {
        "api_key": fingerprint(API),
        "webhook_secret": fingerprint(HOOK),
    }
    everything = json.dumps(
        [[c.before, c.after, c.object_repr] for c in Change.objects.all()], ensure_ascii=False
    )
    new_payloads = [
        stored(Company, old.pk, "calcom_api_key"),
        stored(Integration, hook.pk, "api_key"),
    ]
    for secret in (CAL, RETELL, API, HOOK, *payloads, *new_payloads):
        assert secret not in everything
        assert secret[-8:] not in everything


def test_without_previous_keys_nothing_is_rotated(rows, settings):
    settings.GATEWAY_PREVIOUS_KEYS = []
    report = key_rotation.rotate()
    assert report.counts[key_rotation.ROTATED] == 0
    assert report.counts[key_rotation.UNDECRYPTABLE] == 4  # the old values: no key opens them
    assert stored(Company, rows["old"].pk, "calcom_api_key") == rows["old"].calcom_api_key


def test_the_tenants_table_is_skipped_when_absent(rows):
    report = key_rotation.rotate()
    if "tenants" in connection.introspection.table_names():
        assert "tenants" in report.tables
    else:
        assert "tenants" in report.absent and "tenants" not in report.tables


def test_tenants_rows_are_rotated_on_the_reference_schema(gateway_key):
    if "tenants" not in connection.introspection.table_names():
        if connection.vendor != "sqlite":
            pytest.skip(
                "the tenants table exists in the reference schema (ASKPRO_GATEWAY_TABLES=reference)"
            )
        # SQLite: the reference schema's columns, in the test's transaction (rolled back).
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE tenants (id integer PRIMARY KEY AUTOINCREMENT, name varchar(255), "
                "slug varchar(255), api_secret text, calcom_api_key text, retell_api_key text, "
                "webhook_secret text)"
            )
    values = {
        "api_secret": OLD.encrypt("key_test_secret"),
        "calcom_api_key": NEW.encrypt(CAL),
        "retell_api_key": tampered(OLD.encrypt(RETELL)),
        "webhook_secret": OLD.encrypt(HOOK),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenants (name, slug, api_secret, calcom_api_key, retell_api_key, "
            "webhook_secret) VALUES (%s, %s, %s, %s, %s, %s)",
            ["Mandant", "mandant-rotation", *values.values()],
        )
        tenant = cursor.lastrowid

    report = key_rotation.rotate()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_secret, calcom_api_key, retell_api_key, webhook_secret FROM tenants "
            "WHERE id = %s",
            [tenant],
        )
        after = dict(zip(values, cursor.fetchone(), strict=True))
    assert NEW.decrypt(after["api_secret"]) == "key_test_secret"
    assert NEW.decrypt(after["webhook_secret"]) == HOOK
    assert after["calcom_api_key"] == values["calcom_api_key"]  # current: untouched
    assert after["retell_api_key"] == values["retell_api_key"]  # corrupt: untouched, listed
    assert ("tenants", tenant, "retell_api_key") in {
        (p.table, p.pk, p.column) for p in report.problems
    }
    assert "tenants.api_key" in report.absent  # the reference schema has no such column
    change = Change.objects.get(table="tenants", object_pk=str(tenant))
    assert change.operation.source == Source.ROTATION
    assert change.before == {
        "api_secret": f"{fingerprint('key_test_secret')} (GATEWAY_PREVIOUS_KEYS[0])",
        "webhook_secret": f"{fingerprint(HOOK)} (GATEWAY_PREVIOUS_KEYS[0])",
    }
    assert change.after == {
        "api_secret": fingerprint("key_test_secret"),
        "webhook_secret": fingerprint(HOOK),
    }
    assert key_rotation.rotate().counts[key_rotation.ROTATED] == 0


@pytest.mark.django_db(transaction=True)
def test_each_batch_is_its_own_transaction(gateway_key, monkeypatch):
    first = company("Erste GmbH", calcom_api_key=OLD.encrypt("cal_test_1"))
    second = company("Zweite GmbH", calcom_api_key=OLD.encrypt("cal_test_2"))
    second_payload = stored(Company, second.pk, "calcom_api_key")
    write, calls = key_rotation._write, []

    def failing_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return write(*args, **kwargs)

    monkeypatch.setattr(key_rotation, "_write", failing_second_batch)
    with pytest.raises(RuntimeError):
        key_rotation.rotate(batch_size=1)

    assert not transaction.get_connection().in_atomic_block
    assert NEW.decrypt(stored(Company, first.pk, "calcom_api_key")) == "cal_test_1"
    assert stored(Company, second.pk, "calcom_api_key") == second_payload
    assert Change.objects.filter(operation__source=Source.ROTATION).count() == 1


# -- the command -----------------------------------------------------------------------------------


def run(*args) -> tuple[str, str, int]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("rotate_gateway_key", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return out.getvalue(), err.getvalue(), code


def test_the_command_prints_fingerprints_never_secrets(rows):
    out, err, code = run()
    assert code == 0, err
    assert f"rotated companies id={rows['old'].pk} calcom_api_key" in out
    assert fingerprint(CAL) in out and "GATEWAY_PREVIOUS_KEYS[0]" in out
    assert "Rotated 4 values in 2 rows; already current: 2; undecryptable: 0" in out
    for secret in (CAL, RETELL, API, HOOK, TEST_APP_KEY, TEST_PREVIOUS_KEY):
        assert secret not in out + err
    assert "Rotated 0 values in 0 rows" in run()[0]


def test_the_command_dry_run(rows):
    before = stored(Company, rows["old"].pk, "calcom_api_key")
    out, _err, code = run("--dry-run")
    assert code == 0
    assert "would rotate companies" in out and "Would rotate 4 values in 2 rows" in out
    assert "Dry run: nothing was written." in out
    assert stored(Company, rows["old"].pk, "calcom_api_key") == before


def test_the_command_lists_corrupt_values_and_exits_non_zero(gateway_key):
    broken = company("Kaputt GmbH", calcom_api_key=tampered(NEW.encrypt(CAL)))
    out, err, code = run()
    assert code == 3
    assert f"cannot decrypt companies id={broken.pk} calcom_api_key, left untouched" in out
    assert "MAC mismatch" in out
    assert "1 value cannot be read" in err


def test_the_command_refuses_bad_batch_sizes(gateway_key):
    with pytest.raises(CommandError):
        call_command("rotate_gateway_key", "--batch-size", "0")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GATEWAY_APP_KEY": ""}, "GATEWAY_APP_KEY is not set"),
        ({"GATEWAY_APP_KEY": "base64:c2hvcnQ="}, "must decode to 32 bytes"),
        ({"GATEWAY_APP_KEY": "base64:%%%"}, "not valid base64"),
        (
            {"GATEWAY_APP_KEY": TEST_APP_KEY, "GATEWAY_PREVIOUS_KEYS": "base64:c2hvcnQ="},
            "GATEWAY_PREVIOUS_KEYS[0]",
        ),
    ],
)
def test_an_unusable_key_stops_the_command_with_one_line(tmp_path, env, expected):
    result = support.run_manage(
        "rotate_gateway_key",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"GATEWAY_PREVIOUS_KEYS": ""} | env,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and "base64:" in lines[0]
    assert "c2hvcnQ" not in lines[0]  # never the key itself


# -- queries: a fixed number per batch, whatever the rows in it ------------------------------------


def rotation_queries(count: int, batch_size: int) -> list[str]:
    """The statements of a rotation of ``count`` old-key companies and as many integrations.

    The rows are made and rotated in a savepoint that is rolled back afterwards.
    """
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        for i in range(count):
            owner = company(f"Zählung {i}", calcom_api_key=OLD.encrypt(f"cal_test_{i}"))
            integration(owner, api_key=OLD.encrypt_string(f"cal_test_api_{i}"))
        with CaptureQueriesContext(connection) as queries:
            report = key_rotation.rotate(batch_size=batch_size)
        assert report.counts[key_rotation.ROTATED] == 2 * count
        assert report.rows_changed == 2 * count
        assert Change.objects.filter(operation__source=Source.ROTATION).count() == 2 * count
        transaction.set_rollback(True)
    return [q["sql"] for q in queries.captured_queries]


def kinds(queries: list[str]) -> dict:
    from collections import Counter

    return Counter(sql.split(None, 1)[0].upper() for sql in queries)


# Per batch that rotates: the locked read, the UPDATE, the operation's lookup, the INSERT into
# the change store; in the test's transaction the batch's own is a savepoint (two statements).
PER_BATCH = 4 + 2
EMPTY_READ = 1 + 2
# A batch of integrations also reads the companies their labels name ("Cal.com · <company>"),
# in one query for the batch.
LABEL_READ = 1


def test_a_rotation_sends_the_same_queries_for_n_and_3n_rows(gateway_key):
    n = 40
    one, three = rotation_queries(n, 1000), rotation_queries(3 * n, 1000)
    assert len(one) == len(three)
    assert kinds(one) == kinds(three)
    # companies and integrations, one batch each: one multi-row UPDATE per table, one multi-row
    # INSERT into the change store per table, and the operation's row once.
    updates = [s for s in three if s.upper().startswith("UPDATE")]
    assert len(updates) == 2 and all(" CASE " in s for s in updates)
    inserts = [s for s in three if s.upper().startswith("INSERT")]
    assert len(inserts) == 3
    assert sum("changelog_change" in s for s in inserts) == 2


def test_the_queries_of_a_rotation_depend_only_on_its_batches(gateway_key):
    batch, n = 25, 40  # per table: 40 rows are 2 batches, 120 rows 5 (no empty read after either)
    one, three = rotation_queries(n, batch), rotation_queries(3 * n, batch)
    assert len(three) - len(one) == 2 * (5 - 2) * PER_BATCH + (5 - 2) * LABEL_READ
    assert kinds(one)["UPDATE"] == 2 * 2 and kinds(three)["UPDATE"] == 2 * 5
    # 30 and 50 rows are both 2 batches; after 50 (full batches) one more read finds nothing.
    assert len(rotation_queries(50, batch)) - len(rotation_queries(30, batch)) == 2 * EMPTY_READ


def test_a_dry_run_sends_no_write_statement(gateway_key):
    from django.test.utils import CaptureQueriesContext

    for i in range(30):
        company(f"Vorschau {i}", calcom_api_key=OLD.encrypt(f"cal_test_{i}"))
    with CaptureQueriesContext(connection) as queries:
        report = key_rotation.rotate(dry_run=True, batch_size=20)
    assert report.counts[key_rotation.ROTATED] == 30
    sent = kinds([q["sql"] for q in queries.captured_queries])
    assert not sent["UPDATE"] and not sent["INSERT"] and not sent["DELETE"]
