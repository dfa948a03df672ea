"""Event types ↔ services (semantics.md §3b) against a real Cal.com-shaped server on localhost."""

import html
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit_app.fixes.service import StalePlan, apply_fix, preview
from audit_app.models import ProviderReconciliation
from audit_app.registry import CheckUnavailable, get_check
from changelog.models import Change
from integrations_app import reconcile_calcom as rc
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.models import Service
from integrations_app.providers import calcom
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TEAM = 900
OFF = rc.SWITCHED_OFF_ERROR


@pytest.fixture
def cal(settings, gateway_key):
    with fp.serving(settings) as providers:
        yield providers.calcom


def company(name="Praxis Test", *, key=fp.CAL_CANARY, team=TEAM, **fields):
    encrypted = Encrypter.from_settings().encrypt(key) if key else None
    return fp.make_company(name, calcom_api_key=encrypted, calcom_team_id=team, **fields)


def service(owner, event_type_id, name, minutes=30, **fields):
    return Service.objects.create(
        company=owner,
        name=name,
        calcom_name=name,
        duration_minutes=minutes,
        calcom_event_type_id=str(event_type_id),
        **fields,
    )


def kinds(result):
    return sorted((f["kind"], f["event_type_id"]) for f in result.findings)


def test_every_difference_is_found_across_pages(cal):
    praxis = company()
    other = company("Andere Firma", key=None, team=None)
    service(praxis, 1, "Beratung", 30)
    service(praxis, 2, "Kontrolle", 30, is_active=False, sync_status="error", sync_error=OFF)
    service(praxis, 3, "Alt", 30)  # Cal.com no longer lists 3
    service(praxis, 4, "Kurz", 30)  # drifted: 15 minutes and another name in Cal.com
    service(other, 6, "Webhook", 30)  # filed under the first company by the webhook
    path = fp.calcom_event_types(
        cal,
        [
            fp.cal_event_type(1, "Beratung", 30),
            fp.cal_event_type(2, "Kontrolle", 30),
            fp.cal_event_type(4, "Kurztermin", 15),
            fp.cal_event_type(5, "Neu", 45, hidden=True),
            fp.cal_event_type(6, "Webhook", 30),
        ],
        team_id=TEAM,
        per_page=2,
    )

    (result,) = rc.reconcile()

    assert result.available and len(result.event_types) == 5
    assert kinds(result) == [
        ("drift", "4"),
        ("missing_service", "5"),
        ("orphan_service", "3"),
        ("other_company", "6"),
        ("switched_off", "2"),
    ]
    drift = next(f for f in result.findings if f["kind"] == "drift")
    assert drift["differences"] == {"name": ["Kurz", "Kurztermin"], "duration_minutes": [30, 15]}
    # Three pages, each with the key and the api version; the next pages by take/skip.
    got = cal.requests_to(path)
    assert [r.query for r in got] == ["", "take=2&skip=2", "take=2&skip=4"]
    assert all(r.headers["authorization"] == f"Bearer {fp.CAL_CANARY}" for r in got)
    assert all(r.headers["cal-api-version"] == "2024-06-14" for r in got)


def test_without_a_team_the_users_event_types_are_read(cal):
    company(team=None)
    path = fp.calcom_event_types(cal, [fp.cal_event_type(1, "Beratung")])

    (result,) = rc.reconcile()

    assert result.available and kinds(result) == [("missing_service", "1")]
    assert len(cal.requests_to(path)) == 1


def test_a_page_that_never_ends_is_bounded_with_a_clear_message(cal, monkeypatch):
    monkeypatch.setattr(calcom, "MAX_EVENT_TYPE_PAGES", 3)
    company()
    path = f"/v2/teams/{TEAM}/event-types"
    endless = {
        "status": "success",
        "data": [fp.cal_event_type(1, "Beratung")],
        "pagination": {"hasNextPage": True},
    }
    cal.answer(path, json=endless)  # every take/skip falls back to the same page

    (result,) = rc.reconcile()

    assert not result.available and "did not end after 3 pages" in result.reason
    assert len(cal.requests_to(path)) == 3
    assert result.findings == []


@pytest.mark.parametrize(
    "answer, message",
    [
        (
            {
                "status": "success",
                "data": [
                    {"id": 1, "title": "Beratung", "slug": "b", "length": 30, "hidden": False}
                ],
            },
            "lacks or mistypes the fields lengthInMinutes",
        ),
        (
            {"status": "success", "data": [], "eventTypeGroups": []},
            "unexpected fields: eventTypeGroups",
        ),
        ({"status": "success", "data": {"eventTypeGroups": []}}, "has no list of event types"),
    ],
)
def test_an_answer_of_another_shape_says_so_and_nothing_is_written(cal, answer, message):
    praxis = company()
    service(praxis, 1, "Beratung", 30, is_active=False, sync_status="error", sync_error=OFF)
    cal.answer(f"/v2/teams/{TEAM}/event-types", json=answer)

    (result,) = rc.reconcile()
    rc.store([result])
    plan = preview("sync-calcom-services")

    assert not result.available and message in result.reason
    assert plan.empty and message in plan.needs_person[0].detail
    assert Service.objects.get().is_active is False
    assert not Change.objects.exists()


