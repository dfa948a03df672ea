"""The review's story: audit the demo data, apply every fix, audit again."""

import pytest
from django.core.management import call_command

from audit_app import measures
from audit_app.fixes import service
from audit_app.fixes.base import all_fixes
from audit_app.models import FixRecord
from audit_app.registry import run_all
from changelog.models import Change

pytestmark = pytest.mark.django_db

CLOSED_BY_FIXES = (
    "AUD-BRN-001",
    "AUD-PHN-002",
    "AUD-PHN-005",
    "AUD-STF-001",
    "AUD-NTF-001",
    "AUD-CUS-001",
)


def counts():
    return {outcome.check.id: outcome.count for outcome in run_all()}


def test_the_fixes_close_what_they_can_and_leave_the_work_list(gateway_key):
    call_command("seed_demo", verbosity=0)
    before = counts()
    assert all(before[check_id] > 0 for check_id in CLOSED_BY_FIXES), before
    assert measures.compute()["integration_coverage"].numerator == 0

    # A number can only be attached once its company has a branch: apply in rounds, as a person
    # would apply the next fix after the first, until no fix has anything left to write.
    for _round in range(3):
        pending = [(fix.id, service.preview(fix.id)) for fix in all_fixes()]
        pending = [(fix_id, plan) for fix_id, plan in pending if not plan.empty]
        if not pending:
            break
        for fix_id, _plan in pending:
            plan = service.preview(fix_id)  # earlier fixes of this round changed the data
            if not plan.empty:
                service.apply_fix(fix_id=fix_id, digest=plan.digest)

    after = counts()
    assert {c: after[c] for c in CLOSED_BY_FIXES} == dict.fromkeys(CLOSED_BY_FIXES, 0)
    # Credentials cannot be invented: every company stays on the "needs credentials" work list.
    assert after["AUD-INT-001"] == after["AUD-INT-002"] == 13
    assert measures.compute()["branch_coverage"].numerator == 13
    assert not pending, "the fixes kept finding work"
    # Every run is one operation of the change store, its rows counted on its record.
    records = list(FixRecord.objects.select_related("operation"))
    assert records and all(r.operation.source == "fix" for r in records)
    for record in records:
        assert Change.objects.filter(operation=record.operation).count() == (
            record.created_count + record.changed_count
        )
