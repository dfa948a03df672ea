"""The review's measures: the demo data's figures, definitions on hand-made rows, fixed queries."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit_app import measures
from tests import audit_rows as r

pytestmark = pytest.mark.django_db

KEYS = [
    "integration_coverage",
    "phone_coverage",
    "routable_phone_coverage",
    "branch_coverage",
    "staff_per_branch",
]


def figures(measure) -> tuple:
    return measure.numerator, measure.denominator, measure.percent


def test_demo_data_has_the_reviews_figures():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    computed = measures.compute()
    assert list(computed) == KEYS
    assert figures(computed["integration_coverage"]) == (0, 13, 0.0)
    assert figures(computed["phone_coverage"]) == (4, 13, 30.8)
    # Of the 4 numbers one lacks its E.164 form and one its branch.
    assert figures(computed["routable_phone_coverage"]) == (2, 13, 15.4)
    assert figures(computed["branch_coverage"]) == (7, 13, 53.8)
    # 6 staff on an existing branch, 9 branches: 0.67 per branch against a minimum of 2.
    assert figures(computed["staff_per_branch"]) == (6, 9, 33.3)
    with translation.override("en"):
        assert str(computed["integration_coverage"].label) == "Integration coverage"

    assert measures.row_counts() == {
        "companies": 13,
        "branches": 9,
        "customers": 42,
        "calls": 207,
        "appointments": 41,
        "phone_numbers": 4,
        "staff": 8,
        "services": 21,
        "integrations": 0,
    }


def test_empty_database_gives_zero_not_an_error():
    computed = measures.compute()
    for key in KEYS:
        assert figures(computed[key]) == (0, 0, 0.0), key


def test_definitions_on_hand_made_rows(settings):
    settings.AUDIT_MIN_STAFF_PER_BRANCH = 2
    routable = r.company()
    b = r.branch(routable)
    r.number(routable, r.line(1), at=b)
    r.integration(routable, "calcom")
    r.staff(routable, b), r.staff(routable, b), r.staff(routable, b)

    unmatched = r.company()  # a number, a branch, but not in E.164 form
    b2 = r.branch(unmatched)
    r.number(unmatched, "+49 30 23125 502", at=b2, normalized=None)
    r.integration(unmatched, "retell", is_active=False, status="pending")  # a placeholder
    r.staff(unmatched, b2, **r.deleted())

    foreign = r.company()  # its number books at another company's branch
    r.number(foreign, r.line(3), at=b)

    gone = r.company(**r.deleted())  # never counts
    r.branch(gone)
    r.number(gone, r.line(4))
    r.integration(gone, "calcom")

    computed = measures.compute()
    assert figures(computed["integration_coverage"]) == (1, 3, 33.3)
    assert figures(computed["phone_coverage"]) == (3, 3, 100.0)
    assert figures(computed["routable_phone_coverage"]) == (1, 3, 33.3)
    assert figures(computed["branch_coverage"]) == (2, 3, 66.7)
    # 3 live staff on 2 live branches: 1.5 of 2 per branch.
    assert figures(computed["staff_per_branch"]) == (3, 2, 75.0)

    settings.AUDIT_MIN_STAFF_PER_BRANCH = 1
    assert measures.compute()["staff_per_branch"].percent == 100.0

    counts = measures.row_counts()
    assert counts["companies"] == 3  # live rows only
    assert counts["phone_numbers"] == 4  # no soft delete: the gateway ignores deleted_at
    assert counts["integrations"] == 3


def _queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        measures.compute()
        measures.row_counts()
    return len(queries)


def test_queries_do_not_grow_with_rows():
    def world(start, size):
        for n in range(start, start + size):
            c = r.company()
            b = r.branch(c)
            r.number(c, r.line(n), at=b)
            r.staff(c, b)
            r.integration(c, "calcom")

    world(0, 2)
    few = _queries()
    world(2, 25)
    # companies; the numbers (one streamed read); the staffing (two counts); row_counts(); on
    # MySQL/MariaDB information_schema's estimates first (one more query).
    assert _queries() == few == (6 if connection.vendor == "mysql" else 5)
