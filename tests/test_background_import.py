"""A large import's write in a background worker (issue 13, point 4): confirming a file above
``PHONE_IMPORT_BACKGROUND_ROWS`` queues it; a real worker writes it all or nothing; its page
shows waiting, running, done or failed; a worker killed mid-import leaves nothing written."""

import io
import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from integrations_app.models import BackgroundJob, PhoneImport, PhoneNumber
from integrations_app.tasks import import_phone_numbers_job
from tests import audit_rows as r
from tests import background, support
from tests.phone_import_files import csv_bytes

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HEADER = ["company", "branch", "number", "type", "primary", "active", "description"]


def numbers_file(company: str, rows: int, start: int = 0) -> bytes:
    lines = [[company, "", f"030 2{start + i:07d}", "", "", "", ""] for i in range(rows)]
    return csv_bytes([HEADER, *lines])


def _upload_and_confirm(client, data: bytes):
    preview = client.post(
        reverse("admin:integrations_app_phonenumber_phone_import"),
        {"file": SimpleUploadedFile("gross.csv", data, content_type="text/csv"), "region": "DE"},
        **EN,
    )
    assert preview.status_code == 200
    return client.post(
        reverse("admin:integrations_app_phonenumber_phone_import_confirm"),
        {"token": preview.context["stored"]["token"]},
        **EN,
    )


def test_a_large_import_is_queued_and_its_page_follows_it(settings, admin_client):
    settings.PHONE_IMPORT_BACKGROUND_ROWS = 3
    company = r.company("Praxis Gross")
    r.branch(company, "Mitte")
    response = _upload_and_confirm(admin_client, numbers_file("Praxis Gross", 5))
    job = BackgroundJob.objects.get()
    page_url = reverse("admin:integrations_app_phonenumber_phone_import_job", args=[job.pk])
    assert response.status_code == 302 and response.url == page_url
    assert (job.state, job.total, job.kind) == ("queued", 5, "phone_import")
    assert not PhoneNumber.objects.exists() and not PhoneImport.objects.exists()
    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["args"] == [job.pk]
    page = admin_client.get(page_url, **EN)
    assert "waiting for a worker" in page.text and 'http-equiv="refresh"' in page.text

    import_phone_numbers_job.call(job.pk)  # what a worker does, here in the test process
    job.refresh_from_db()
    assert job.state == "done" and job.phone_import.new_count == 5 and job.payload is None
    assert PhoneNumber.objects.count() == 5
    page = admin_client.get(page_url, **EN)
    assert "5 new, 0 updated, 0 unchanged" in page.text and 'http-equiv="refresh"' not in page.text
    assert reverse("admin:integrations_app_phoneimport_change", args=[job.phone_import.pk]) in (
        page.text
    )


def test_a_small_import_is_written_in_the_request(settings, admin_client):
    settings.PHONE_IMPORT_BACKGROUND_ROWS = 5
    company = r.company("Praxis Klein")
    r.branch(company, "Mitte")
    response = _upload_and_confirm(admin_client, numbers_file("Praxis Klein", 5))
    assert response.status_code == 302 and not BackgroundJob.objects.exists()
    assert PhoneNumber.objects.count() == 5


