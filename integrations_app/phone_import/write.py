"""Writing a checked plan through the services: all rows or none, each row recorded.

Only a plan without errors is written. New rows get a new lowercase UUID v4 and the three
routing columns in E.164; an update writes only the columns that differ (and ``updated_at``),
after checking under a row lock that the number is still what the plan compared
(``services.phone_imports``).
"""

from integrations_app.models import PhoneImport
from integrations_app.phone_import.lookups import WRITTEN
from integrations_app.phone_import.plan import NEW, UPDATE, ImportPlan
from integrations_app.services.phone_imports import BATCH, NumberWriter

__all__ = ["BATCH", "write_plan"]


def write_plan(plan: ImportPlan, record: PhoneImport, *, user=None) -> None:
    """Write ``plan`` (no errors) and record every row; the caller holds the transaction and
    the import's ``operation(...)``. Links ``record`` to the operation when a row was written."""
    assert not plan.has_errors, "a plan with errors is never written"
    counts = plan.counts
    if not (counts[NEW] or counts[UPDATE]):
        return  # nothing to write: no operation row either
    writer = NumberWriter(WRITTEN)
    writer.insert(r.after for r in plan.rows_with(NEW))
    writer.update((r.pk, r.before, r.after) for r in plan.rows_with(UPDATE))
    record.operation_id = writer.operation_id
    record.save(update_fields=["operation"])
