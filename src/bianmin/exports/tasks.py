"""Background work of the exports (run by ``bianmin worker``, which ``bianmin up`` starts).

``run_export`` builds one job's file; running it twice is harmless (the run claims the job
first, see services.export_job_run). ``sweep_exports`` takes over jobs whose worker died,
re-queues jobs whose run was lost, and deletes expired files; it puts itself back on the queue
(as the outbox's heartbeat does, core/tasks.py) every ``SWEEP_EVERY`` while a job is
unfinished, and otherwise for the moment the first file expires; with nothing to watch it
stops, and the next job created starts it again."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Min, Q
from django.utils import timezone
from django_tasks import task

from bianmin.core.jobs import database_backend

from . import conf

log = logging.getLogger(__name__)


@task()
def run_export(job_id: int) -> dict:
    from .services import export_job_run

    try:
        job = export_job_run(job_id=job_id)
    finally:
        ensure_sweep()  # the file's expiry, or a sweep lost with a killed worker
    if job is None:
        return {"status": "missing"}
    return {"status": job.status, "rows": job.rows_written}


@task()
def sweep_exports() -> dict:
    from .services import exports_sweep

    try:
        return exports_sweep()
    finally:
        ensure_sweep()


def _database_backend() -> bool:
    return database_backend(sweep_exports)


def next_sweep_at(now: datetime | None = None) -> datetime | None:
    """When the next sweep is needed: soon while a job is unfinished, else when the first
    finished file expires; None when there is nothing to watch."""
    from .models import ExportJob

    now = now or timezone.now()
    S = ExportJob.Status
    if ExportJob.objects.filter(status__in=[S.QUEUED, S.RUNNING]).exists():
        return now + conf.SWEEP_EVERY
    first = ExportJob.objects.filter(status=S.DONE).aggregate(at=Min("expires_at"))["at"]
    return None if first is None else max(first, now)


def ensure_sweep() -> None:
    """Queue a sweep for when it is needed unless one is already waiting to run by then
    (database backend only: elsewhere nothing can tell, and nothing reschedules)."""
    if not _database_backend():
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    when = next_sweep_at()
    if when is None:
        return
    waiting = DBTaskResult.objects.filter(task_path=sweep_exports.module_path, status=TaskResultStatus.READY).filter(
        Q(run_after=get_date_max()) | Q(run_after__lte=when))
    if waiting.exists():
        return
    sweep_exports.using(run_after=when).enqueue()


def task_waiting(task_id: str) -> bool:
    """Whether the queued run ``task_id`` is still waiting for a worker (database backend only;
    elsewhere assume it is lost, which at worst queues a harmless second run)."""
    if not task_id or not _database_backend():
        return False
    from django.core.exceptions import ValidationError
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    try:
        return DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.READY).exists()
    except ValidationError:
        return False