def test_numbers_changed_before_the_worker_came_means_nothing_is_written(settings, admin_client):
    settings.PHONE_IMPORT_BACKGROUND_ROWS = 1
    company = r.company("Praxis Gross")
    r.branch(company, "Mitte")
    _upload_and_confirm(admin_client, numbers_file("Praxis Gross", 3))
    job = BackgroundJob.objects.get()
    r.number(company, "+493020000001")  # another writer, after the preview
    import_phone_numbers_job.call(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "changed since the preview" in job.error
    assert PhoneNumber.objects.count() == 1 and not PhoneImport.objects.exists()


def test_only_importers_follow_an_import(client, settings):
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from integrations_app import jobs, roles

    call_command("setup_roles", stdout=io.StringIO())
    job = jobs.create(kind=BackgroundJob.Kind.PHONE_IMPORT, params={"file_name": "x.csv"})
    url = reverse("admin:integrations_app_phonenumber_phone_import_job", args=[job.pk])
    reader = User.objects.create_user("reader", password="x", is_staff=True)
    reader.groups.add(Group.objects.get(name=roles.READ_ONLY))
    client.force_login(reader)
    assert client.get(url).status_code == 403
    support_user = User.objects.create_user("support", password="x", is_staff=True)
    support_user.groups.add(Group.objects.get(name=roles.SUPPORT))
    client.force_login(support_user)
    assert client.get(url).status_code == 200


# -- real workers, against a scratch database ---------------------------------------------------

QUEUE = """
from integrations_app.models import Branch, Company
from integrations_app.phone_import import background, service
from tests.test_background_import import numbers_file
company = Company.objects.create(name="Import Test", slug="import-test")
Branch.objects.create(company=company, name="Mitte", slug="import-test-mitte")
data = numbers_file("Import Test", {rows})
plan = service.preview_phone_numbers(data=data, region="DE")
assert not plan.has_errors
job = background.queue(data=data, file_name="big.csv", region="DE", reason="test",
                       digest=plan.digest, rows=len(plan.rows), user=None)
print(job.pk)
"""


def _queue(url: str, rows: int) -> int:
    queued = support.run_manage("shell", "-v", "0", "-c", QUEUE.format(rows=rows), database_url=url)
    assert queued.returncode == 0, queued.stderr
    return int(queued.stdout.split()[-1])


def test_a_worker_writes_a_queued_import(scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    before = background.scalar(url, "SELECT COUNT(*) FROM phone_numbers")
    job_id = _queue(url, 300)
    worker = support.run_manage("db_worker", "--batch", "--no-startup-delay", database_url=url)
    assert worker.returncode == 0, worker.stderr
    job = background.job(url, job_id)
    assert job["state"] == "done" and job["done"] == 300 and job["phone_import_id"]
    assert background.scalar(url, "SELECT COUNT(*) FROM phone_numbers") == before + 300
    assert background.scalar(url, "SELECT new_count FROM integrations_app_phoneimport") == 300


def test_a_worker_killed_mid_import_leaves_nothing_written(scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    before = background.scalar(url, "SELECT COUNT(*) FROM phone_numbers")
    job_id = _queue(url, 40_000)
    timeout = {"BACKGROUND_JOB_TIMEOUT_SECONDS": "2"}
    child = support.child_env() | {"DATABASE_URL": url, "LANGUAGE_CODE": "en", **timeout}
    child.setdefault("GATEWAY_APP_KEY", support.TEST_APP_KEY)
    worker = subprocess.Popen(
        [sys.executable, str(support.BASE_DIR / "manage.py"), "db_worker", "--batch"]
        + ["--no-startup-delay"],
        env=child,
        cwd=support.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        background.wait_for(url, job_id, lambda job: job["state"] == "running", timeout=60)
        time.sleep(1.5)  # inside the import: its rows checked and written, not yet committed
        assert worker.poll() is None, "the import finished before the kill: make it larger"
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    assert background.job(url, job_id)["state"] == "running"  # nobody said otherwise yet
    time.sleep(2.5)
    expired = support.run_manage(
        "shell", "-c", "from integrations_app import jobs; jobs.expire_stale()",
        database_url=url, extra_env=timeout,
    )  # fmt: skip
    assert expired.returncode == 0, expired.stderr
    job = background.job(url, job_id)
    assert job["state"] == "failed" and job["phone_import_id"] is None
    assert background.scalar(url, "SELECT COUNT(*) FROM phone_numbers") == before
    assert background.scalar(url, "SELECT COUNT(*) FROM integrations_app_phoneimport") == 0
    assert (
        background.scalar(url, "SELECT COUNT(*) FROM changelog_operation WHERE source = 'import'")
        == 0
    )
