"""The bulk connection test as background work: thousands of integrations, chunk by chunk.

``enqueue`` (a page, a command) fixes which integrations to test, by id, and queues the task
``integrations_app.tasks.test_connections_job``; a worker runs ``run``. Each chunk of
`CONNECTION_TEST_CHUNK` integrations is read in two queries, tested against the providers
`CONNECTION_TEST_CONCURRENCY` at a time (a thread pool), then written in one transaction: the
health fields through the one write path (``connection_tests._record``: one recorded operation
per chunk), the outcomes that need a look, and the job's counts. So the job's counts are always
exactly what was written, and a worker that dies loses only chunks it had not written.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import router, transaction
from django.utils import translation

from changelog.models import Source
from changelog.recording import operation
from integrations_app import connection_tests, jobs
from integrations_app.connection_tests import (
    TESTABLE_PROVIDERS,
    _company_numbers,
    _encrypter,
    _record,
    judge_in,
    testable_integrations,
)
from integrations_app.integration_kinds import KINDS, RETELL
from integrations_app.models import BackgroundJob, ConnectionTestOutcome, Integration
from integrations_app.providers.base import DEGRADED, HEALTHY, UNHEALTHY, UNKNOWN


def enqueue(*, user, queryset=None, ids=None, company_id: int | None = None) -> BackgroundJob:
    """Queue a test of the testable integrations of ``queryset`` (an admin selection), of
    ``ids``, or of every testable one (of a company); the job lists their ids, so its total is
    known before a worker starts."""
    if queryset is None and ids is not None:
        queryset = Integration.objects.filter(pk__in=list(ids))
    if queryset is None:
        queryset = testable_integrations(company_id=company_id)
    queryset = queryset.filter(provider__in=TESTABLE_PROVIDERS).order_by()
    chosen = sorted(queryset.values_list("pk", flat=True))
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
    """Test the job's integrations chunk by chunk (in a worker, through ``jobs.run``).

    One pool of `CONNECTION_TEST_CONCURRENCY` threads asks the providers; the next chunk is
    read and handed to it before the current one is written, so the providers are asked while
    the database writes.
    """
    ids = list(job.params.get("ids") or [])
    # Rows per transaction: a chunk's write takes a fixed number of statements, so queries grow
    # with the number of chunks only.
    size = settings.CONNECTION_TEST_CHUNK
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    encrypter, language = _encrypter(), translation.get_language()
    workers = settings.CONNECTION_TEST_CONCURRENCY
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="connection-test") as pool:
        asked = None
        for chunk in [*chunks, None]:
            following = _ask(pool, chunk, encrypter, language) if chunk is not None else None
            if asked is not None:
                futures, vanished = asked
                _write_chunk(job, [future.result() for future in futures], vanished=vanished)
            asked = following
    job.refresh_from_db()
    return {
        "total": job.total,
        "ok": job.ok_count,
        "degraded": job.warning_count,
        "failed": job.failed_count,
        "not_tested": job.skipped_count,
    }


def _ask(pool, chunk: list, encrypter, language) -> tuple[list, int]:
    """Read a chunk (two queries) and hand each integration to the pool; (futures, vanished)."""
    integrations = list(
        Integration.objects.filter(pk__in=chunk).select_related("company").order_by("pk")
    )
    numbers = _company_numbers(
        {i.company_id for i in integrations if i.provider == RETELL.provider}
    )
    futures = [
        pool.submit(judge_in, language, integration, encrypter, numbers)
        for integration in integrations
    ]
    return futures, len(chunk) - len(integrations)


def _write_chunk(job: BackgroundJob, outcomes, *, vanished: int) -> None:
    """One transaction: the chunk's counts, health fields, change records and outcome rows."""
    statuses = Counter(outcome.report.status for outcome in outcomes)
    with (
        operation(source=Source.CONNECTION_TEST, user=job.created_by),
        transaction.atomic(using=router.db_for_write(Integration)),
    ):
        recorded = _record(outcomes)
        ConnectionTestOutcome.objects.bulk_create(
            [_outcome_row(job, outcome, recorded) for outcome in outcomes if not _fine(outcome)]
        )
        # Last, so the job's row is locked only for a moment; Stopped rolls the chunk back.
        jobs.advance(
            job.pk,
            done=len(outcomes) + vanished,
            ok=statuses[HEALTHY],
            warning=statuses[DEGRADED],
            failed=statuses[UNHEALTHY],
            skipped=statuses[UNKNOWN] + vanished,
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
