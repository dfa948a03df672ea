"""Background work: the provider reconciliations, run by workers (``manage.py db_worker``).

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
