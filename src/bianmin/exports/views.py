"""我的导出: the requester's jobs with their progress (the page refreshes itself while one is
unfinished, no JavaScript), the download of a finished file, and re-running a failed job.
Thin: services write, selectors read; someone else's job is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core.errors import error_pages

from . import conf, selectors, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFRESH_SECONDS = 5


domain_errors = error_pages("exports/problem.html")


@login_required
@domain_errors
def job_list(request):
    page = Paginator(selectors.export_jobs(actor=principal_of(request)), 30).get_page(request.GET.get("page"))
    jobs = list(page)
    return render(request, "exports/list.html", {
        "page": page, "jobs": jobs, "refresh": REFRESH_SECONDS if any(j.is_active for j in jobs) else None, "keep_days": conf.keep_for().days,
    })


@login_required
@domain_errors
def job_download(request, job_id: int):
    job, fh = services.export_job_open(actor=principal_of(request), job_id=job_id)
    return FileResponse(fh, as_attachment=True, filename=job.download_name, content_type=XLSX)


@login_required
@domain_errors
@require_POST
def job_retry(request, job_id: int):
    services.export_job_retry(actor=principal_of(request), job_id=job_id)
    messages.success(request, "已重新提交导出，完成后可在本页下载。")
    return redirect("exports:list")
