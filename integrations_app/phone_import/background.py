"""A large phone-number import's write as background work.

Confirming the preview of a file with more than ``PHONE_IMPORT_BACKGROUND_ROWS`` rows queues
the write (``queue``): the job keeps the file's bytes and what the user confirmed (the plan's
digest, region, reason), and a worker runs ``run`` through ``jobs.run``. The write is the same
one the request would do, all or nothing in one transaction, and the job is marked done inside
that transaction: a job expired as failed meanwhile makes the import roll back, so "failed"
always means nothing was written. A worker killed mid-write leaves nothing either: its
transaction dies with its connection.
"""

from django.utils.translation import gettext as _

from integrations_app import jobs
from integrations_app.models import BackgroundJob
from integrations_app.phone_import import service
from integrations_app.phone_import.errors import ImportConflict, ImportFileError, ReasonRequired


def queue(*, data: bytes, file_name: str, region: str, reason: str, digest: str, rows: int, user):
    """Create the job and enqueue its task; the job (its page shows the state)."""
    from integrations_app.tasks import import_phone_numbers_job

    job = jobs.create(
        kind=BackgroundJob.Kind.PHONE_IMPORT,
        user=user,
        total=rows,
        params={"file_name": file_name, "region": region, "reason": reason, "digest": digest},
        payload=data,
    )
    import_phone_numbers_job.enqueue(job.pk)
    return job


def run(job: BackgroundJob) -> None:
    """Import the job's file exactly as confirmed; the job ends done in the import's
    transaction, or failed with a message when nothing was written."""
    params = job.params

    def done(record) -> None:
        jobs.finish(
            job.pk,
            phone_import=record,
            done=record.row_count,
            ok_count=record.new_count + record.updated_count,
            skipped_count=record.unchanged_count,
            failed_count=record.error_count,
            result={"outcome": record.outcome},
        )

    try:
        result = service.import_phone_numbers(
            data=jobs.payload_of(job),
            file_name=params["file_name"],
            region=params["region"],
            user=job.created_by,
            source="admin",
            reason=params.get("reason", ""),
            expected_digest=params["digest"],
            before_commit=done,
        )
    except (ImportConflict, ReasonRequired, ImportFileError) as error:
        raise jobs.JobFailed(str(error)) from None
    if result.record is None:
        raise jobs.JobFailed(
            _(
                "The phone numbers changed since the preview, so nothing was imported: upload "
                "the file again and check its new preview."
            )
        )
