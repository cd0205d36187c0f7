"""Every write of the exports: create a job, run it (the worker), re-run a failed one, open
the file for its requester (audited), and the sweep that keeps jobs from staying stuck.

A run first claims the job with one conditional UPDATE (queued, or running with no progress
for ``conf.stale_after()``: its worker died) and a fresh token; its progress saves and its end
are conditional on that token. So two runs of one job (the task queued twice, a stale run taken
over while its old worker still lives) never both finish: the one that lost the claim stops at
its next progress save and deletes its partial file. The file is written under a temporary
name and renamed into place, so a half-written file is never offered."""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal

from . import conf, registry, selectors
from .models import ExportJob
from .streaming import write_xlsx

log = logging.getLogger(__name__)
S = ExportJob.Status

REVOKED = "您已没有导出该数据的权限（角色已撤销或账号已停用），导出未执行。"
INTERNAL = "导出失败：系统内部错误。请稍后点击“重新导出”，如仍失败请联系管理员。"
INTERRUPTED = "导出多次中断（后台任务进程被停止），请缩小时间范围后点击“重新导出”。"


class _Superseded(Exception):
    """The job's claim passed to another run (this one was taken over as stale)."""


def _normalised(params) -> dict:
    if not isinstance(params, dict):
        raise Invalid("导出条件格式不正确", field="params")
    try:
        # as stored in the JSON column, so that comparing with a stored job's params is exact
        return json.loads(json.dumps(params, ensure_ascii=False))
    except (TypeError, ValueError):
        raise Invalid("导出条件格式不正确", field="params") from None


def _enqueue(job_id: int) -> None:
    """Queue a run of the job (after its commit) and make sure the sweep watches it. A failure
    here loses nothing: the sweep re-queues a queued job whose run is not waiting."""
    from .tasks import ensure_sweep, run_export

    try:
        result = run_export.enqueue(job_id)
        ExportJob.objects.filter(pk=job_id).update(task_id=str(result.id))
        ensure_sweep()
    except Exception:  # the job stays queued; the sweep (or the next job) queues it again
        log.exception("could not queue export job %s", job_id)


def _check_may_submit(*, actor: Principal, kind: str, params: dict) -> registry.Export:
    if getattr(actor, "user", None) is None:
        raise Forbidden("只有工作人员账号可以提交导出任务")
    exporter = registry.get(kind)
    if not actor.area_paths_for(exporter.capability):
        raise Forbidden("您的角色无权导出该数据")
    return exporter.prepare(actor, params)  # refuses bad params before anything is written


def _unfinished_for_update(user) -> list[ExportJob]:
    from bianmin.accounts.models import User

    # One person's submissions one at a time (a double click must not queue the same export twice).
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    return list(ExportJob.objects.filter(user=user, status__in=[S.QUEUED, S.RUNNING]))


def _limit(unfinished: list[ExportJob]) -> None:
    if len(unfinished) >= conf.MAX_UNFINISHED_PER_USER:
        raise RateLimited(f"您已有 {len(unfinished)} 个导出任务正在排队或进行，请等其完成后再提交。")


def export_job_create(*, actor: Principal, kind: str, params: dict) -> ExportJob:
    """Queue an export for the actor. The same export still unfinished is returned, not repeated."""
    params = _normalised(params)
    export = _check_may_submit(actor=actor, kind=kind, params=params)
    user = actor.user
    with transaction.atomic():
        unfinished = _unfinished_for_update(user)
        for job in unfinished:
            if job.kind == kind and job.params == params:
                return job
        _limit(unfinished)
        now = timezone.now()
        job = ExportJob(user=user, kind=kind, params=params, title=export.title[:200], created_at=now, progress_at=now)
        job.full_clean()
        job.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=job, changes={"kind": kind, "params": params})
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def export_job_retry(*, actor: Principal, job_id: int) -> ExportJob:
    """Queue a failed (or expired) job again, with the same conditions."""
    with transaction.atomic():
        job = selectors.export_job_get(actor=actor, job_id=job_id, for_update=True)
        if not job.can_retry:
            raise Conflict("只有失败或已过期的导出任务可以重新导出")
        _check_may_submit(actor=actor, kind=job.kind, params=job.params)
        _limit(_unfinished_for_update(job.user))
        previous = job.status
        job.status = S.QUEUED
        job.error = job.file_name = job.claim = job.task_id = ""
        job.rows_written = job.size = job.attempts = 0
        job.rows_expected = job.started_at = job.finished_at = job.expires_at = None
        job.scope_paths = []
        job.progress_at = timezone.now()
        job.full_clean()
        job.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=job,
              changes={"status": [previous, S.QUEUED], "retry": True})
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _still_covers(actor: Principal, job: ExportJob) -> bool:
    """Whether the actor still sees every area the file was built from (a role revoked or
    narrowed since: the file holds data they may no longer see)."""
    exporter = registry._EXPORTERS.get(job.kind)
    current = actor.area_paths_for(exporter.capability if exporter else Cap.VIEW)
    return bool(current) and all(any(p.startswith(c) for c in current) for p in job.scope_paths)


