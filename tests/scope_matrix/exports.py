"""Routes of 我的导出 in the scope matrix. A job belongs to its requester, not to an area: only
the owner reaches it; the sibling, the district admin above and the other district get 404."""

from __future__ import annotations

from . import Req, Scoped, Staff


def _job(w, *, failed: bool = False):
    from bianmin.exports import services
    from bianmin.exports.models import ExportJob

    owner = w.principal("owner")
    job = services.export_job_create(actor=owner, kind="followups.followups",
                                     params={"from": "2030-01-01", "to": f"2030-01-{ExportJob.objects.count() + 1:02d}"})
    if failed:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error="矩阵")
        return job
    return services.export_job_run(job_id=job.pk)


ROUTES = [
    Staff("exports:list"),
    Scoped("exports:download", make=lambda w: f"/exports/{_job(w).pk}/download/", ok_for=("owner",), denied=(404,)),
    Scoped("exports:retry", make=lambda w: Req(f"/exports/{_job(w, failed=True).pk}/retry/", method="post"),
           ok=(302,), ok_for=("owner",), denied=(404,)),
]
