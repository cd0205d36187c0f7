"""Background work for appeals (run by `bianmin worker`); every job is idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_job(job_id: int) -> dict:
    """Import one uploaded 12345 file; a retried job that already finished does nothing."""
    from .importer import import_job_run

    job = import_job_run(job_id=job_id)
    return {"status": job.status, "created": job.created_count, "updated": job.updated_count}


@task()
def check_deadlines() -> dict:
    """Daily: due-soon warnings to owners, escalation of overdue appeals to the level above.
    Schedule it once a day (cron: `bianmin manage appeals_check_deadlines`)."""
    from .services import appeals_check_deadlines

    return appeals_check_deadlines()
