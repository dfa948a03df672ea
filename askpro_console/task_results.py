"""The background tasks' results (django-tasks' database backend) in the console's languages.

django_tasks_db names its admin section in English only ("Tasks Database Backend"): this
AppConfig gives it a name people read, in German and English. Its model and field names it marks
for translation itself, but ships no German catalogue: they are listed below (gettext_noop) so
makemessages keeps them in ours, and the admin shows them translated.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from django_tasks_db.apps import TasksAppConfig


class TaskResultsConfig(TasksAppConfig):
    verbose_name = _("Background tasks")


# django_tasks_db's own msgids (models.py), for our catalogue.
DJANGO_TASKS_DB_TEXTS = (
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("status"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
)
# django_tasks' task states (django_tasks.base.TaskResultStatus).
TASK_STATES = (
    pgettext_lazy("Task", "Ready"),
    pgettext_lazy("Task", "Running"),
    pgettext_lazy("Task", "Failed"),
    pgettext_lazy("Task", "Successful"),
)
