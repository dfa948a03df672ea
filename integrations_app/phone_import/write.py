"""Writing a checked plan: all rows or none, in bulk, with the record of every row written.

Only a plan without errors is written. New rows get a new lowercase UUID v4 and the three
routing columns in E.164; an update writes only the columns that differ (and ``updated_at``).
Each written row gets a django-auditlog entry (source and import id in ``additional_data``)
and a ``PhoneImportRow`` of its ``PhoneImport`` record with before and after, both written in
batches of ``BATCH`` rows (one statement for all would exceed MariaDB's max_allowed_packet).
"""

from collections import defaultdict

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.utils import timezone

from integrations_app.history import current_source
from integrations_app.models import PhoneImport, PhoneImportRow, PhoneNumber
from integrations_app.models.fields import new_uuid
from integrations_app.phone_import.validate import NEW, UPDATE, ImportPlan

BATCH = 1000
_FIELD_NAMES = {"company_id": "company", "branch_id": "branch"}  # as django-auditlog names them


def write_plan(plan: ImportPlan, record: PhoneImport) -> None:
    """Write ``plan`` (no errors) and the rows of ``record``; the caller holds the transaction."""
    assert not plan.has_errors, "a plan with errors is never written"
    now = timezone.now().replace(microsecond=0)
    created, groups, changes = [], defaultdict(list), []
    for result in plan.rows:
        if result.status == NEW:
            pk = new_uuid()
            created.append(PhoneNumber(id=pk, created_at=now, updated_at=now, **result.after))
            changes.append(
                PhoneImportRow(phone_import=record, row_number=result.row, phone_number_id=pk,
                               action="create", before=None, after=result.after)
            )  # fmt: skip
        elif result.status == UPDATE:
            columns = tuple(result.changed)
            values = {column: result.after[column] for column in columns}
            groups[columns].append(PhoneNumber(id=result.pk, updated_at=now, **values))
            changes.append(
                PhoneImportRow(phone_import=record, row_number=result.row,
                               phone_number_id=result.pk, action="update",
                               before={c: result.before[c] for c in columns}, after=values)
            )  # fmt: skip
    PhoneNumber.objects.bulk_create(created, batch_size=BATCH)
    for columns, rows in groups.items():
        PhoneNumber.objects.bulk_update(rows, [*columns, "updated_at"], batch_size=BATCH)
    PhoneImportRow.objects.bulk_create(changes, batch_size=BATCH)
    _log_entries(changes, record)


def _log_entries(changes: list[PhoneImportRow], record: PhoneImport) -> None:
    """One history entry per written row, as django-auditlog writes it for a single save."""
    LogEntry = get_logentry_model()
    content_type = ContentType.objects.get_for_model(PhoneNumber)
    additional = {"source": current_source(), "phone_import": record.pk}
    cid = get_cid()
    entries = []
    for change in changes:
        before = change.before or {}
        pk = change.phone_number_id
        entry = LogEntry(
            content_type=content_type,
            object_pk=pk,
            object_id=None,
            object_repr=change.after.get("number") or before.get("number") or pk,
            action=LogEntry.Action.CREATE if change.action == "create" else LogEntry.Action.UPDATE,
            changes={
                _FIELD_NAMES.get(column, column): [before.get(column), value]
                for column, value in change.after.items()
            },
            additional_data=additional,
            cid=cid,
        )
        # Like services._log_entry: the request context of django-auditlog fills in the actor.
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using=None, update_fields=None)
        entries.append(entry)
    LogEntry.objects.bulk_create(entries, batch_size=BATCH)
