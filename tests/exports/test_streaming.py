"""Reading in keyset chunks gives the rows of the plain query in its order, ties included;
the xlsx writer starts a new sheet at the row limit and leaves no spool file behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import GUDONG
from django.utils import timezone
from openpyxl import load_workbook

from bianmin.exports.models import ExportJob
from bianmin.exports.streaming import keyset_chunks, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("order", [("-created_at", "-id"), ("created_at", "id"), ("-created_at", "id")])
@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_keyset_chunks_give_every_row_in_order(make_user, order, size):
    user = make_user("window_clerk", GUDONG)
    t = timezone.now()
    # many rows share a time: the chunk boundaries fall inside ties
    for minutes in (0, 0, 0, 1, 1, 2, 0, 3, 3, 3, 3):
        ExportJob.objects.create(user=user, kind="k", title="t", created_at=t - timedelta(minutes=minutes))
    qs = ExportJob.objects.filter(user=user).order_by(*order)
    assert [j.pk for j in keyset_chunks(qs, size=size)] == list(qs.values_list("pk", flat=True))


def test_keyset_chunks_need_a_total_order(make_user):
    with pytest.raises(ValueError, match="primary key last"):
        list(keyset_chunks(ExportJob.objects.order_by("created_at")))


def test_a_new_sheet_starts_at_the_row_limit(exports_dir):
    path = exports_dir / "out.xlsx"
    seen = []
    n = write_xlsx(path, title="回访台账", header=["序号", "内容"], rows=([i, f"行\x07{i}"] for i in range(1, 13)),
                   on_progress=seen.append, every=5, sheet_rows=5)
    assert n == 12 and seen == [5, 10]
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["回访台账", "回访台账（2）", "回访台账（3）"]
    sheets = [list(ws.values) for ws in wb.worksheets]
    assert [len(s) for s in sheets] == [5, 5, 5] and all(s[0] == ("序号", "内容") for s in sheets)
    assert [r[0] for s in sheets for r in s[1:]] == list(range(1, 13))
    assert sheets[0][1][1] == "行1"  # a control character, which xlsx cannot hold, is dropped
    assert sorted(p.name for p in exports_dir.iterdir()) == ["out.xlsx"]  # the spool files are gone


def test_an_empty_export_is_a_file_with_its_header(tmp_path):
    assert write_xlsx(tmp_path / "e.xlsx", title="空", header=["序号"], rows=[]) == 0
    assert list(load_workbook(tmp_path / "e.xlsx").active.values) == [("序号",)]


def test_the_first_chunks_bound_limits_every_chunk(make_user):
    """The period's end given as ``first`` (not in the queryset, for SQLite's index walk) still
    bounds the whole read: later chunks start below the first chunk's rows."""
    from django.db.models import Q

    user = make_user("window_clerk", GUDONG)
    t = timezone.now()
    for minutes in (0, 0, 1, 1, 2, 2, 2, 3, 4, 5, 5):
        ExportJob.objects.create(user=user, kind="k", title="t", created_at=t - timedelta(minutes=minutes))
    qs = ExportJob.objects.filter(user=user).order_by("-created_at", "-id")
    until = Q(created_at__lt=t - timedelta(minutes=1, seconds=30))
    got = [j.pk for j in keyset_chunks(qs, size=2, first=until)]
    assert got == list(qs.filter(until).values_list("pk", flat=True)) and len(got) == 7


def test_text_that_looks_like_a_formula_stays_text(exports_dir):
    """A citizen's note "=HYPERLINK(…)" must not become a formula the spreadsheet runs, in the
    job's file and in the direct download alike."""
    import io

    from bianmin.core.xlsx import book as small_book

    note = '=HYPERLINK("http://evil","点我")'
    write_xlsx(exports_dir / "f.xlsx", title="t", header=["记录"], rows=[[note], ["=1+1"]])
    for book in (load_workbook(exports_dir / "f.xlsx"), load_workbook(io.BytesIO(small_book("t", ["记录"], [[note]])))):
        cell = book.active["A2"]
        assert cell.data_type == "s" and cell.value == note
