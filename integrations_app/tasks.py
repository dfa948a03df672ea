"""Background work of the integrations, run by workers (``manage.py db_worker``).

Each task gets the id of a ``BackgroundJob`` the page created, runs it through ``jobs.run``
(state, heartbeat, failure) and returns a short summary; the page reads the job row, so its
progress survives a reload and shows on any machine.
"""

from django_tasks import task

from integrations_app import jobs


@task()
def test_connections_job(job_id: int) -> dict:
    """The bulk connection test of a job (``connection_test_jobs``)."""
    from integrations_app import connection_test_jobs

    return jobs.run(job_id, connection_test_jobs.run)


@task()
def import_phone_numbers_job(job_id: int) -> dict:
    """A confirmed phone-number import's write (``phone_import.background``)."""
    from integrations_app.phone_import import background

    return jobs.run(job_id, background.run)
