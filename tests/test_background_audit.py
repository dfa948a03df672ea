"""The scheduled audit (issue 13, point 4): ``audit --record --enqueue`` from cron queues a
snapshot for a worker, once; a real worker records it with the source "schedule"."""

import pytest

from tests import background, support

pytestmark = pytest.mark.django_db


def test_cron_queues_the_audit_once_and_a_worker_records_it(scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    first = support.run_manage("audit", "--record", "--enqueue", database_url=url)
    assert first.returncode == 0, first.stderr
    assert "Audit snapshot queued" in first.stdout
    again = support.run_manage("audit", "--record", "--enqueue", database_url=url)
    assert "already waiting or running" in again.stdout  # a cron with no worker piles nothing up
    assert background.scalar(url, "SELECT COUNT(*) FROM integrations_app_backgroundjob") == 1
    scheduled = "SELECT COUNT(*) FROM audit_app_auditsnapshot WHERE source = 'schedule'"
    assert background.scalar(url, scheduled) == 0  # nothing runs it but a worker

    worker = support.run_manage("db_worker", "--batch", "--no-startup-delay", database_url=url)
    assert worker.returncode == 0, worker.stderr
    (job_id,) = background.rows(url, "SELECT id FROM integrations_app_backgroundjob")[0]
    assert background.job(url, job_id)["state"] == "done"
    assert background.scalar(url, scheduled) == 1
    after = support.run_manage("audit", "--record", "--enqueue", database_url=url)
    assert "Audit snapshot queued" in after.stdout  # the next hour's run


def test_enqueue_needs_record(scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    refused = support.run_manage("audit", "--enqueue", database_url=url)
    assert refused.returncode != 0 and "--enqueue needs --record" in refused.stderr
