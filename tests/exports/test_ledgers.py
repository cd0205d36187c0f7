"""The follow-up ledgers' xlsx: small → downloaded at once, large → a job whose file has the
same rows as the direct download (masked personal data stays masked), read a chunk at a time
with the related records joined (not one query per row)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from conftest import GULOU
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from bianmin.accounts.principals import principal_for_user
from bianmin.exports import conf, services
from bianmin.exports.models import ExportJob

pytestmark = pytest.mark.django_db

LEDGERS = {"followups": "回访台账", "problems": "问题清单", "rectifications": "整改台账"}


def _sheet_rows(data) -> list[tuple]:
    wb = load_workbook(data if not isinstance(data, bytes) else io.BytesIO(data), read_only=True)
    return [row for ws in wb.worksheets for row in ws.values]


@pytest.fixture
def admin(make_user):
    return make_user("district_admin", GULOU)


def _period():
    t = timezone.localdate()
    return t - timedelta(days=45), t


def test_a_small_ledger_downloads_at_once(scaled, admin, login, client):
    start, end = _period()
    for ledger in LEDGERS:
        r = login(admin, client).get(f"/followups/ledgers/{ledger}/?from={start}&to={end}&format=xlsx")
        assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
        assert len(_sheet_rows(r.content)) > 1
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("access_path", ["narrow", "wide"])
def test_a_large_ledger_becomes_a_job_with_the_same_rows(scaled, admin, login, client, settings, exports_dir,
                                                         django_capture_on_commit_callbacks, monkeypatch, access_path):
    """On both of the ledgers' access paths (selectors._ledger_scope: an id list, or the walk of
    the (date, id, area) index), the chunked reads give exactly the direct download's rows."""
    from bianmin.followups import selectors

    if access_path == "wide":
        monkeypatch.setattr(selectors, "NARROW_SCOPE_AREAS", 0)
    start, end = _period()
    c = login(admin, client)
    direct = {ledger: _sheet_rows(c.get(f"/followups/ledgers/{ledger}/?from={start}&to={end}&format=xlsx").content)
              for ledger in LEDGERS}
    settings.BIANMIN_EXPORT_DIRECT_MAX_ROWS = 3
    for ledger, label in LEDGERS.items():
        with django_capture_on_commit_callbacks(execute=True):
            r = c.get(f"/followups/ledgers/{ledger}/?from={start}&to={end}&format=xlsx")
        assert r.status_code == 302 and r["Location"] == "/exports/"
        job = ExportJob.objects.get(kind=f"followups.{ledger}")
        assert job.user == admin and job.params == {"from": str(start), "to": str(end)} and job.task_id
        assert job.title == f"{label}_{start}_{end}"
        job = services.export_job_run(job_id=job.pk)
        assert job.status == ExportJob.Status.DONE
        rows = _sheet_rows(exports_dir / job.file_name)
        assert rows == direct[ledger] and job.rows_written == job.rows_expected == len(rows) - 1 > 3
    page = c.get("/exports/")
    assert "数据较多，已转为后台导出，完成后可在“我的导出”下载。" in page.content.decode()
    # masked: no full mobile number in the follow-up ledger's phone column
    phones = [row[7] for row in direct["followups"][1:] if row[7]]
    assert phones and all("****" in p for p in phones)


def test_the_rectification_ledger_job_keeps_the_status_filter(scaled, admin, login, client, settings):
    start, end = _period()
    settings.BIANMIN_EXPORT_DIRECT_MAX_ROWS = 0
    login(admin, client).get(f"/followups/ledgers/rectifications/?from={start}&to={end}&status=open&format=xlsx")
    assert ExportJob.objects.get().params == {"from": str(start), "to": str(end), "status": "open"}


def test_the_export_reads_chunks_with_joins_not_a_query_per_row(scaled, admin, monkeypatch, exports_dir):
    from bianmin.followups.selectors import followup_ledger

    monkeypatch.setattr(conf, "CHUNK_ROWS", 10)
    start, end = _period()
    job = services.export_job_create(actor=principal_for_user(admin), kind="followups.followups",
                                     params={"from": str(start), "to": str(end)})
    with CaptureQueriesContext(connection) as ctx:
        job = services.export_job_run(job_id=job.pk)
    n = job.rows_written
    assert n > 30 and n == followup_ledger(actor=principal_for_user(admin), start=start, end=end).count()
    reads = [q["sql"] for q in ctx.captured_queries if '"followups_followup"' in q["sql"] and "SELECT" in q["sql"]]
    # the count, then one query per chunk of 10 (and one that finds the end), each joining its related rows
    assert len(reads) <= n // 10 + 3
    assert all('"cases_case"' in sql and '"accounts_user"' in sql for sql in reads[1:])
