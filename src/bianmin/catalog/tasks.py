"""Background work of the catalog (run by `bianmin worker`); every job is idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def run_catalog_import(job_id: int) -> dict:
    """Import one uploaded catalog file; a retried job that already finished does nothing."""
    from .xlsx import import_job_run

    job = import_job_run(job_id=job_id)
    return {"status": job.status, "created": job.created_count, "updated": job.updated_count}
