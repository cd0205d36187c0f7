"""Every read of the exports. A job belongs to the person who asked for it: its scope is its
requester, not an area (a district admin does not see a township clerk's files), and anyone
else gets 404, as for a record outside one's areas."""

from __future__ import annotations

from django.db.models import QuerySet

from bianmin.core.errors import NotFound
from bianmin.core.principal import Principal

from .models import ExportJob


def export_jobs(*, actor: Principal) -> QuerySet[ExportJob]:
    user = getattr(actor, "user", None)
    if user is None:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id")


def export_job_get(*, actor: Principal, job_id: int, for_update: bool = False) -> ExportJob:
    qs = export_jobs(actor=actor)
    if for_update:
        qs = qs.select_for_update()
    job = qs.filter(pk=job_id).first()
    if job is None:
        raise NotFound("未找到该导出任务")
    return job
