"""Export jobs (services): a job runs to a file with every row, saves its progress as it goes,
fails with a Chinese reason and no file when its requester lost the role, is taken over when
its worker died (never two files), expires, and can be re-run; bad params write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import GUDONG, GULOU
from django.utils import timezone
from openpyxl import load_workbook

from bianmin.accounts.principals import principal_for_user
from bianmin.core.errors import Conflict, Invalid, NotFound, RateLimited
from bianmin.core.models import AuditEntry
from bianmin.exports import conf, services
from bianmin.exports.models import ExportJob

pytestmark = pytest.mark.django_db
S = ExportJob.Status


@pytest.fixture
def clerk(make_user):
    return make_user("window_clerk", GUDONG)


def _actor(user):
    return principal_for_user(user, ip="127.0.0.1")


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _rows(path) -> list[tuple]:
    wb = load_workbook(path, read_only=True)
    return [row for ws in wb.worksheets for row in ws.values]


def test_a_job_runs_to_a_file_with_every_row(clerk, numbers, exports_dir, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from bianmin.exports.tasks import run_export, sweep_exports

    with django_capture_on_commit_callbacks(execute=True):
        job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 4321})
    assert job.status == S.QUEUED and job.title == "数字_4321"
    # queued after commit, and watched by the sweep
    job.refresh_from_db()
    assert DBTaskResult.objects.get(id=job.task_id).task_path == run_export.module_path
    assert DBTaskResult.objects.filter(task_path=sweep_exports.module_path, status="READY").count() == 1

    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.DONE and job.rows_written == 4321 and job.rows_expected == 4321 and job.attempts == 1
    assert job.percent == 100 and job.expires_at == job.finished_at + conf.keep_for()
    assert _files(exports_dir) == [job.file_name] and job.size == (exports_dir / job.file_name).stat().st_size
    rows = _rows(exports_dir / job.file_name)
    assert rows[0] == ("序号", "内容") and len(rows) == 4322
    assert [r[0] for r in rows[1:]] == list(range(1, 4322)) and rows[-1] == (4321, "第4321行")
    assert AuditEntry.objects.filter(target_type="exports.exportjob", target_id=str(job.pk),
                                     action=AuditEntry.Action.TRANSITION).exists()
    # the task queued twice (or retried): the second run changes nothing
    again = services.export_job_run(job_id=job.pk)
    assert again.status == S.DONE and again.file_name == job.file_name and _files(exports_dir) == [job.file_name]


def test_progress_is_saved_while_the_rows_are_written(clerk, numbers, monkeypatch):
    monkeypatch.setattr(conf, "PROGRESS_EVERY", 100)
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 450})
    seen = {}

    def look(at):
        row = ExportJob.objects.values("status", "rows_written", "rows_expected", "progress_at").get(pk=job.pk)
        seen[at] = row

    numbers[250] = lambda: look(250)
    numbers[450] = lambda: look(450)
    job = services.export_job_run(job_id=job.pk)
    assert seen[250]["status"] == S.RUNNING and seen[250]["rows_written"] == 200 and seen[250]["rows_expected"] == 450
    assert seen[450]["rows_written"] == 400 and seen[450]["progress_at"] >= seen[250]["progress_at"]
    assert job.rows_written == 450 and job.status == S.DONE


def test_a_revoked_role_fails_the_job_with_a_reason_and_no_file(clerk, numbers, exports_dir):
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 10})
    clerk.role_assignments.update(active=False)
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.FAILED and job.error == services.REVOKED and "权限" in job.error
    assert job.file_name == "" and _files(exports_dir) == []


def test_a_disabled_account_fails_the_job_too(clerk, numbers, exports_dir):
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 10})
    type(clerk).objects.filter(pk=clerk.pk).update(is_active=False)
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.FAILED and job.error == services.REVOKED and _files(exports_dir) == []


def test_an_error_while_writing_fails_the_job_in_chinese_and_leaves_no_file(clerk, numbers, exports_dir):
    def boom():
        raise RuntimeError("disk on fire")

    numbers[5] = boom
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 10})
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.FAILED and job.error == services.INTERNAL and _files(exports_dir) == []


def test_a_failed_job_is_run_again_on_request(clerk, numbers, exports_dir, make_user):
    actor = _actor(clerk)
    job = services.export_job_create(actor=actor, kind="test.numbers", params={"n": 10})
    clerk.role_assignments.update(active=False)
    services.export_job_run(job_id=job.pk)
    clerk.role_assignments.update(active=True)
    clerk = type(clerk).objects.get(pk=clerk.pk)
    with pytest.raises(NotFound):  # someone else's job
        services.export_job_retry(actor=_actor(make_user("window_clerk", GUDONG)), job_id=job.pk)
    job = services.export_job_retry(actor=_actor(clerk), job_id=job.pk)
    assert job.status == S.QUEUED and job.error == "" and job.attempts == 0
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.DONE and len(_rows(exports_dir / job.file_name)) == 11
    with pytest.raises(Conflict):  # a finished job is downloaded, not re-run
        services.export_job_retry(actor=_actor(clerk), job_id=job.pk)


def test_a_stale_running_job_is_taken_over_and_leaves_one_file(clerk, numbers, exports_dir):
    """The worker was killed mid-export: the job says 进行中 with old progress and a partial file."""
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 30})
    long_ago = timezone.now() - conf.stale_after() - timedelta(seconds=1)
    ExportJob.objects.filter(pk=job.pk).update(status=S.RUNNING, claim="dead", attempts=1, rows_written=20,
                                               progress_at=long_ago)
    (exports_dir / f".{job.pk}-dead.part").write_bytes(b"half a file")
    (exports_dir / f".{job.pk}-dead.part.x1y2.sheet.xml").write_bytes(b"<row/>")  # its spooled sheet
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.DONE and job.attempts == 2 and job.rows_written == 30
    assert _files(exports_dir) == [job.file_name] and len(_rows(exports_dir / job.file_name)) == 31


def test_a_live_running_job_is_not_run_twice(clerk, numbers, exports_dir):
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 30})
    ExportJob.objects.filter(pk=job.pk).update(status=S.RUNNING, claim="alive", attempts=1,
                                               progress_at=timezone.now())
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.RUNNING and job.claim == "alive" and _files(exports_dir) == []


def test_a_run_taken_over_meanwhile_stops_and_discards_its_file(clerk, numbers, exports_dir, monkeypatch):
    """A slow worker declared stale while it still runs: its next progress save finds the claim
    gone, and it deletes its partial file instead of finishing a second one."""
    monkeypatch.setattr(conf, "PROGRESS_EVERY", 10)
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 50})
    numbers[15] = lambda: ExportJob.objects.filter(pk=job.pk).update(claim="the-other-run")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == S.RUNNING and job.claim == "the-other-run" and _files(exports_dir) == []


def test_the_sweep_requeues_a_dead_job_then_gives_up_with_a_reason(clerk, numbers, exports_dir):
    from django_tasks_db.models import DBTaskResult

    from bianmin.exports.tasks import run_export

    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 5})
    long_ago = timezone.now() - conf.stale_after() - timedelta(minutes=1)
    ExportJob.objects.filter(pk=job.pk).update(status=S.RUNNING, claim="dead", attempts=1, progress_at=long_ago)
    assert services.exports_sweep()["resumed"] == 1
    job.refresh_from_db()
    assert DBTaskResult.objects.get(id=job.task_id).task_path == run_export.module_path
    assert services.exports_sweep()["resumed"] == 0  # its run is already waiting: not queued twice

    ExportJob.objects.filter(pk=job.pk).update(attempts=conf.MAX_ATTEMPTS)
    (exports_dir / f".{job.pk}-dead.part").write_bytes(b"half")
    assert services.exports_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.status == S.FAILED and job.error == services.INTERRUPTED and _files(exports_dir) == []
    assert job.can_retry


def test_the_sweep_requeues_a_queued_job_whose_run_was_lost(clerk, numbers):
    from django_tasks_db.models import DBTaskResult

    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 5})
    # created, but the process died before its after-commit hook queued the run
    assert not job.task_id and services.exports_sweep()["requeued"] == 0  # not yet stale
    ExportJob.objects.filter(pk=job.pk).update(progress_at=timezone.now() - conf.stale_after() - timedelta(seconds=1))
    assert services.exports_sweep()["requeued"] == 1
    job.refresh_from_db()
    assert DBTaskResult.objects.filter(id=job.task_id, status="READY").exists()


def test_expired_files_are_deleted_and_the_row_stays(clerk, numbers, exports_dir, django_capture_on_commit_callbacks):
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 5})
    job = services.export_job_run(job_id=job.pk)
    assert _files(exports_dir) == [job.file_name]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.exports_sweep()["expired"] == 0  # not yet
        assert services.exports_sweep(now=job.expires_at + timedelta(seconds=1))["expired"] == 1
    job.refresh_from_db()
    assert job.status == S.EXPIRED and job.file_name == "" and job.rows_written == 5 and _files(exports_dir) == []
    with pytest.raises(NotFound, match="过期"):
        services.export_job_open(actor=_actor(clerk), job_id=job.pk)
    assert services.export_job_retry(actor=_actor(clerk), job_id=job.pk).status == S.QUEUED


def test_the_sweep_reschedules_itself_only_while_there_is_something_to_watch(clerk, numbers):
    from django_tasks_db.models import DBTaskResult

    from bianmin.exports import tasks

    def waiting():
        return list(DBTaskResult.objects.filter(task_path=tasks.sweep_exports.module_path, status="READY")
                    .values_list("run_after", flat=True))

    tasks.ensure_sweep()
    assert waiting() == []  # no job: no sweep
    job = services.export_job_create(actor=_actor(clerk), kind="test.numbers", params={"n": 5})
    tasks.ensure_sweep()
    tasks.ensure_sweep()
    assert len(waiting()) == 1 and waiting()[0] <= timezone.now() + conf.SWEEP_EVERY  # soon, once
    DBTaskResult.objects.all().delete()
    job = services.export_job_run(job_id=job.pk)
    tasks.ensure_sweep()
    assert waiting() == [job.expires_at]  # then when the file expires


def test_a_file_gone_from_disk_says_so_and_can_be_exported_again(clerk, numbers, exports_dir):
    job = services.export_job_run(job_id=services.export_job_create(
        actor=_actor(clerk), kind="test.numbers", params={"n": 5}).pk)
    (exports_dir / job.file_name).unlink()
    with pytest.raises(NotFound, match="不存在"):
        services.export_job_open(actor=_actor(clerk), job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.EXPIRED and job.can_retry


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("test.numbers", {"n": "many"}, "行数应为非负整数"),
    ("test.nothing", {}, "未知的导出类型"),
    ("test.numbers", ["n", 5], "导出条件格式不正确"),
    ("followups.followups", {"from": "2026-13-01", "to": "2026-12-31"}, "日期格式应为 YYYY-MM-DD"),
    ("followups.followups", {"from": "2026-02-01", "to": "2026-01-01"}, "结束日期不能早于开始日期"),
    ("followups.followups", {"to": "2026-01-01"}, "请选择导出的起止日期"),
    ("followups.rectifications", {"from": "2026-01-01", "to": "2026-01-31", "status": "gone"}, "整改状态无效"),
])
def test_bad_params_are_refused_in_chinese_and_write_nothing(clerk, numbers, kind, params, message):
    with pytest.raises(Invalid, match=message) as exc:
        services.export_job_create(actor=_actor(clerk), kind=kind, params=params)
    assert exc.value.status == 422
    assert not ExportJob.objects.exists() and not AuditEntry.objects.filter(target_type="exports.exportjob").exists()


def test_the_same_export_twice_is_one_job_and_unfinished_jobs_are_limited(clerk, numbers):
    actor = _actor(clerk)
    first = services.export_job_create(actor=actor, kind="test.numbers", params={"n": 1})
    assert services.export_job_create(actor=actor, kind="test.numbers", params={"n": 1}).pk == first.pk
    for n in range(2, conf.MAX_UNFINISHED_PER_USER + 1):
        services.export_job_create(actor=actor, kind="test.numbers", params={"n": n})
    with pytest.raises(RateLimited, match="正在排队或进行"):
        services.export_job_create(actor=actor, kind="test.numbers", params={"n": 99})
    assert ExportJob.objects.count() == conf.MAX_UNFINISHED_PER_USER


def test_only_the_requester_opens_the_file_and_the_download_is_audited(clerk, numbers, make_user):
    job = services.export_job_run(job_id=services.export_job_create(
        actor=_actor(clerk), kind="test.numbers", params={"n": 5}).pk)
    for other in (make_user("window_clerk", GUDONG), make_user("district_admin", GULOU)):
        with pytest.raises(NotFound):
            services.export_job_open(actor=_actor(other), job_id=job.pk)
    opened, fh = services.export_job_open(actor=_actor(clerk), job_id=job.pk)
    fh.close()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT, target_id=str(job.pk))
    assert entry.actor == clerk and entry.changes["rows"] == 5 and entry.changes["file"] == "数字_5.xlsx"


def test_the_file_is_not_downloaded_once_the_scope_narrowed(make_user, numbers):
    """A district admin's file holds the district's rows: moved down to one township (or the
    role revoked), they may no longer take it; the job can be exported again within the new scope."""
    from bianmin.accounts.models import RoleAssignment
    from bianmin.core.errors import Forbidden

    admin = make_user("district_admin", GULOU)
    job = services.export_job_run(job_id=services.export_job_create(
        actor=_actor(admin), kind="test.numbers", params={"n": 3}).pk)
    assert job.scope_paths == [principal_for_user(admin).area_paths_for("view")[0]]
    services.export_job_open(actor=_actor(admin), job_id=job.pk)[1].close()
    assignment = admin.role_assignments.get()
    RoleAssignment.objects.filter(pk=assignment.pk).update(area=type(assignment.area).objects.get(code=GUDONG))
    admin = type(admin).objects.get(pk=admin.pk)
    with pytest.raises(Forbidden, match="数据权限已变更"):
        services.export_job_open(actor=_actor(admin), job_id=job.pk)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, target_id=str(job.pk)).count() == 1