def export_job_open(*, actor: Principal, job_id: int) -> tuple[ExportJob, BinaryIO]:
    """The finished file of the actor's job, opened for download; the download is audited.
    Refused when the actor's scope no longer covers the one the file was built with."""
    job = selectors.export_job_get(actor=actor, job_id=job_id)
    if job.status == S.EXPIRED:
        raise NotFound("该导出文件已过期删除，请点击“重新导出”")
    if job.status != S.DONE:
        raise NotFound("导出尚未完成，完成后即可下载")
    if not _still_covers(actor, job):
        raise Forbidden("您的数据权限已变更，不能再下载此文件；如仍需要，请重新导出")
    try:
        fh = open(conf.exports_dir() / job.file_name, "rb")  # noqa: SIM115 (FileResponse closes it)
    except (FileNotFoundError, IsADirectoryError):
        # Removed by hand or lost with a disk: say so, and let the person export again.
        with transaction.atomic():
            if ExportJob.objects.filter(pk=job.pk, status=S.DONE).update(status=S.EXPIRED, file_name=""):
                audit(actor=None, action=AuditEntry.Action.TRANSITION, target=job,
                      changes={"status": [S.DONE, S.EXPIRED], "reason": "file missing"})
        raise NotFound("导出文件已不存在，请点击“重新导出”") from None
    with transaction.atomic():
        audit(actor=actor, action=AuditEntry.Action.EXPORT, target=job,
              changes={"file": job.download_name, "rows": job.rows_written, "size": job.size})
    return job, fh


# --- the worker's side --------------------------------------------------------------------------

def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _remove_partials(job_id: int, *, keep: str = "") -> None:
    """Delete what killed runs of this job left behind (their partial files and the sheets
    spooled beside them, core.xlsx._spool_beside)."""
    for path in conf.exports_dir().glob(f".{job_id}-*.part*"):
        if not keep or not path.name.startswith(f".{job_id}-{keep}.part"):
            _unlink(path)


def _principal_now(user_id: int) -> Principal:
    """The requester as they are now: roles revoked or the account disabled since the job was
    queued leave no grants, and the run fails instead of exporting."""
    from bianmin.accounts.models import User
    from bianmin.accounts.principals import principal_for_user

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return Principal(label=f"user:{user_id}")
    return principal_for_user(user)


