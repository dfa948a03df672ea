import os

import pytest
from django.db import connection

from tests import support


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After Django's own test database: the gateway tables, from the models or schema.sql."""
    with django_db_blocker.unblock():
        support.install_gateway_tables()
    yield


def _commits(request) -> bool:
    """The test writes outside a rolled-back transaction (its rows stay unless emptied)."""
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _empty_gateway_tables_after_transactional_tests(request):
    yield
    if _commits(request):
        support.empty_gateway_tables()


@pytest.fixture(autouse=True)
def _no_real_retell(settings):
    """Saving a Retell integration asks Retell for the agent's name: never the real Retell from
    a test (a closed local port fails at once); tests/fake_providers.py points it elsewhere."""
    settings.RETELL_API_BASE_URL = "http://127.0.0.1:9"


@pytest.fixture
def scratch_database_url(tmp_path):
    with support.scratch_database(tmp_path) as url:
        yield url


@pytest.fixture
def mysql_only():
    if connection.vendor != "mysql":
        pytest.skip("runs in the MariaDB tiers of scripts/test.sh")


@pytest.fixture
def reference_schema():
    """The gateway's schema.sql; `.ci/run` always names it, so CI never skips these tests."""
    path = os.environ.get("GATEWAY_REFERENCE_SCHEMA", "")
    if not path:
        pytest.skip("needs GATEWAY_REFERENCE_SCHEMA=path/to/schema.sql (set by .ci/run)")
    return path


from tests.support import TEST_APP_KEY, TEST_PREVIOUS_KEY  # noqa: E402


@pytest.fixture
def gateway_key(settings):
    """GATEWAY_APP_KEY (and one previous key) set to fake test keys for this test."""
    settings.GATEWAY_APP_KEY = TEST_APP_KEY
    settings.GATEWAY_PREVIOUS_KEYS = [TEST_PREVIOUS_KEY]
    return settings


@pytest.fixture(scope="session")
def php():
    """Laravel's own Encrypter run by PHP (tests/laravel.py); fails in scripts/test.sh when absent,
    skips elsewhere with the apt-get command that installs it."""
    from tests import laravel

    found = laravel.locate()
    if isinstance(found, str):
        laravel.missing(found)
    return found


@pytest.fixture
def english():
    """For tests that read English texts: the tiers run in German."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def fake(settings, gateway_key):
    """Cal.com and Retell faked on localhost (tests/fake_providers.py), answering as healthy."""
    from tests import fake_providers as fp

    with fp.serving(settings) as providers:
        fp.calcom_ok(providers.calcom)
        fp.retell_ok(providers.retell)
        yield providers


@pytest.fixture
def logs(caplog):
    """Every log line at DEBUG, httpx included, to prove no secret is logged."""
    from tests import fake_providers as fp

    with fp.all_logs(caplog) as captured:
        yield captured
