"""FixRecord keeps its summary and counts; its rows move into the one change store.

Each existing record's ``changes`` list becomes an Operation (source "fix") with one Change per
row, linked by ``FixRecord.operation``; then the ``changes`` column goes. Secrets were recorded
as fingerprints already, and stay so.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


def changes_into_the_store(apps, schema_editor):
    FixRecord = apps.get_model("audit_app", "FixRecord")
    Operation = apps.get_model("changelog", "Operation")
    Change = apps.get_model("changelog", "Change")
    db = schema_editor.connection.alias
    for record in FixRecord.objects.using(db).filter(operation__isnull=True).iterator():
        entries = [c for c in (record.changes or []) if isinstance(c, dict)]
        if not entries:
            continue
        operation = Operation.objects.using(db).create(
            cid=str(uuid.uuid4()),
            source="fix",
            name=record.fix_id[:120],
            user_id=record.applied_by_id,
            started_at=record.applied_at,
        )
        rows = []
        for entry in entries:
            table = str(entry.get("table") or "")[:64]
            after = entry.get("after") if isinstance(entry.get("after"), dict) else None
            before = entry.get("before") if isinstance(entry.get("before"), dict) else None
            action = (
                entry.get("action") if entry.get("action") in ("create", "update") else "update"
            )
            company = entry.get("pk") if table == "companies" else (after or {}).get("company_id")
            rows.append(
                Change(
                    operation_id=operation.pk,
                    table=table,
                    object_pk=str(entry.get("pk"))[:36],
                    action=action,
                    company_id=company if isinstance(company, int) else None,
                    object_repr=str(entry.get("description") or "")[:200],
                    before=None if action == "create" else before,
                    after=after,
                )
            )
        Change.objects.using(db).bulk_create(rows, batch_size=500)
        FixRecord.objects.using(db).filter(pk=record.pk).update(operation_id=operation.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("audit_app", "0001_initial"),
        ("changelog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="fixrecord",
            name="operation",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fix_record",
                to="changelog.operation",
                verbose_name="operation",
            ),
        ),
        migrations.AddField(
            model_name="fixrecord",
            name="reason",
            field=models.CharField(blank=True, max_length=255, verbose_name="reason"),
        ),
        migrations.RunPython(changes_into_the_store, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(
            model_name="fixrecord",
            name="changes",
        ),
    ]
