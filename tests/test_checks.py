"""The start-up guard: an unusable GATEWAY_APP_KEY is a system-check error in production."""

import pytest
from django.core.checks import Error, Tags, Warning, run_checks
from django.utils import translation

from integrations_app.checks import check_gateway_key
from tests import support
from tests.support import TEST_APP_KEY, TEST_PREVIOUS_KEY


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in their English source text, whatever the tier's language."""
    with translation.override("en"):
        yield


UNUSABLE = [
    pytest.param("", [], "GATEWAY_APP_KEY is not set", id="missing"),
    pytest.param("base64:c2hvcnQ=", [], "must decode to 32 bytes", id="short"),
    pytest.param("base64:%%%", [], "not valid base64", id="not-base64"),
    pytest.param(TEST_APP_KEY, ["base64:c2hvcnQ="], "GATEWAY_PREVIOUS_KEYS[0]", id="previous"),
]


def configure(settings, key, previous, debug):
    settings.GATEWAY_APP_KEY, settings.GATEWAY_PREVIOUS_KEYS, settings.DEBUG = key, previous, debug


@pytest.mark.parametrize(("key", "previous", "expected"), UNUSABLE)
def test_an_unusable_key_is_an_error_in_production(settings, key, previous, expected):
    configure(settings, key, previous, debug=False)
    [issue] = check_gateway_key()
    assert isinstance(issue, Error) and issue.id == "askpro.E001"
    assert expected in issue.msg
    assert "base64:" in issue.hint and "44 characters" in issue.hint
    assert "APP_KEY" in issue.hint
    assert "c2hvcnQ" not in issue.msg + issue.hint  # never (part of) the key


@pytest.mark.parametrize(("key", "previous", "expected"), UNUSABLE)
def test_an_unusable_key_is_a_warning_in_development(settings, key, previous, expected):
    configure(settings, key, previous, debug=True)
    [issue] = check_gateway_key()
    assert isinstance(issue, Warning) and not isinstance(issue, Error)
    assert issue.id == "askpro.W001" and expected in issue.msg and issue.hint


@pytest.mark.parametrize("debug", [False, True])
def test_usable_keys_pass(settings, debug):
    configure(settings, TEST_APP_KEY, [TEST_PREVIOUS_KEY], debug)
    assert check_gateway_key() == []
    configure(settings, TEST_APP_KEY, [], debug)
    assert check_gateway_key() == []


def test_the_check_is_registered(settings):
    configure(settings, "", [], debug=False)
    ids = {issue.id for issue in run_checks(tags=[Tags.security])}
    assert "askpro.E001" in ids
    configure(settings, TEST_APP_KEY, [], debug=False)
    assert not {i.id for i in run_checks(tags=[Tags.security])} & {"askpro.E001", "askpro.W001"}


def test_manage_py_refuses_to_start_without_the_key_in_production(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    missing = support.run_manage(
        "check", database_url=url, extra_env={"GATEWAY_APP_KEY": "", "DEBUG": "false"}
    )
    assert missing.returncode != 0
    assert "askpro.E001" in missing.stderr and "HINT" in missing.stderr
    assert ".env file beside manage.py, then restart" in missing.stderr  # where, and the restart
    configured = support.run_manage("check", database_url=url, extra_env={"DEBUG": "false"})
    assert configured.returncode == 0, configured.stderr
    assert "askpro." not in configured.stdout + configured.stderr


def test_development_only_warns(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = support.run_manage(
        "check", database_url=url, extra_env={"GATEWAY_APP_KEY": "", "DEBUG": "true"}
    )
    assert result.returncode == 0, result.stderr
    assert "askpro.W001" in result.stdout + result.stderr
