"""xlsx import and export: the documented header, round trip, refusal of a bad file as a whole."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from bianmin.catalog.models import StandardItem
from bianmin.catalog.xlsx import HEADERS, ImportRefused, export_catalog, import_catalog
from bianmin.core.errors import UnsupportedType


def _book(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(code="N1", name="新事项", dept="D-民政", days=10, **over):
    values = dict(zip(HEADERS, [code, name, "别名甲", "行政给付", "主项", "", "", dept, "乡镇人民政府（街道办事处）", "《某条例》",
                               "自然人", "条件", "流程", "", days, "不收费", "", "否", "否", "乡镇,村", "居民身份证:A；收入声明:D:可选"], strict=True))
    values.update(over)
    return [values[h] for h in HEADERS]


def test_import_creates_and_updates_then_export_round_trips(depts, dibao):
    result = import_catalog(actor=None, data=_book([_row(), _row(code=dibao.code, name=dibao.name, days=30)]))
    assert (result.created, result.updated) == (1, 1)
    si = StandardItem.objects.get(code="N1")
    assert si.levels == "township,village" and si.item_type == "benefit"
    assert [(m.name, m.trust_level, m.required) for m in si.materials.all()] == [("居民身份证", "A", True), ("收入声明", "D", False)]
    data = export_catalog(standard_items=StandardItem.objects.order_by("code"))
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    again = import_catalog(actor=None, data=data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_bad_file_is_refused_whole_with_every_error(depts, dibao):
    rows = [
        _row(code="OK1"),
        _row(code="B1", days="十天"),
        _row(code="B2", dept="NOPE", **{"事项类型": "行政什么"}),
        _row(code="OK1"),
        _row(code="", name=""),
        _row(code="B5", **{"申请材料": "身份证:Z", "涉密": "也许"}),
    ]
    with pytest.raises(ImportRefused) as exc:
        import_catalog(actor=None, data=_book(rows))
    got = {(e.row, e.column) for e in exc.value.errors}
    assert {(3, "法定办结时限（工作日）"), (4, "主管部门编码"), (4, "事项类型"), (5, "事项编码"), (6, "事项编码"),
            (6, "事项名称"), (7, "申请材料"), (7, "涉密")} <= got
    assert exc.value.status == 422 and "整表退回" in exc.value.message
    assert not StandardItem.objects.filter(code__in=["OK1", "B1", "B2", "B5"]).exists()


def test_a_service_rule_failing_late_rolls_back_every_row(depts, dibao, item_at):
    item_at(dibao, promised_limit_days=20)
    rows = [_row(code="OK1"), _row(code=dibao.code, name=dibao.name, days=5)]  # 5 < promised 20
    with pytest.raises(ImportRefused) as exc:
        import_catalog(actor=None, data=_book(rows))
    assert exc.value.errors[0].row == 3 and "承诺时限" in exc.value.errors[0].message
    assert not StandardItem.objects.filter(code="OK1").exists()


def test_wrong_header_and_not_xlsx(depts):
    with pytest.raises(ImportRefused) as exc:
        import_catalog(actor=None, data=_book([], headers=["编码", "名称"]))
    assert exc.value.errors[0].row == 1 and "缺少列" in exc.value.errors[0].message
    with pytest.raises(UnsupportedType):
        import_catalog(actor=None, data=b"not a workbook")
    with pytest.raises(ImportRefused):
        import_catalog(actor=None, data=_book([]))


def _run_queued():
    """What the worker does: run every queued catalog import."""
    from bianmin.catalog.models import CatalogImport
    from bianmin.catalog.xlsx import import_job_run

    for job in CatalogImport.objects.filter(status="pending"):
        import_job_run(job_id=job.pk)


def test_import_page_and_api_run_in_the_background(depts, make_user, login, django_capture_on_commit_callbacks):
    from conftest import CITY, GUDONG
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from bianmin.catalog.models import CatalogImport

    admin = login(make_user("city_admin", CITY))
    bad = SimpleUploadedFile("c.xlsx", _book([_row(code="B1", days="x")]))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        resp = admin.post("/catalog/staff/import/", {"file": bad})
    assert resp.status_code == 302 and len(queued) == 1  # queued for the worker, nothing parsed here
    job = CatalogImport.objects.get()
    assert job.status == "pending" and job.file
    _run_queued()
    job.refresh_from_db()
    assert job.status == "refused" and not job.file  # a refused file is removed
    page = admin.get(resp["Location"]).content.decode()
    assert "第2行" in page and "整表退回" in page

    resp = admin.post("/api/v1/catalog/import", {"file": SimpleUploadedFile("c.xlsx", _book([_row(code="G1")]))})
    assert resp.status_code == 202 and resp.json()["status"] == "pending"
    url = resp.json()["url"]
    _run_queued()
    done = admin.get(url).json()
    assert (done["status"], done["created"], done["percent"]) == ("done", 1, 100)
    assert StandardItem.objects.filter(code="G1").exists() and not CatalogImport.objects.get(pk=done["id"]).file

    manager = login(make_user("center_manager", GUDONG), Client())
    resp = manager.post("/api/v1/catalog/import", {"file": SimpleUploadedFile("c.xlsx", _book([_row(code="G2")]))})
    assert resp.status_code == 404  # the city is outside a township manager's scope
    assert manager.get(url).status_code == 404
    assert CatalogImport.objects.count() == 2 and not StandardItem.objects.filter(code="G2").exists()
    assert admin.get("/api/v1/catalog/export").status_code == 200


def test_limits_are_checked_before_the_work(depts, make_user, settings):
    """A 214 KB xlsx of empty rows held a web worker 43 s (and the 5 MB cap allowed 25 times that):
    its declared rows are refused before any parsing; what is read counts too."""
    from conftest import CITY
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bianmin.accounts.principals import principal_for_user
    from bianmin.catalog.models import CatalogImport
    from bianmin.catalog.xlsx import import_job_create
    from bianmin.core.errors import Invalid, TooLarge

    actor = principal_for_user(make_user("city_admin", CITY))
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.cell(row=200_000, column=1, value=" ")  # a sheet that declares 200,000 rows, nearly all empty
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(Invalid, match="超过一次导入的上限"):
        import_job_create(actor=actor, upload=SimpleUploadedFile("empty.xlsx", buf.getvalue()))
    settings.BIANMIN_IMPORT_LIMITS = {"catalog": {"max_bytes": 1000}}
    with pytest.raises(TooLarge):
        import_job_create(actor=actor, upload=SimpleUploadedFile("big.xlsx", _book([_row()] * 20)))
    settings.BIANMIN_IMPORT_LIMITS = {"catalog": {"max_rows": 2}}
    with pytest.raises(ImportRefused, match="上限 2 行"):
        import_catalog(actor=None, data=_book([_row(code=f"R{i}") for i in range(3)]))
    assert not CatalogImport.objects.exists()


def test_export_keeps_formulas_as_text_and_survives_control_characters(dibao):
    """The catalog export wrote "=…" as live formulas and failed on a control character a PATCH
    had accepted: it goes through the one writer now (core.xlsx)."""
    StandardItem.objects.filter(pk=dibao.pk).update(name='=HYPERLINK("http://evil","点我")', fee="免\x07费")
    data = export_catalog(standard_items=StandardItem.objects.order_by("code"))
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    row = [c for c in ws[2]]
    assert all(c.data_type != "f" for c in row)
    values = {h: c.value for h, c in zip(HEADERS, row, strict=True)}
    assert values["事项名称"] == '=HYPERLINK("http://evil","点我")' and "免费" in values.values()
