"""The key checks (audit_app/checks/keys.py) read the stored keys once per audit run, streamed,
keeping digests instead of keys (issue 13): the same rows, in the same order, with the same
texts as when every key was held in memory; and no check queries while it reads a stream."""

import pytest
from django.db import connection
from django.test.utils import override_settings
from django.utils import translation

from audit_app.checks import credentials, key_scan, queried, secrets
from audit_app.registry import audit_run, get_check
from audit_app.streaming import stream
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.fingerprint import fingerprint, fingerprint_digest, fingerprint_of
from integrations_app.crypto.keys import parse_app_key
from tests import audit_rows as r
from tests.support import TEST_PREVIOUS_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("secret", ["cal_live_0001", "", "schlüssel-ß-€", "x" * 500])
def test_the_digest_gives_the_fingerprint(secret):
    assert fingerprint_of(fingerprint_digest(secret)) == fingerprint(secret)
    with override_settings(SECRET_KEY="another-secret-key-of-at-least-32-chars"):
        assert fingerprint_of(fingerprint_digest(secret)) == fingerprint(secret)


def _world():
    current = Encrypter.from_settings()
    previous = Encrypter(parse_app_key(TEST_PREVIOUS_KEY))
    # "eyJ…": the reference schema CHECKs that a stored key looks like a Laravel payload
    anna = r.company("Anna", calcom_api_key=current.encrypt("k_shared"), retell_api_key="eyJ@@")
    berta = r.company("Berta", calcom_v2_api_key="k_shared")
    anna2 = r.company("Anna")  # the same name: in the order the key was first read
    held = r.integration(anna2, "calcom", api_key=current.encrypt_string("k_shared"))
    dora = r.company("Dora", calcom_api_key=previous.encrypt("k_old"))
    stale = r.integration(dora, "calcom", api_key=current.encrypt_string("k_new"))
    wrong = r.integration(dora, "retell", api_key=current.encrypt("k_dora_retell"))
    emil = r.company("Emil", retell_api_key=current.encrypt("k_two"), calcom_v2_api_key="k_v2")
    fritz = r.company("Fritz", calcom_api_key=current.encrypt("k_two"))
    fritz_calcom = r.integration(fritz, "calcom", api_key=current.encrypt_string("k_v3"))
    r.company("Gone", calcom_api_key=current.encrypt("k_two"), **r.deleted())
    return {
        "anna": anna, "berta": berta, "anna2": anna2, "held": held, "dora": dora,
        "stale": stale, "wrong": wrong, "emil": emil, "fritz": fritz,
        "fritz_calcom": fritz_calcom,
    }  # fmt: skip


def _rows(check_id: str) -> list[tuple]:
    return [(row.table, row.pk, row.label, row.detail) for row in get_check(check_id).each()]


def test_the_key_checks_rows_and_texts(gateway_key):
    w = _world()
    with audit_run():
        unreadable, diverging, shared = (_rows(f"AUD-KEY-00{n}") for n in (1, 2, 3))
    assert unreadable == [
        ("companies", w["anna"].pk, "Anna", "Retell API key (encrypted): the value is not base64"),
        (
            "integrations",
            w["wrong"].pk,
            "Retell AI · Dora",
            "API key: stored in another encryption format than the gateway reads",
        ),
    ]
    new, old = fingerprint("k_new"), fingerprint("k_old")
    assert diverging == [
        (
            "integrations",
            w["stale"].pk,
            "Cal.com · Dora",
            f"the connection's API key is {new}, but Cal.com API key (encrypted) (Company) "
            f"holds {old}",
        ),
        (
            "integrations",
            w["fritz_calcom"].pk,
            "Cal.com · Fritz",
            f"the connection's API key is {fingerprint('k_v3')}, but Cal.com API key (encrypted) "
            f"(Company) holds {fingerprint('k_two')}",
        ),
    ]
    one, two = fingerprint("k_shared"), fingerprint("k_two")
    assert shared == [
        ("companies", w["anna"].pk, "Anna",
         f"key {one} in Cal.com API key (encrypted) is also held by Anna, Berta"),
        ("companies", w["anna2"].pk, "Anna",
         f"key {one} in API key (Integration) is also held by Anna, Berta"),
        ("companies", w["berta"].pk, "Berta",
         f"key {one} in Cal.com v2 API key (plain text) is also held by Anna, Anna"),
        ("companies", w["emil"].pk, "Emil",
         f"key {two} in Retell API key (encrypted) is also held by Fritz"),
        ("companies", w["fritz"].pk, "Fritz",
         f"key {two} in Cal.com API key (encrypted) is also held by Emil"),
    ]  # fmt: skip


def test_shared_keys_found_alike_when_the_digests_are_sorted_in_parts(gateway_key, monkeypatch):
    """The digests are sorted a part at a time (the sort's list stays small): any number of
    parts finds the same keys in the same order."""
    _world()
    whole = _rows("AUD-KEY-003")
    monkeypatch.setattr(key_scan, "_PART", 1)
    assert _rows("AUD-KEY-003") == whole


def test_no_check_queries_while_it_reads_a_stream(gateway_key, monkeypatch):
    """MySQL answers "Commands out of sync" to a query on a connection whose unbuffered result
    is being read (audit_app/streaming.py): every query while a stream is read fails here, on
    any database."""
    _world()
    r.template(r.company(), "appointment_confirmation", "email")
    r.branch(r.company(), calcom_api_key="cal_live_plain_0001")
    r.integration(r.company(), "calcom", credentials={"api_key": "cal_live_0123456789abcdef"})
    r.integration(r.company(), "Cal.com")  # a display name as provider
    streams = []

    def guarded(queryset, *args, **kwargs):
        rows = stream(queryset, *args, **kwargs)
        first = next(rows, _END)  # the statement runs here: from now on the connection is busy
        if first is _END:
            return
        streams.append(queryset.model)
        with connection.execute_wrapper(_refuse):
            yield first
            yield from rows

    for module in (key_scan, credentials, secrets, queried):
        monkeypatch.setattr(module, "stream", guarded)
    for check_id in (
        "AUD-KEY-001", "AUD-KEY-002", "AUD-KEY-003", "AUD-INT-001", "AUD-INT-002",
        "AUD-INT-003", "AUD-SEC-001", "AUD-SEC-002", "AUD-NTF-001",
    ):  # fmt: skip
        with audit_run():
            assert get_check(check_id).run(row_limit=1, count_all=True).count, check_id
    assert len(streams) >= 9


_END = object()


def _refuse(execute, sql, params, many, context):
    raise AssertionError(f"a query while a stream is read: {sql}")
