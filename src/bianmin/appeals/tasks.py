"""Background work for appeals (run by `bianmin worker`); every job is idempotent."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bianmin.core.jobs import ensure_daily

DAILY_AT = dt.time(7, 0)  # the sweep runs before the centers open


@task()
def run_import_job(job_id: int) -> dict:
    """Import one uploaded 12345 file; a retried job that already finished does nothing."""
    from .importer import import_job_run

    job = import_job_run(job_id=job_id)
    ensure_daily_check()
    return {"status": job.status, "created": job.created_count, "updated": job.updated_count}


@task()
def check_deadlines() -> dict:
    """Daily: due-soon warnings to owners, escalation of overdue appeals to the level above.
    It puts itself back on the queue for the next morning; `bianmin manage
    appeals_check_deadlines` runs the same sweep by hand or from cron."""
    from .services import appeals_check_deadlines

    result = appeals_check_deadlines()
    ensure_daily_check()
    return result


def ensure_daily_check() -> None:
    """Queue the next morning's sweep unless one is already waiting."""
    ensure_daily(check_deadlines, at=DAILY_AT)
