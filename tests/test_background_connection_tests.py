"""The bulk connection test as background work (issue 13, point 4): a real worker process runs
it against a fake provider with latency, several providers at a time; its page shows the
progress; a worker killed mid-test leaves the job failed and every chunk it wrote complete."""

import io
import os
import signal
import subprocess
import sys
import time

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from integrations_app import connection_test_jobs, jobs, roles
from integrations_app.models import BackgroundJob, ConnectionTestOutcome, Integration
from integrations_app.tasks import test_connections_job
from tests import background, support
from tests import fake_providers as fp

pytestmark = pytest.mark.django_db

MAKE = (
    "from tests import fake_providers as fp; from integrations_app import connection_test_jobs"
    " as j\nc = fp.make_company('Bulk Test')\nfor i in range({n}): fp.make_integration(c, "
    "'calcom', name=f'Cal {{i}}')\nprint(j.enqueue(user=None, company_id=c.pk).pk)"
)


def _queue_test_of_new_integrations(url: str, n: int) -> int:
    made = support.run_manage("shell", "-v", "0", "-c", MAKE.format(n=n), database_url=url)
    assert made.returncode == 0, made.stderr
    return int(made.stdout.split()[-1])


def test_a_worker_tests_many_integrations_concurrently(scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    job_id = _queue_test_of_new_integrations(url, 40)
    with fp.FakeProvider(latency=0.2) as calcom:
        fp.calcom_ok(calcom)
        env = {"CALCOM_API_BASE_URL": calcom.url + "/v2", "CONNECTION_TEST_CONCURRENCY": "8"}
        started = time.monotonic()
        worker = support.run_manage(
            "db_worker", "--batch", "--no-startup-delay", database_url=url, extra_env=env
        )
        took = time.monotonic() - started
        assert worker.returncode == 0, worker.stderr
        # 40 integrations, two calls of 0.2 s each: 16 s one after the other.
        assert calcom.counts()["/v2/me"] == 40 and calcom.max_in_flight >= 4
    assert took < 12, took
    job = background.job(url, job_id)
    assert job["state"] == "done" and (job["done"], job["total"], job["ok_count"]) == (40, 40, 40)
    healthy = background.scalar(
        url, "SELECT COUNT(*) FROM integrations WHERE health_status = 'healthy'"
    )
    changes = background.scalar(
        url, "SELECT COUNT(*) FROM changelog_change WHERE {q}table{q} = 'integrations'"
    )
    assert healthy == 40 and changes == 40  # every outcome written through the recorded path


def _start_worker(url: str, env: dict) -> subprocess.Popen:
    child = support.child_env() | {"DATABASE_URL": url, "LANGUAGE_CODE": "en"}
    child.setdefault("GATEWAY_APP_KEY", support.TEST_APP_KEY)
    return subprocess.Popen(
        [sys.executable, str(support.BASE_DIR / "manage.py"), "db_worker", "--batch"]
        + ["--no-startup-delay"],
        env=child | env,
        cwd=support.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_worker_leaves_the_job_failed_and_each_written_chunk_complete(
    scratch_database_url,
):
    url = scratch_database_url
    support.prepare_demo_database(url)
    job_id = _queue_test_of_new_integrations(url, 60)
    timeout = {"BACKGROUND_JOB_TIMEOUT_SECONDS": "2"}
    with fp.FakeProvider(latency=0.25) as calcom:
        fp.calcom_ok(calcom)
        env = {
            "CALCOM_API_BASE_URL": calcom.url + "/v2",
            "CONNECTION_TEST_CONCURRENCY": "4",
            "CONNECTION_TEST_CHUNK": "10",
            **timeout,
        }
        worker = _start_worker(url, env)
        try:
            done = background.wait_for(url, job_id, lambda job: job["done"] >= 10, timeout=60)
            os.kill(worker.pid, signal.SIGKILL)  # mid-test: chunks are still to come
        finally:
            worker.kill()
            worker.wait(timeout=10)
    assert 10 <= done["done"] < 60
    time.sleep(2.5)  # longer than the timeout since its last beat
    expired = support.run_manage(
        "shell", "-c", "from integrations_app import jobs; jobs.expire_stale()",
        database_url=url, extra_env=timeout,
    )  # fmt: skip
    assert expired.returncode == 0, expired.stderr
    job = background.job(url, job_id)
    assert job["state"] == "failed" and job["error"] == jobs.WORKER_LOST
    # What the job counted is exactly what was written, whole chunks of 10, each recorded.
    assert job["done"] % 10 == 0 and job["done"] == job["ok_count"] and job["done"] < 60
    healthy = background.scalar(
        url, "SELECT COUNT(*) FROM integrations WHERE health_status = 'healthy'"
    )
    changes = background.scalar(
        url, "SELECT COUNT(*) FROM changelog_change WHERE {q}table{q} = 'integrations'"
    )
    assert healthy == changes == job["done"]


# -- the pages (in the test process; the workers above run the job) -------------------------


def _user(name, group=None):
    user = User.objects.create_user(name, password="x", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def integrations(gateway_key):
    company = fp.make_company()
    return [fp.make_integration(company, "calcom", name=f"Cal {i}") for i in range(3)]


def test_a_large_selection_is_queued_and_its_page_shows_the_progress(
    settings, client, english, integrations, fake
):
    call_command("setup_roles", stdout=io.StringIO())
    settings.CONNECTION_TEST_SYNC_MAX = 2
    client.force_login(_user("support", roles.SUPPORT))
    response = client.post(
        reverse("admin:integrations_app_integration_changelist"),
        {"action": "test_selected_connections", "_selected_action": [i.pk for i in integrations]},
    )
    job = BackgroundJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:integrations_app_integration_test_job", args=[job.pk])
    assert (job.state, job.total, job.created_by.username) == ("queued", 3, "support")
    (task,) = DBTaskResult.objects.all()
    assert task.status == "READY" and task.args_kwargs["args"] == [job.pk]
    assert not fake.calcom.received  # the request asked no provider
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert "waiting for a worker" in page.text and "0 of 3 tested" in page.text
    assert 'http-equiv="refresh"' in page.text  # follows the job by itself


def test_a_small_selection_is_tested_in_the_request(settings, admin_client, integrations, fake):
    settings.CONNECTION_TEST_SYNC_MAX = 3
    admin_client.post(
        reverse("admin:integrations_app_integration_changelist"),
        {"action": "test_selected_connections", "_selected_action": [i.pk for i in integrations]},
    )
    assert not BackgroundJob.objects.exists()
    assert Integration.objects.filter(health_status="healthy").count() == 3


def test_the_page_of_a_finished_test_lists_what_needs_a_look(client, english, integrations, fake):
    call_command("setup_roles", stdout=io.StringIO())
    fake.calcom.answer(f"/v2/event-types/{fp.EVENT_TYPE_ID}", status=404, json={})
    Integration.objects.filter(pk=integrations[0].pk).update(config={})  # no event type id
    user = _user("support", roles.SUPPORT)
    job = connection_test_jobs.enqueue(user=user, ids=[i.pk for i in integrations])
    test_connections_job.call(job.pk)  # what a worker does, here in the test process
    job.refresh_from_db()
    assert (job.state, job.done, job.failed_count) == ("done", 3, 3)
    assert ConnectionTestOutcome.objects.filter(job=job).count() == 3
    client.force_login(user)
    page = client.get(
        reverse("admin:integrations_app_integration_test_job", args=[job.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "3 of 3 tested" in page.text and "no Cal.com event type id is configured" in page.text
    assert 'http-equiv="refresh"' not in page.text
    fp.assert_no_secret(page.text)


def test_a_test_page_names_its_integrations_with_their_companies_in_one_query(
    admin_client, english, gateway_key, fake
):
    fake.calcom.answer("/v2/me", status=401, json={"error": "unauthorized"})
    made = [
        fp.make_integration(fp.make_company(f"Praxis {n}"), "calcom", name=f"Cal {n}")
        for n in range(6)
    ]

    def page_of(integrations):
        job = connection_test_jobs.enqueue(user=None, ids=[i.pk for i in integrations])
        test_connections_job.call(job.pk)
        url = reverse("admin:integrations_app_integration_test_job", args=[job.pk])
        admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        return page.text, len(captured)

    text, few = page_of(made[:2])
    for integration in made[:2]:
        change = reverse("admin:integrations_app_integration_change", args=[integration.pk])
        assert f'<a href="{change}">Cal.com · {integration.company.name}</a>' in text
    assert "health score, from 0 (unhealthy) to 100 (healthy)" in text  # "Unhealthy (0)"
    assert "how many of the tested integrations the test marked so" in text
    _text, many = page_of(made)
    assert many == few  # the titles are read for the whole page at once

    gone = made[0]
    job = connection_test_jobs.enqueue(user=None, ids=[gone.pk])
    test_connections_job.call(job.pk)
    Integration.objects.filter(pk=gone.pk).delete()
    url = reverse("admin:integrations_app_integration_test_job", args=[job.pk])
    text = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").text
    assert "<td>Cal.com · Praxis 0</td>" in text  # the names the test stored, no link


def test_a_job_whose_worker_stopped_beating_is_shown_and_stored_as_failed(
    settings, client, english
):
    call_command("setup_roles", stdout=io.StringIO())
    settings.BACKGROUND_JOB_TIMEOUT_SECONDS = 30
    job = jobs.create(kind=BackgroundJob.Kind.CONNECTION_TEST, total=400)
    alive = jobs.create(kind=BackgroundJob.Kind.CONNECTION_TEST, total=400)
    long_ago = timezone.now() - timezone.timedelta(seconds=31)
    BackgroundJob.objects.filter(pk=job.pk).update(state="running", heartbeat_at=long_ago, done=200)
    BackgroundJob.objects.filter(pk=alive.pk).update(state="running", heartbeat_at=timezone.now())
    client.force_login(_user("support", roles.SUPPORT))
    page = client.get(
        reverse("admin:integrations_app_integration_test_job", args=[job.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "failed" in page.text and "no sign of life for more than 30 seconds" in page.text
    job.refresh_from_db()
    alive.refresh_from_db()
    assert (job.state, job.error, job.done) == ("failed", jobs.WORKER_LOST, 200)
    assert alive.state == "running"
    with pytest.raises(jobs.Stopped):  # the worker, were it still alive, would write no more
        jobs.advance(job.pk, done=200)


def test_who_may_start_and_follow_a_background_test(client, integrations):
    call_command("setup_roles", stdout=io.StringIO())
    job = jobs.create(kind=BackgroundJob.Kind.CONNECTION_TEST)
    page = reverse("admin:integrations_app_integration_test_job", args=[job.pk])
    start = reverse("admin:integrations_app_integration_test_jobs")
    for user in (_user("readonly", roles.READ_ONLY), _user("nobody")):
        client.force_login(user)
        assert client.get(page).status_code == 403
        assert client.get(start).status_code == 403
        assert client.post(start, {"company": ""}).status_code == 403
    assert BackgroundJob.objects.count() == 1
    client.force_login(_user("manager", roles.MANAGER))
    assert client.get(page).status_code == 200
    changelist = client.get(reverse("admin:integrations_app_integration_changelist"))
    assert start in changelist.text
    response = client.post(start, {"company": str(integrations[0].company_id)})
    assert response.status_code == 302 and BackgroundJob.objects.latest("id").total == 3


def test_the_company_to_test_is_chosen_by_searching_its_name(admin_client, integrations):
    url = reverse("admin:integrations_app_integration_test_jobs")

    def start_page():
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        return page.text, len(captured)

    text, few = start_page()
    assert "Company id" not in text and 'inputmode="numeric"' not in text
    # The admin's autocomplete of companies (searched by CompanyAdmin's fields), no list.
    assert 'class="admin-autocomplete' in text and 'data-model-name="integration"' in text
    assert 'data-field-name="company"' in text and "autocomplete.js" in text
    assert "Type to search by name; leave empty to test every company." in text
    assert "how many of the tested integrations the test marked so" in text
    for n in range(5):
        fp.make_company(f"Firma {n}")
    text, many = start_page()
    assert many == few and "Firma 0" not in text
    search = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "integrations_app", "model_name": "integration", "field_name": "company",
         "term": "Firma 3"},
    )  # fmt: skip
    assert [row["text"] for row in search.json()["results"]] == ["Firma 3"]

    company = integrations[0].company
    response = admin_client.post(url, {"company": str(company.pk)})
    assert response.status_code == 302
    assert BackgroundJob.objects.get().params["company_id"] == company.pk
    for bad in ("abc", "99999999", "1" * 40):
        refused = admin_client.post(url, {"company": bad}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert refused.status_code == 200 and "There is no company with the id" in refused.text
    assert BackgroundJob.objects.count() == 1


def test_queries_grow_with_chunks_not_with_rows(settings, gateway_key, fake):
    """A chunk's read and write take a fixed number of statements, like the existing bulk write."""
    company = fp.make_company()
    made = [fp.make_integration(company, "calcom", name=f"Cal {i}") for i in range(24)]

    def queries(count: int) -> int:
        job = connection_test_jobs.enqueue(user=None, ids=[i.pk for i in made[:count]])
        with CaptureQueriesContext(connection) as captured:
            test_connections_job.call(job.pk)
        assert BackgroundJob.objects.get(pk=job.pk).done == count
        return len(captured)

    settings.CONNECTION_TEST_CHUNK = 12
    one_small, one_full, two = queries(3), queries(12), queries(24)
    assert one_small == one_full
    assert two - one_full == one_full - queries(0)


def test_the_tests_run_in_the_language_of_who_started_them(settings, integrations, fake):
    Integration.objects.filter(pk=integrations[0].pk).update(config={})
    from django.utils import translation

    with translation.override("de"):
        job = connection_test_jobs.enqueue(user=None, ids=[integrations[0].pk])
    test_connections_job.call(job.pk)
    (outcome,) = ConnectionTestOutcome.objects.filter(job=job)
    assert outcome.message == "keine Cal.com-Ereignistyp-ID eingerichtet"