def _fail(job: ExportJob, token: str, message: str, actor: Principal | None) -> None:
    now = timezone.now()
    with transaction.atomic():
        if ExportJob.objects.filter(pk=job.pk, claim=token, status=S.RUNNING).update(
                status=S.FAILED, error=message[:500], finished_at=now, progress_at=now):
            audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=job,
                  changes={"status": [S.RUNNING, S.FAILED], "error": message})


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Build the job's file (the worker calls this). Returns the job as it ends up, or None
    when it no longer exists. A job already done, failed, or run by a live worker is left alone."""
    now = timezone.now()
    token = secrets.token_hex(8)
    claimed = ExportJob.objects.filter(pk=job_id).filter(
        Q(status=S.QUEUED) | Q(status=S.RUNNING, progress_at__lt=now - conf.stale_after())
    ).update(status=S.RUNNING, claim=token, started_at=now, progress_at=now, finished_at=None, rows_written=0,
             attempts=F("attempts") + 1, error="")
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or not claimed:
        return job
    folder = conf.exports_dir()
    _remove_partials(job.pk, keep=token)
    part, final = folder / f".{job.pk}-{token}.part", folder / f"{job.pk}-{token}.xlsx"
    if job.attempts > conf.MAX_ATTEMPTS:
        _fail(job, token, INTERRUPTED, None)
        job.refresh_from_db()
        return job

    def progress(n: int) -> None:
        if not ExportJob.objects.filter(pk=job.pk, claim=token, status=S.RUNNING).update(
                rows_written=n, progress_at=timezone.now()):
            raise _Superseded

    actor = None
    try:
        actor = _principal_now(job.user_id)
        exporter = registry.get(job.kind)
        if not actor.area_paths_for(exporter.capability):
            raise Forbidden(REVOKED)
        export = exporter.prepare(actor, job.params)
        ExportJob.objects.filter(pk=job.pk, claim=token).update(scope_paths=actor.area_paths_for(exporter.capability))
        if export.count is not None:
            ExportJob.objects.filter(pk=job.pk, claim=token).update(rows_expected=export.count(),
                                                                    progress_at=timezone.now())
        rows = write_xlsx(part, title=export.title, header=export.header, rows=export.rows, on_progress=progress)
        progress(rows)  # the last rows, and a sign of life before the rename
        os.replace(part, final)
        finished = timezone.now()
        size = final.stat().st_size
        with transaction.atomic():
            if not ExportJob.objects.filter(pk=job.pk, claim=token, status=S.RUNNING).update(
                    status=S.DONE, file_name=final.name, size=size, rows_written=rows, finished_at=finished,
                    progress_at=finished, expires_at=finished + conf.keep_for()):
                raise _Superseded
            audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=job,
                  changes={"status": [S.RUNNING, S.DONE], "rows": rows, "size": size})
    except _Superseded:
        log.warning("export job %s: taken over by another run, this run's file is discarded", job.pk)
        _unlink(part)
        _unlink(final)
    except DomainError as exc:
        _unlink(part)
        _fail(job, token, exc.message, actor)
    except Exception:
        log.exception("export job %s failed", job.pk)
        _unlink(part)
        _unlink(final)
        _fail(job, token, INTERNAL, actor)
    job.refresh_from_db()
    return job


def exports_sweep(*, now=None) -> dict:
    """Keep jobs moving and files within their time: a running job whose worker died (no
    progress for ``stale_after``) is queued again, or failed with a reason after MAX_ATTEMPTS
    runs; a queued job whose run is no longer waiting is queued again; an expired file is
    deleted and its job marked 已过期 (the row stays as history)."""
    from .tasks import task_waiting

    now = now or timezone.now()
    stale_before = now - conf.stale_after()
    counts = {"resumed": 0, "failed": 0, "requeued": 0, "expired": 0}
    for job in ExportJob.objects.filter(status=S.RUNNING, progress_at__lt=stale_before):
        if job.attempts >= conf.MAX_ATTEMPTS:
            with transaction.atomic():
                if ExportJob.objects.filter(pk=job.pk, status=S.RUNNING, claim=job.claim).update(
                        status=S.FAILED, error=INTERRUPTED, finished_at=now):
                    audit(actor=None, action=AuditEntry.Action.TRANSITION, target=job,
                          changes={"status": [S.RUNNING, S.FAILED], "error": INTERRUPTED})
                    counts["failed"] += 1
            _remove_partials(job.pk)
        elif not task_waiting(job.task_id):
            _enqueue(job.pk)
            counts["resumed"] += 1
    for job in ExportJob.objects.filter(status=S.QUEUED, progress_at__lt=stale_before):
        if not task_waiting(job.task_id):
            _enqueue(job.pk)
            counts["requeued"] += 1
    for job in ExportJob.objects.filter(status=S.DONE, expires_at__lte=now):
        with transaction.atomic():
            if ExportJob.objects.filter(pk=job.pk, status=S.DONE).update(status=S.EXPIRED, file_name=""):
                audit(actor=None, action=AuditEntry.Action.TRANSITION, target=job,
                      changes={"status": [S.DONE, S.EXPIRED], "file": job.file_name})
                counts["expired"] += 1
                path = conf.exports_dir() / job.file_name
                transaction.on_commit(lambda path=path: _unlink(path))
    return counts