def test_provider_down_is_not_available_never_in_sync(cal, settings):
    company()
    settings.CALCOM_API_BASE_URL = "http://127.0.0.1:9/v2"  # nothing listens there

    call_command("reconcile_calcom", stdout=StringIO())

    stored = ProviderReconciliation.objects.get()
    assert not stored.available and "could not be reached" in stored.reason
    with pytest.raises(CheckUnavailable, match="could not be read for any company"):
        get_check("AUD-ETY-003").find()


ETY_CHECKS = ("AUD-ETY-001", "AUD-ETY-002", "AUD-ETY-003", "AUD-ETY-004", "AUD-ETY-005")


def test_checks_are_not_available_without_a_key_and_call_nobody(cal):
    fp.make_company("Ohne Cal.com")  # nothing configured: nothing to compare
    assert all(get_check(check_id).find() == [] for check_id in ETY_CHECKS)

    company("Nur Team", key=None, slug="nur-team")  # a team, but no key to read it with
    for check_id in ETY_CHECKS:  # not compared yet
        with pytest.raises(CheckUnavailable, match="reconcile_calcom"):
            get_check(check_id).find()
    call_command("reconcile_calcom", stdout=StringIO())

    stored = ProviderReconciliation.objects.get()
    assert not stored.available and "no Cal.com key" in stored.reason
    for check_id in ETY_CHECKS:
        with pytest.raises(CheckUnavailable, match="no Cal.com key"):
            get_check(check_id).find()
    assert not cal.received


def test_a_key_that_cannot_be_decrypted_is_a_reason(cal):
    # A Laravel payload (it passes the reference schema's eyJ… CHECK) under a key the console
    # does not have.
    from integrations_app.crypto.encrypter import Encrypter

    foreign = Encrypter(b"not the gateway key: 32 bytes!!!").encrypt("cal_test_foreign_key")
    fp.make_company("Kaputt", calcom_api_key=foreign, calcom_team_id=TEAM)

    (result,) = rc.reconcile()

    assert not result.available and "cannot be decrypted" in result.reason
    assert not cal.received


def test_one_cache_per_run_and_companies_read_in_parallel(cal):
    for i in range(6):
        company(f"Firma {i}", slug=f"firma-{i}")
    path = fp.calcom_event_types(cal, [fp.cal_event_type(1, "Beratung")], team_id=TEAM)
    run = rc.Run()

    results = rc.reconcile(run=run)

    assert len(results) == 6 and all(r.available for r in results)
    assert len(cal.requests_to(path)) == 1 and run.requests == 1  # same key and team: cached


def test_checks_read_the_stored_result_with_a_fixed_number_of_queries(cal):
    praxis = company()
    service(praxis, 2, "Kontrolle", 30, is_active=False, sync_status="error", sync_error=OFF)
    fp.calcom_event_types(
        cal, [fp.cal_event_type(2, "Kontrolle"), fp.cal_event_type(5, "Neu")], team_id=TEAM
    )
    call_command("reconcile_calcom", stdout=StringIO())
    before = len(cal.received)

    with CaptureQueriesContext(connection) as queries:
        off = get_check("AUD-ETY-003").find()
        missing = get_check("AUD-ETY-001").find()

    assert len(queries) == 2 and len(cal.received) == before  # no provider call from a check
    assert [a.label for a in off] == ["Kontrolle (Praxis Test)"]
    assert [a.pk for a in missing] == ["5"]


def test_fix_preview_apply_and_a_stale_preview(cal):
    praxis = company()
    other = company("Andere Firma", key=None, team=None)
    service(praxis, 2, "Kontrolle", 30, is_active=False, sync_status="error", sync_error=OFF)
    service(praxis, 4, "Kurz", 30)
    service(other, 6, "Webhook", 30)
    items = [
        fp.cal_event_type(2, "Kontrolle", 30),
        fp.cal_event_type(4, "Kurztermin", 15),
        fp.cal_event_type(5, "Neu", 45, price=12.5, scheduleId=77, bookingUrl="https://cal.com/x"),
        fp.cal_event_type(6, "Webhook", 30),
    ]
    fp.calcom_event_types(cal, items, team_id=TEAM)
    assert preview("sync-calcom-services").empty  # nothing stored yet: nobody to read
    call_command("reconcile_calcom", stdout=StringIO())

    plan = preview("sync-calcom-services")
    assert sorted((w.action, w.pk or w.key) for w in plan.writes) == [
        ("create", "service-for-event-type-5"),
        ("update", Service.objects.get(calcom_event_type_id="2").pk),
        ("update", Service.objects.get(calcom_event_type_id="4").pk),
    ]
    assert [a.label for a in plan.needs_person] == ["Webhook (Praxis Test)"]

    # Cal.com changes between preview and confirm: the new preview, nothing written.
    items[2] = fp.cal_event_type(5, "Neu", 60)
    fp.calcom_event_types(cal, items, team_id=TEAM)
    with pytest.raises(StalePlan) as stale:
        apply_fix(fix_id="sync-calcom-services", digest=plan.digest)
    assert not Change.objects.exists()

    record = apply_fix(fix_id="sync-calcom-services", digest=stale.value.plan.digest)

    assert (record.created_count, record.changed_count) == (1, 2)
    new = Service.objects.get(calcom_event_type_id="5")
    assert (new.company_id, new.name, new.calcom_name, new.duration_minutes) == (
        praxis.pk,
        "Neu",
        "Neu",
        60,
    )
    assert new.sync_status == "synced" and new.last_calcom_sync is not None
    switched = Service.objects.get(calcom_event_type_id="2")
    assert switched.is_active and switched.sync_status == "synced" and switched.sync_error is None
    drifted = Service.objects.get(calcom_event_type_id="4")
    assert (drifted.name, drifted.duration_minutes) == ("Kurztermin", 15)
    assert Service.objects.get(calcom_event_type_id="6").company_id == other.pk  # never moved
    assert preview("sync-calcom-services").empty


