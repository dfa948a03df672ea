"""The bulk connection test as background work: thousands of integrations, chunk by chunk.

``enqueue`` (a page, a command) fixes which integrations to test, by id, and queues the task
``integrations_app.tasks.test_connections_job``; a worker runs ``run``. Each chunk of `CHUNK`
integrations is read in two queries, tested against the providers `CONNECTION_TEST_CONCURRENCY`
at a time (``connection_tests.judge_all``), then written in one transaction: the health fields
through the one write path (``connection_tests._record``: one recorded operation per chunk),
the outcomes that need a look, and the job's counts. So the job's counts are always exactly
what was written, and a worker that dies loses at most the chunk it was asking about, which it
had not written.
"""

from collections import Counter

from django.conf import settings
from django.db import router, transaction

from changelog.models import Source
from changelog.recording import operation
from integrations_app import connection_tests, jobs
from integrations_app.connection_tests import (
    TESTABLE_PROVIDERS,
    _company_numbers,
    _encrypter,
    _record,
    judge_all,
    testable_integrations,
)
from integrations_app.integration_kinds import KINDS, RETELL
from integrations_app.models import BackgroundJob, ConnectionTestOutcome, Integration
from integrations_app.providers.base import DEGRADED, HEALTHY, UNHEALTHY, UNKNOWN


def enqueue(*, user, ids=None, company_id: int | None = None) -> BackgroundJob:
    """Queue a test of the testable integrations among ``ids``, or of every testable one (of a
    company); the job lists their ids, so its total is known before a worker starts."""
    if ids is None:
        queryset = testable_integrations(company_id=company_id)
    else:
        queryset = Integration.objects.filter(pk__in=list(ids), provider__in=TESTABLE_PROVIDERS)
    chosen = sorted(queryset.order_by().values_list("pk", flat=True))
    job = jobs.create(
        kind=BackgroundJob.Kind.CONNECTION_TEST,
        user=user,
        total=len(chosen),
        params={"ids": chosen, "company_id": company_id},
    )
    from integrations_app.tasks import test_connections_job

    test_connections_job.enqueue(job.pk)
    return job


def run(job: BackgroundJob) -> dict:
    """Test the job's integrations chunk by chunk (in a worker, through ``jobs.run``)."""
    ids = list(job.params.get("ids") or [])
    encrypter = _encrypter()
    # Rows per transaction: a chunk's write takes a fixed number of statements, so queries grow
    # with the number of chunks only.
    size = settings.CONNECTION_TEST_CHUNK
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        integrations = list(
            Integration.objects.filter(pk__in=chunk).select_related("company").order_by("pk")
        )
        numbers = _company_numbers(
            {i.company_id for i in integrations if i.provider == RETELL.provider}
        )
        outcomes = judge_all(integrations, encrypter, numbers)
        _write_chunk(job, outcomes, vanished=len(chunk) - len(integrations))
    job.refresh_from_db()
    return {
        "total": job.total,
        "ok": job.ok_count,
        "degraded": job.warning_count,
        "failed": job.failed_count,
        "not_tested": job.skipped_count,
    }


def _write_chunk(job: BackgroundJob, outcomes, *, vanished: int) -> None:
    """One transaction: the chunk's counts, health fields, change records and outcome rows."""
    statuses = Counter(outcome.report.status for outcome in outcomes)
    with (
        operation(source=Source.CONNECTION_TEST, user=job.created_by),
        transaction.atomic(using=router.db_for_write(Integration)),
    ):
        jobs.advance(
            job.pk,
            done=len(outcomes) + vanished,
            ok=statuses[HEALTHY],
            warning=statuses[DEGRADED],
            failed=statuses[UNHEALTHY],
            skipped=statuses[UNKNOWN] + vanished,
        )
        recorded = _record(outcomes, f"background job {job.pk}")
        ConnectionTestOutcome.objects.bulk_create(
            [_outcome_row(job, outcome, recorded) for outcome in outcomes if not _fine(outcome)]
        )


def _fine(outcome) -> bool:
    return outcome.report.status == HEALTHY


def _outcome_row(job, outcome, recorded: set) -> ConnectionTestOutcome:
    integration = outcome.integration
    company = integration.company if integration.company_id else None
    kind = KINDS.get(integration.provider or "")
    status = outcome.report.status
    if status != UNKNOWN and integration.pk not in recorded:
        status = UNKNOWN  # removed while its provider was asked: nothing was written
    return ConnectionTestOutcome(
        job=job,
        integration_id=integration.pk,
        company_id=integration.company_id,
        company_name=(company.name if company is not None else "")[:255],
        provider=(kind.name if kind else integration.provider or "")[:40],
        status=status,
        score=outcome.report.score,
        message=outcome.message[: connection_tests.LAST_ERROR_CHARS],
    )
