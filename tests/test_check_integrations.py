"""`manage.py check_integrations` against a real HTTP server on localhost, for cron."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from changelog.models import Change, Operation, Source
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import Integration
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def world():
    """Two companies with both integrations, and rows the command must leave out."""
    first = fp.make_company("Praxis Eins")
    second = fp.make_company("Praxis Zwei")
    fp.make_numbers(first, fp.NUMBERS[:2])
    fp.make_numbers(second, fp.NUMBERS[2:])
    rows = {
        "first_calcom": fp.make_integration(first, "calcom"),
        "first_retell": fp.make_integration(first, "retell"),
        "second_calcom": fp.make_integration(second, "calcom"),
        "second_retell": fp.make_integration(second, "retell"),
    }
    gone = fp.make_company("Geloescht", deleted_at=timezone.now())
    left_out = [
        fp.make_integration(first, "calcom", is_active=False),
        fp.make_integration(second, "retell", status="suspended"),
        fp.make_integration(gone, "calcom"),
        fp.make_integration(first, "calcom", provider="webhook", type="webhook"),
    ]
    return {"first": first, "second": second, "gone": gone, "left_out": left_out, **rows}


def run(*args, logs=None, capsys=None):
    """The command's exit code and its output; the secrets appear in none of it."""
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("check_integrations", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code
    texts = [out.getvalue(), err.getvalue()]
    if logs is not None:
        texts.append(logs.text)
    if capsys is not None:
        texts.extend(capsys.readouterr())
    fp.assert_no_secret(*texts)
    return code, out.getvalue()


def test_all_healthy_exits_zero(fake, world, logs, capsys):
    code, output = run(logs=logs, capsys=capsys)

    assert code == 0
    lines = output.splitlines()
    assert len(lines) == 5
    first, second = world["first"], world["second"]
    assert lines[0].startswith(
        f"company {first.pk} Praxis Eins · Cal.com · integration {world['first_calcom'].pk} · "
        f"healthy (100) · key {fingerprint(fp.CAL_CANARY)} · the API key works"
    )
    assert lines[1].startswith(
        f"company {first.pk} Praxis Eins · Retell AI · integration {world['first_retell'].pk} · "
        f"healthy (100) · key {fingerprint(fp.RETELL_CANARY)} · "
    )
    assert lines[2].startswith(f"company {second.pk} Praxis Zwei · Cal.com")
    assert lines[3].startswith(f"company {second.pk} Praxis Zwei · Retell AI")
    assert lines[4] == "4 tested: 4 healthy, 0 not healthy."
    # Each tested once; the inactive, suspended, deleted-company and webhook rows not at all.
    assert fake.counts()["/v2/me"] == 2
    assert fake.counts()[f"/get-agent/{fp.AGENT_ID}"] == 2
    for row in world["left_out"]:
        assert Integration.objects.get(pk=row.pk).health_status == "unknown"
    operation = Operation.objects.get(source=Source.CONNECTION_TEST)  # one for the whole run
    # Named after what it tested, in the reader's language (the key "integrations:4" stored).
    with translation.override("de"):
        assert str(operation) == "Verbindungstest: 4 Integrationen"
    for name in ("first_calcom", "first_retell", "second_calcom", "second_retell"):
        row = Integration.objects.get(pk=world[name].pk)
        assert (row.health_status, row.success_count) == ("healthy", 1)
        change = Change.objects.filter(table="integrations", object_pk=str(row.pk)).first()
        assert change.operation == operation
        assert change.after["success_count"] == 1


def test_any_failure_exits_non_zero(fake, world, logs, capsys):
    fake.calcom.answer(
        f"/v2/event-types/{fp.EVENT_TYPE_ID}", status=404, json={"message": "not found"}
    )
    fake.retell.answer(
        "/v2/list-phone-numbers",
        json=[{"phone_number": fp.NUMBERS[0], "inbound_agent_id": fp.OTHER_AGENT_ID}],
    )

    code, output = run(logs=logs, capsys=capsys)

    assert code == 1
    lines = output.splitlines()
    assert " · unhealthy (25) · " in lines[0]
    assert f"event type {fp.EVENT_TYPE_ID} not found for this key" in lines[0]
    assert " · degraded (" in lines[1] and "2 of 2 phone numbers" in lines[1]
    assert lines[-1] == "4 tested: 0 healthy, 4 not healthy."
    row = Integration.objects.get(pk=world["first_calcom"].pk)
    assert row.health_status == "unhealthy" and row.error_count == 1


def test_provider_refusing_the_key(fake, world, logs, capsys):
    fake.calcom.answer("/v2/me", status=401, json={"message": f"bad key {fp.CAL_CANARY}"})

    code, output = run("--provider", "calcom", logs=logs, capsys=capsys)

    assert code == 1
    assert output.count("Cal.com answered 401: the API key was refused") == 2
    assert "Retell" not in output
    assert output.splitlines()[-1] == "2 tested: 0 healthy, 2 not healthy."


def test_filter_by_company_and_provider(fake, world):
    code, output = run("--company", str(world["second"].pk), "--provider", "retell")

    assert code == 0
    lines = output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"company {world['second'].pk} Praxis Zwei · Retell AI")
    assert fake.calcom.counts() == {}
    assert fake.retell.counts()[f"/get-agent/{fp.AGENT_ID}"] == 1


