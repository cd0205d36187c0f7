"""Scheduling of background jobs, once: a daily job puts itself back on the queue for its next
run (there is no cron: ``bianmin worker`` runs what the database queue holds), and the first
piece of work that needs it starts the cycle. Only django-tasks' database backend can tell what
is already queued; with another backend (tests' immediate backend) nothing is scheduled."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def database_backend(task) -> bool:
    """Whether ``task`` is queued in the database (django_tasks_db), where a waiting run can be seen."""
    return task.get_backend().__class__.__module__.split(".")[0] == "django_tasks_db"


def next_daily_run(at: dt.time, *, now: dt.datetime | None = None) -> dt.datetime:
    """The next moment the local clock shows ``at``: today if still ahead, else tomorrow."""
    now = timezone.localtime(now)
    day = now.date() if now.time() < at else now.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, at))


def ensure_daily(task, *, at: dt.time) -> bool:
    """Queue ``task`` (no arguments) for its next daily run at ``at``, unless a run of it is
    already waiting. Returns whether a run was queued. Idempotent: call it after every piece of
    work that needs the job and at the end of each run."""
    if not database_backend(task):
        return False
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY).exists():
        return False
    task.using(run_after=next_daily_run(at)).enqueue()
    return True
