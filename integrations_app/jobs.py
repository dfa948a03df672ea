"""Background jobs: their life cycle, their heartbeat, and what a dead worker leaves behind.

A page creates the job (``create``) and enqueues a task with its id; a worker runs the task
through ``run``: it takes the job (queued -> running, or nothing when it is no longer queued),
beats every few seconds from a thread of its own (``Heartbeat``: its own database connection,
so the beat commits while the job's own transaction is open), and ends it done or failed. Every
state change is a conditional UPDATE, so a job that was expired meanwhile stays failed: the
worker's next progress write (``advance``) or its finish then changes nothing, and the caller
rolls its transaction back.

A worker killed mid-job (SIGKILL, a lost machine) writes nothing more; its job stops beating and
``expire_stale`` (called by every page that shows jobs) marks it failed once
``BACKGROUND_JOB_TIMEOUT_SECONDS`` passed. Its database transaction died with its connection:
what the job wrote is what its committed chunks wrote, each complete and counted.
"""

import logging
import threading
import zlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations_app.models import BackgroundJob

logger = logging.getLogger("askpro.jobs")

State = BackgroundJob.State
# Stored in ``error`` when the worker stopped beating; shown in the reader's language.
WORKER_LOST = "worker-lost"


class Stopped(Exception):
    """The job is no longer running (expired as failed meanwhile): stop, keep nothing more."""


class JobFailed(Exception):
    """A failure whose message is safe to show (no secret, no traceback)."""


def timeout_seconds() -> int:
    return settings.BACKGROUND_JOB_TIMEOUT_SECONDS


def beat_seconds() -> float:
    # Several beats fit into the timeout: one slow write does not expire a live job.
    return max(0.2, min(10.0, timeout_seconds() / 5))


def create(*, kind: str, user=None, total: int = 0, params=None, payload=None) -> BackgroundJob:
    """A queued job, in the language of whoever starts it (its stored messages use it)."""
    return BackgroundJob.objects.create(
        kind=kind,
        created_by=user if getattr(user, "pk", None) else None,
        total=total,
        params=params or {},
        payload=None if payload is None else zlib.compress(payload),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def payload_of(job: BackgroundJob) -> bytes:
    return zlib.decompress(bytes(job.payload)) if job.payload is not None else b""


def _running(job_id: int):
    return BackgroundJob.objects.filter(pk=job_id, state=State.RUNNING)


def start(job_id: int) -> BackgroundJob | None:
    """Take a queued job (None when it is gone, already taken or failed)."""
    now = timezone.now()
    taken = BackgroundJob.objects.filter(pk=job_id, state=State.QUEUED).update(
        state=State.RUNNING, started_at=now, heartbeat_at=now
    )
    return BackgroundJob.objects.filter(pk=job_id).first() if taken else None


def advance(job_id: int, *, done: int, ok=0, warning=0, failed=0, skipped=0) -> None:
    """Count finished items, in the transaction that wrote them; ``Stopped`` when the job is
    not running any more (the caller's transaction then rolls back)."""
    counted = _running(job_id).update(
        done=F("done") + done,
        ok_count=F("ok_count") + ok,
        warning_count=F("warning_count") + warning,
        failed_count=F("failed_count") + failed,
        skipped_count=F("skipped_count") + skipped,
        heartbeat_at=timezone.now(),
    )
    if not counted:
        raise Stopped


def finish(job_id: int, *, result: dict | None = None, **fields) -> None:
    """Mark it done (in the caller's transaction when one is open); ``Stopped`` when it was
    expired meanwhile."""
    ended = _running(job_id).update(
        state=State.DONE, finished_at=timezone.now(), result=result or {}, payload=None, **fields
    )
    if not ended:
        raise Stopped


def fail(job_id: int, error: str) -> bool:
    return bool(
        BackgroundJob.objects.filter(pk=job_id, state__in=(State.QUEUED, State.RUNNING)).update(
            state=State.FAILED, finished_at=timezone.now(), error=error[:500], payload=None
        )
    )


def expire_stale() -> int:
    """Mark failed every running job whose worker gave no sign of life within the timeout."""
    now = timezone.now()
    try:
        return BackgroundJob.objects.filter(
            state=State.RUNNING, heartbeat_at__lt=now - timedelta(seconds=timeout_seconds())
        ).update(state=State.FAILED, finished_at=now, error=WORKER_LOST, payload=None)
    except DatabaseError:  # SQLite locked by a job's write: the next page view expires it
        logger.info("expiring stale jobs skipped: the database is busy")
        return 0


def error_text(job: BackgroundJob) -> str:
    if job.error != WORKER_LOST:
        return job.error
    lost = _("The worker stopped (no sign of life for more than %(seconds)d seconds).") % {
        "seconds": timeout_seconds()
    }
    if job.kind == BackgroundJob.Kind.CONNECTION_TEST:
        return lost + " " + _("Everything counted here was written completely; the rest was not.")
    return lost


class Heartbeat:
    """While the block runs, a thread stamps ``heartbeat_at`` every ``beat_seconds()``."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job_id}-heartbeat")
        self._thread.daemon = True

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(beat_seconds()):
                try:
                    _running(self.job_id).update(heartbeat_at=timezone.now())
                except DatabaseError:  # SQLite busy with the job's own write: next beat
                    logger.debug("heartbeat of job %s skipped", self.job_id)
        finally:
            connections.close_all()  # this thread's connections only


def run(job_id: int, work: Callable[[BackgroundJob], dict]) -> dict:
    """Run ``work(job)`` as the worker's part of a job; its return value is the job's result.

    ``work`` counts its progress with ``advance`` and may end the job itself with ``finish``
    inside its last transaction (then it returns None). ``JobFailed`` ends the job failed with
    its message; any other exception with its class name (never a traceback on a page).
    """
    job = start(job_id)
    if job is None:
        return {"ran": False}
    try:
        with Heartbeat(job.pk), translation.override(job.language or settings.LANGUAGE_CODE):
            result = work(job)
            if result is not None:
                finish(job.pk, result=result)
    except Stopped:
        logger.warning("job %s was no longer running: stopped, its last chunk rolled back", job_id)
        return {"ran": False}
    except JobFailed as error:
        fail(job.pk, str(error))
        return {"ran": True, "failed": str(error)}
    except Exception as error:
        fail(job.pk, type(error).__name__)
        raise
    return {"ran": True}
