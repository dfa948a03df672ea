"""Background work: the provider reconciliation runs in a real worker (``db_worker``), its
page starts it and shows its state from the task store (issue 14, point 5)."""

import io
import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from integrations_app import roles
from tests import support

pytestmark = pytest.mark.django_db

SHOW = (
    "from django_tasks_db.models import DBTaskResult as R; import json; "
    "print(json.dumps([[r.status, r.return_value] for r in R.objects.all()]))"
)


def test_a_reconciliation_queued_by_one_process_is_run_by_a_worker(scratch_database_url):
    url = scratch_database_url
    support.prepare_demo_database(url)
    queued = support.run_manage(
        "shell",
        "-c",
        "from audit_app.tasks import reconcile_providers as t; t.enqueue(['calcom', 'retell'])",
        database_url=url,
    )
    assert queued.returncode == 0, queued.stderr
    before = json.loads(support.run_manage("shell", "-v", "0", "-c", SHOW, database_url=url).stdout)
    assert before == [["READY", None]]  # nothing runs it but a worker
    worker = support.run_manage("db_worker", "--batch", "--no-startup-delay", database_url=url)
    assert worker.returncode == 0, worker.stderr
    ((status, summary),) = json.loads(
        support.run_manage("shell", "-v", "0", "-c", SHOW, database_url=url).stdout
    )
    assert status == "SUCCESSFUL"
    # The demo holds no provider keys: nothing to read, and no finding invented.
    nothing = {"companies": 0, "unavailable": 0, "findings": 0}
    assert summary == {"calcom": nothing, "retell": nothing}


def _user(name, group=None):
    user = User.objects.create_user(name, password="x", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def test_the_page_queues_a_run_and_shows_its_state(client, english):
    call_command("setup_roles", stdout=io.StringIO())
    url = reverse("admin:audit_app_reconcile")
    client.force_login(_user("support", roles.SUPPORT))
    page = client.get(url)
    assert page.status_code == 200 and 'id="reconcile-start"' in page.text
    assert client.post(url, {"kind": ["calcom"]}).status_code == 302
    (run,) = DBTaskResult.objects.all()
    assert run.status == "READY" and run.args_kwargs["args"] == [["calcom"]]
    again = client.get(url)  # a reload still shows it, and no second start while it waits
    assert "wartet auf einen Worker" in again.text and "disabled" in again.text
    assert client.post(url, {"kind": ["retell"]}).status_code == 302  # told, not queued
    assert DBTaskResult.objects.count() == 1


def test_who_may_see_and_start_it(client):
    call_command("setup_roles", stdout=io.StringIO())
    url = reverse("admin:audit_app_reconcile")
    client.force_login(_user("readonly", roles.READ_ONLY))
    page = client.get(url)
    assert page.status_code == 200 and 'id="reconcile-start"' not in page.text
    assert client.post(url, {"kind": ["retell"]}).status_code == 403
    client.force_login(_user("nobody"))
    assert client.get(url).status_code == 403
    assert not DBTaskResult.objects.exists()