def test_timeouts_are_reported_per_integration(settings, fake, world, logs, capsys):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    fake.retell.answer(f"/get-agent/{fp.AGENT_ID}", json=fp.AGENT, delay=1.5)

    code, output = run("--company", str(world["first"].pk), logs=logs, capsys=capsys)

    assert code == 1
    assert "Retell AI timed out after 0.3 s" in output
    assert output.splitlines()[-1] == "2 tested: 1 healthy, 1 not healthy."


def test_company_that_does_not_exist(fake, world):
    with pytest.raises(CommandError, match=r"^company 999999 does not exist$"):
        call_command("check_integrations", "--company", "999999")
    assert fake.counts() == {}


def test_soft_deleted_company(fake, world):
    gone = world["gone"].pk
    with pytest.raises(CommandError, match=rf"^company {gone} is deleted$"):
        call_command("check_integrations", "--company", str(gone))
    assert fake.counts() == {}


@pytest.mark.parametrize(
    "args", [["--provider", "webhook"], ["--company", "abc"]], ids=["provider", "company"]
)
def test_bad_arguments(fake, args):
    with pytest.raises(CommandError, match="invalid"):
        call_command("check_integrations", *args)


def test_nothing_to_test(fake):
    code, output = run()

    assert code == 0
    assert output == "No active Cal.com or Retell AI integration to test.\n"


def test_company_without_integrations(fake, world):
    company = fp.make_company("Leer")

    code, output = run("--company", str(company.pk))

    assert (code, output) == (0, "No active Cal.com or Retell AI integration to test.\n")


def test_without_gateway_app_key_every_line_fails_and_nothing_is_written(
    fake, world, settings, logs, capsys
):
    settings.GATEWAY_APP_KEY = ""

    code, output = run(logs=logs, capsys=capsys)

    assert code == 1
    lines = output.splitlines()
    assert all(" · not tested (0) · no readable key · cannot test: " in line for line in lines[:4])
    assert "GATEWAY_APP_KEY is not set" in lines[0]
    assert lines[-1] == "4 tested: 0 healthy, 4 not healthy."
    assert fake.counts() == {}
    assert not Integration.objects.exclude(health_status="unknown").exists()


def test_undecryptable_key_names_no_fingerprint(fake, world, logs, capsys):
    Integration.objects.filter(pk=world["first_calcom"].pk).update(api_key="eyJub3QiOiJ2YWxpZCJ9")

    code, output = run("--company", str(world["first"].pk), logs=logs, capsys=capsys)

    assert code == 1
    line = output.splitlines()[0]
    assert " · unhealthy (0) · no readable key · the stored API key cannot be decrypted: " in line