def test_the_company_page_lists_its_differences(cal, admin_client):
    from django.urls import reverse

    praxis = company()
    quiet = company("Ohne Antwort", slug="ohne-antwort", team=901)
    service(praxis, 2, "Kontrolle", 30, is_active=False, sync_status="error", sync_error=OFF)
    fp.calcom_event_types(cal, [fp.cal_event_type(2, "Kontrolle")], team_id=TEAM)
    cal.answer("/v2/teams/901/event-types", status=503, json={"message": "down"})
    call_command("reconcile_calcom", stdout=StringIO())

    def page(owner):
        url = reverse("admin:integrations_app_company_change", args=[owner.pk])
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        return html.unescape(response.content.decode())

    assert 'service "Kontrolle" was switched off' in page(praxis)
    text = page(quiet)
    assert "not available" in text and "503" in text and "in sync" not in text
    assert fp.CAL_CANARY not in page(praxis) + text


def test_the_demo_shows_a_service_switched_off_although_its_event_type_exists(gateway_key):
    call_command("seed_demo", stdout=StringIO())

    (found,) = get_check("AUD-ETY-003").run().rows
    service = Service.objects.get(pk=found.pk)
    assert not service.is_active and service.sync_error == OFF
    assert service.calcom_event_type_id in found.detail
    assert get_check("AUD-ETY-001").run().available
    # The fix reads Cal.com itself: the demo company has no key, so nothing is planned.
    plan = preview("sync-calcom-services")
    assert plan.empty


def test_the_fix_reads_only_companies_with_stored_findings_it_writes(cal):
    praxis = company()
    quiet = company("In Ordnung", slug="in-ordnung", team=901)
    listed = company("Nur Liste", slug="nur-liste", team=902)
    service(praxis, 2, "Kontrolle", 30, is_active=False, sync_status="error", sync_error=OFF)
    service(quiet, 7, "Beratung", 30)
    service(listed, 8, "Alt", 30)  # Cal.com no longer has 8: listed only, never written
    busy = fp.calcom_event_types(cal, [fp.cal_event_type(2, "Kontrolle")], team_id=TEAM)
    calm = fp.calcom_event_types(cal, [fp.cal_event_type(7, "Beratung")], team_id=901)
    gone = fp.calcom_event_types(cal, [], team_id=902)
    call_command("reconcile_calcom", stdout=StringIO())
    company("Neu dazu", slug="neu-dazu", team=903)  # configured after the comparison
    late = fp.calcom_event_types(cal, [fp.cal_event_type(9, "Neu")], team_id=903)
    before = {path: len(cal.requests_to(path)) for path in (busy, calm, gone, late)}

    plan = preview("sync-calcom-services")

    assert [(w.action, w.pk) for w in plan.writes] == [
        ("update", Service.objects.get(calcom_event_type_id="2").pk)
    ]
    assert [a.label for a in plan.needs_person] == ["Alt (Nur Liste)"]  # from the stored row
    assert len(cal.requests_to(busy)) == before[busy] + 1
    for path in (calm, gone, late):
        assert len(cal.requests_to(path)) == before[path]  # not read

    record = apply_fix(fix_id="sync-calcom-services", digest=plan.digest)

    assert record.changed_count == 1
    assert len(cal.requests_to(busy)) == before[busy] + 2  # once more, under the lock
    for path in (calm, gone, late):
        assert len(cal.requests_to(path)) == before[path]


def test_a_stored_unavailable_company_is_listed_without_reading_it(cal):
    company()
    cal.answer(f"/v2/teams/{TEAM}/event-types", status=503, json={"message": "down"})
    call_command("reconcile_calcom", stdout=StringIO())
    before = len(cal.received)

    plan = preview("sync-calcom-services")

    assert plan.empty and len(cal.received) == before
    (person,) = plan.needs_person
    assert person.label == "Praxis Test" and "503" in person.detail
