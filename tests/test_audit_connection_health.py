"""AUD-INT-004: an integration whose last connection test failed is a finding of its own and does
not count towards the integration coverage; the tests run against real local HTTP servers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit_app import measures
from audit_app.registry import get_check
from tests import fake_providers as fp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def fake(settings, gateway_key):
    with fp.serving(settings) as providers:
        yield providers.calcom


def test_a_failed_test_is_a_finding_and_no_coverage_until_a_test_passes(fake, logs):
    refused = fp.make_integration(fp.make_company("Praxis Nord"), "calcom")
    working = fp.make_integration(fp.make_company("Praxis Süd"), "calcom")
    untested = fp.make_integration(fp.make_company("Praxis West"), "calcom")
    check = get_check("AUD-INT-004")
    assert check.find() == []
    assert measures.compute()["integration_coverage"].numerator == 3

    fake.answer("/v2/me", status=401, json={"status": "error"})
    result, _row = fp.run_connection_test(refused, logs)
    assert result.status == "unhealthy"
    fp.calcom_ok(fake)
    assert fp.run_connection_test(working, logs)[0].ok

    with CaptureQueriesContext(connection) as queries:
        found = check.find()
    assert len(queries) == 1
    assert [row.pk for row in found] == [refused.pk]
    # Named as every integration is named (integration_title), not "Cal.com: Cal.com (...)".
    assert found[0].table == "integrations" and found[0].label == "Cal.com · Praxis Nord"
    assert "the API key was refused" in found[0].detail and "(tested " in found[0].detail
    fp.assert_no_secret(found[0].label, found[0].detail)
    # The failed one is no coverage; the working and the untested one are.
    coverage = measures.compute()["integration_coverage"]
    assert (coverage.numerator, coverage.denominator) == (2, 3)
    assert untested.health_status == "unknown"

    # Its next test passes: no finding, and coverage again.
    assert fp.run_connection_test(refused, logs)[0].ok
    assert check.find() == []
    assert measures.compute()["integration_coverage"].numerator == 3


def test_an_inactive_integration_that_failed_is_not_reported(fake, logs):
    row = fp.make_integration(fp.make_company(), "calcom")
    fake.answer("/v2/me", status=403, json={"status": "error"})
    assert fp.run_connection_test(row, logs)[0].status == "unhealthy"
    assert [a.pk for a in get_check("AUD-INT-004").find()] == [row.pk]
    row.is_active = False
    row.save(update_fields=["is_active"])
    assert get_check("AUD-INT-004").find() == []
