"""Background work: the provider reconciliations and the scheduled audit snapshot, run by
workers (``manage.py db_worker``).

Reading Cal.com and Retell for every company takes as long as the providers answer, so the
page that starts a reconciliation only enqueues this task (Django's Tasks framework, stored in
the database); any number of workers on any machines take it. Its result is stored for the
audit (``ProviderReconciliation``) and summarised in the task's return value, which the page
reads back: progress survives a reload.
"""

from django_tasks import task

KINDS = ("calcom", "retell")


@task()
def reconcile_providers(kinds: list[str], company_ids: list[int] | None = None) -> dict:
    """Compare and store; {kind: {"companies", "unavailable", "findings"}}."""
    from integrations_app import reconcile_calcom, reconcile_retell

    summary = {}
    for kind in kinds:
        if kind == "calcom":
            results = reconcile_calcom.reconcile(company_ids)
            reconcile_calcom.store(results, company_ids=company_ids)
        elif kind == "retell":
            results = reconcile_retell.reconcile(company_ids=company_ids)
        else:
            raise ValueError(f"unknown reconciliation {kind!r}")
        summary[kind] = {
            "companies": len(results),
            "unavailable": sum(1 for r in results if not r.available),
            "findings": sum(len(r.findings) for r in results),
        }
    return summary


def queue_snapshot(*, notify: bool = False):
    """Queue a scheduled audit snapshot (``manage.py audit --record --enqueue``, from cron);
    (the job, True), or (the one already waiting or running, False): a cron whose worker is
    down does not pile up audits."""
    from integrations_app import jobs
    from integrations_app.models import BackgroundJob

    jobs.expire_stale()
    waiting = BackgroundJob.objects.filter(
        kind=BackgroundJob.Kind.AUDIT_SNAPSHOT,
        state__in=(BackgroundJob.State.QUEUED, BackgroundJob.State.RUNNING),
    ).first()
    if waiting is not None:
        return waiting, False
    job = jobs.create(kind=BackgroundJob.Kind.AUDIT_SNAPSHOT, total=1, params={"notify": notify})
    record_audit_snapshot.enqueue(job.pk)
    return job, True


@task()
def record_audit_snapshot(job_id: int) -> dict:
    """Run the whole audit, store it as a snapshot (source "schedule"), mail what got worse
    when asked, and thin out old snapshots, like ``audit --record [--notify]``."""
    from integrations_app import jobs

    return jobs.run(job_id, _record_snapshot)


def _record_snapshot(job) -> dict:
    from audit_app import alerts, snapshots

    snapshot = snapshots.record(source="schedule")
    alerted = alerts.notify(snapshot) if job.params.get("notify") else None
    thinned = snapshots.thin()
    result = {"snapshot": snapshot.pk, "thinned": thinned}
    if alerted is not None:
        result |= {"alerts_sent": len(alerted.sent), "alerts_failed": sorted(alerted.failed)}
    return result
