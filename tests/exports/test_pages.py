"""我的导出: the requester's jobs with progress (refreshing itself while one runs, no JavaScript),
the download (only the requester's, audited), re-running a failed job, the staff menu entry."""

from __future__ import annotations

import pytest
from conftest import GUDONG, GULOU
from openpyxl import load_workbook

from bianmin.accounts.principals import principal_for_user
from bianmin.core.models import AuditEntry
from bianmin.exports import services
from bianmin.exports.models import ExportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    return make_user("window_clerk", GUDONG)


def _job(user, n=5, run=True):
    job = services.export_job_create(actor=principal_for_user(user), kind="test.numbers", params={"n": n})
    return services.export_job_run(job_id=job.pk) if run else job


def test_the_list_shows_progress_and_refreshes_while_a_job_runs(clerk, numbers, login, client):
    c = login(clerk, client)
    empty = c.get("/exports/")
    assert empty.status_code == 200 and "暂无导出任务" in empty.content.decode()
    job = _job(clerk, run=False)
    ExportJob.objects.filter(pk=job.pk).update(status="running", rows_written=2, rows_expected=5)
    page = c.get("/exports/").content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "进行中" in page and "已写入 2 / 5 行" in page and 'value="40"' in page and "数字_5" in page
    ExportJob.objects.filter(pk=job.pk).update(status="queued")
    services.export_job_run(job_id=job.pk)
    page = c.get("/exports/").content.decode()
    assert "http-equiv" not in page and "已完成" in page and f"/exports/{job.pk}/download/" in page and "有效期至" in page


def test_a_failed_job_shows_its_reason_and_is_rerun_from_the_page(clerk, numbers, login, client):
    job = _job(clerk, run=False)
    clerk.role_assignments.update(active=False)
    services.export_job_run(job_id=job.pk)
    clerk.role_assignments.update(active=True)
    c = login(clerk, client)
    page = c.get("/exports/").content.decode()
    assert "失败" in page and "角色已撤销或账号已停用" in page and f"/exports/{job.pk}/retry/" in page
    assert c.get(f"/exports/{job.pk}/retry/").status_code == 405
    r = c.post(f"/exports/{job.pk}/retry/")
    assert r.status_code == 302 and r["Location"] == "/exports/"
    job.refresh_from_db()
    assert job.status == "queued" and "已重新提交导出" in c.get("/exports/").content.decode()
    assert c.post(f"/exports/{job.pk}/retry/").status_code == 409  # already queued


def test_the_download_is_the_requesters_only_and_audited(clerk, numbers, login, client, make_user):
    job = _job(clerk, n=7)
    for other in (make_user("window_clerk", GUDONG), make_user("district_admin", GULOU)):
        r = login(other, client).get(f"/exports/{job.pk}/download/")
        assert r.status_code == 404 and "未找到该导出任务" in r.content.decode()
        assert login(other, client).post(f"/exports/{job.pk}/retry/").status_code == 404
    client.logout()
    assert client.get(f"/exports/{job.pk}/download/").status_code == 302  # to the log-in page
    r = login(clerk, client).get(f"/exports/{job.pk}/download/")
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"] and "xlsx" in r["Content-Disposition"]
    import io

    rows = list(load_workbook(io.BytesIO(b"".join(r.streaming_content))).active.values)
    assert len(rows) == 8
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=clerk, target_id=str(job.pk)).count() == 1


def test_a_job_not_finished_cannot_be_downloaded(clerk, numbers, login, client):
    job = _job(clerk, run=False)
    r = login(clerk, client).get(f"/exports/{job.pk}/download/")
    assert r.status_code == 404 and "导出尚未完成" in r.content.decode()


def test_my_exports_is_on_the_staff_menu(clerk, login, client):
    page = login(clerk, client).get("/staff/").content.decode()
    assert "我的导出" in page and 'href="/exports/"' in page
