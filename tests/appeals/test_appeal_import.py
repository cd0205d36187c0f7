"""12345 work orders: file import (validate all, refuse with errors by row and column, then
upsert by work-order number), the JSON push API, and the mapping of category codes."""

import csv
import io

import pytest
from conftest import GUDONG, GULOU, GUXI
from django.core.files.uploadedfile import SimpleUploadedFile

from bianmin.appeals import importer
from bianmin.appeals.models import Appeal, AppealEvent, ImportJob

from .conftest import CREDIT_CODE, ID_NUMBER

HEADER = ["工单编号", "诉求类型", "分类编码", "标题", "诉求内容", "诉求人", "联系电话", "证件号码", "企业名称",
          "统一社会信用代码", "区划代码", "地址", "受理时间"]


def row(no, **kw):
    base = {"工单编号": no, "诉求类型": "投诉", "分类编码": "", "标题": "办事排队久", "诉求内容": "社保窗口排队两小时",
            "诉求人": "李四", "联系电话": "13900001111", "证件号码": "", "企业名称": "", "统一社会信用代码": "",
            "区划代码": GUDONG, "地址": "鼓东路1号", "受理时间": "2026-11-02 09:30"}
    base.update(kw)
    return base


def csv_bytes(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def run(actor, areas, rows, name="gd.csv", data=None):
    upload = SimpleUploadedFile(name, data if data is not None else csv_bytes(rows))
    job = importer.import_job_create(actor=actor, upload=upload, area=areas[GULOU], run_now=True)
    return importer.import_job_run(job_id=job.pk)


@pytest.fixture
def boss(make_user, as_principal):
    return as_principal(make_user("district_admin", GULOU))


def test_import_creates_then_updates_never_duplicates(areas, boss):
    rows = [row("GD001"), row("GD002", 诉求类型="咨询", 证件号码=ID_NUMBER),
            row("GD003", 诉求人="", 联系电话="", 诉求类型="建议"),
            row("GD004", 企业名称="福州某某科技有限公司", 统一社会信用代码=CREDIT_CODE, 区划代码=GUXI)]
    job = run(boss, areas, rows)
    assert (job.status, job.total, job.created_count, job.updated_count) == ("done", 4, 4, 0)
    assert job.processed == 4 and job.percent == 100
    gd3 = Appeal.objects.get(work_order_no="GD003")
    assert gd3.party_type == "anonymous" and gd3.kind == "suggestion" and gd3.channel == "hotline12345"
    assert Appeal.objects.get(work_order_no="GD004").party_type == "enterprise"
    assert AppealEvent.objects.filter(kind="registered").count() == 4

    again = run(boss, areas, rows)  # the same file: nothing changes
    assert (again.created_count, again.updated_count) == (0, 0)
    rows[0]["诉求内容"] = "社保窗口排队三小时（补充）"
    third = run(boss, areas, rows)
    assert (third.created_count, third.updated_count) == (0, 1)
    assert Appeal.objects.count() == 4
    gd1 = Appeal.objects.get(work_order_no="GD001")
    assert gd1.content.endswith("（补充）")
    assert gd1.events.filter(kind="updated").count() == 1


def test_a_bad_row_refuses_the_whole_file_with_every_error(areas, boss):
    rows = [row("GD101"), row("GD102", 联系电话="12345", 证件号码="350102198506011230"), row("GD103", 诉求类型="表扬", 区划代码="350103001000", 联系电话="1"),
            row("GD101"), row("GD105", 受理时间="昨天"), row("GD106", 诉求人="", 联系电话="", 诉求类型="投诉")]
    job = run(boss, areas, rows)
    assert job.status == "refused" and not Appeal.objects.exists()
    found = {(e["row"], e["column"]) for e in job.errors}
    assert {(3, "联系电话"), (3, "证件号码"), (4, "诉求类型"), (4, "区划代码"), (4, "联系电话"), (5, "工单编号"), (6, "受理时间"), (7, "诉求人")} <= found
    messages = " ".join(e["message"] for e in job.errors)
    assert "手机号码" in messages and "第2行" in messages and "匿名" in messages


def test_missing_columns_and_wrong_type(areas, boss):
    job = run(boss, areas, [], data="工单编号,标题\nX1,测试\n".encode())
    assert job.status == "refused" and {e["column"] for e in job.errors} >= {"诉求类型", "诉求内容", "区划代码", "受理时间"}
    from bianmin.core.errors import Invalid

    with pytest.raises(Invalid):
        importer.import_job_create(actor=boss, upload=SimpleUploadedFile("a.txt", b"x"), area=areas[GULOU])
    assert not ImportJob.objects.filter(filename="a.txt").exists()


def test_xlsx_with_excel_types(areas, boss):
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    values = row("GD201")
    values["联系电话"] = 13900001111  # Excel stores typed phone numbers as numbers
    values["受理时间"] = dt.datetime(2026, 11, 3, 10, 0)
    values["区划代码"] = int(GUDONG[:9])
    ws.append([values[h] for h in HEADER])
    buf = io.BytesIO()
    wb.save(buf)
    job = run(boss, areas, [], name="gd.xlsx", data=buf.getvalue())
    assert job.status == "done", job.errors
    appeal = Appeal.objects.get(work_order_no="GD201")
    assert appeal.mobile == "13900001111" and appeal.area.code == GUDONG


def test_category_codes_map_through_the_catalog_or_are_reported(areas, boss, department):
    from bianmin.catalog.models import Item, ItemMapping, StandardItem

    std = StandardItem.objects.create(code="350100-TEST-001", name="城乡居民养老保险参保登记", item_type="public_service",
                                      competent_department=department, implementing_body="鼓东街道", legal_limit_days=20)
    item = Item.objects.create(standard_item=std, area=areas[GUDONG], promised_limit_days=5)
    ItemMapping.objects.create(system="hotline_12345", external_code="C0101", standard_item=std)
    job = run(boss, areas, [row("GD301", 分类编码="C0101"), row("GD302", 分类编码="Z9999")])
    assert job.status == "done"
    assert Appeal.objects.get(work_order_no="GD301").item == item
    unmapped = Appeal.objects.get(work_order_no="GD302")
    assert unmapped.item is None and unmapped.category_unmapped
    assert job.unmapped_codes == [{"code": "Z9999", "count": 1}]
    from bianmin.catalog.models import UnmappedCode

    assert UnmappedCode.objects.get(system="hotline_12345").external_code == "Z9999"  # reported to the catalog


def test_rows_outside_the_importers_area_are_refused(areas, make_user, as_principal):
    township = as_principal(make_user("center_manager", GUDONG))
    upload = SimpleUploadedFile("gd.csv", csv_bytes([row("GD401", 区划代码=GUXI)]))
    job = importer.import_job_create(actor=township, upload=upload, area=areas[GUDONG], run_now=True)
    job = importer.import_job_run(job_id=job.pk)
    assert job.status == "refused" and job.errors[0]["column"] == "区划代码"


def test_push_api_is_idempotent(client, areas):
    from bianmin.accounts.models import ApiKey

    raw = "k12345_test_secret_value_that_is_long_enough"
    ApiKey.objects.create(name="12345平台", prefix="k12345", digest=ApiKey.digest_of(raw), area=areas[GULOU],
                          scopes=["appeals.12345"])
    order = {"work_order_no": "WO-1", "kind": "咨询", "title": "咨询社保", "content": "如何办理社保转移",
             "area_code": GUDONG, "registered_at": "2026-11-05 10:00", "name": "王五", "mobile": "13700000000"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    first = client.post("/api/v1/appeals/work-orders", [order], content_type="application/json", **headers)
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 1
    second = client.post("/api/v1/appeals/work-orders", [dict(order, content="如何办理社保关系转移")],
                         content_type="application/json", **headers)
    assert second.json() == {"created": 0, "updated": 1, "unmapped_codes": [],
                             "numbers": {"WO-1": first.json()["numbers"]["WO-1"]}}
    bad = client.post("/api/v1/appeals/work-orders", [dict(order, work_order_no="WO-2", mobile="1")],
                      content_type="application/json", **headers)
    assert bad.status_code == 422 and bad.json()["errors"][0] == {"row": 1, "column": "联系电话", "message": "手机号码格式错误：应为1开头的11位数字"}
    assert Appeal.objects.count() == 1
    assert client.post("/api/v1/appeals/work-orders", [order], content_type="application/json").status_code == 401


@pytest.mark.parametrize(("sent", "local"), [
    ("2026-11-05T10:00:00+08:00", "2026-11-05 10:00"),
    ("2026-11-05T02:00:00Z", "2026-11-05 10:00"),  # UTC, shown in Asia/Shanghai
    ("2026-11-05T10:00:00.250+08:00", "2026-11-05 10:00"),
    ("2026-11-05 10:00", "2026-11-05 10:00"),
])
def test_push_accepts_iso_8601_times(client, areas, sent, local):
    from django.utils import timezone

    from bianmin.accounts.models import ApiKey

    raw = "k12345_iso_secret_value_that_is_long_enough"
    ApiKey.objects.create(name="12345平台", prefix="k12345", digest=ApiKey.digest_of(raw), area=areas[GULOU],
                          scopes=["appeals.12345"])
    order = {"work_order_no": "WO-ISO", "kind": "咨询", "title": "咨询社保", "content": "如何办理社保转移",
             "area_code": GUDONG, "registered_at": sent, "name": "王五", "mobile": "13700000000"}
    r = client.post("/api/v1/appeals/work-orders", [order], content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200, r.content
    appeal = Appeal.objects.get(work_order_no="WO-ISO")
    assert timezone.localtime(appeal.registered_at).strftime("%Y-%m-%d %H:%M") == local


def test_a_refused_push_speaks_of_the_batch_not_a_file(client, areas):
    from bianmin.accounts.models import ApiKey

    raw = "k12345_bad_secret_value_that_is_long_enough"
    ApiKey.objects.create(name="12345平台", prefix="k12345", digest=ApiKey.digest_of(raw), area=areas[GULOU],
                          scopes=["appeals.12345"])
    order = {"work_order_no": "WO-BAD", "kind": "咨询", "title": "t", "content": "c", "area_code": GUDONG,
             "registered_at": "05/11/2026 上午", "name": "王五", "mobile": "13700000000"}
    r = client.post("/api/v1/appeals/work-orders", [order], content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == "本批工单有 1 处错误，已全部拒绝，请修改后重新推送" and "文件" not in body["message"]
    assert body["errors"] == [{"row": 1, "column": "受理时间",
                               "message": "时间格式应为 YYYY-MM-DD HH:MM 或 ISO 8601（如 2026-03-02T09:30:00+08:00）"}]
    assert not Appeal.objects.exists()


def test_a_one_order_push_stays_small(client, areas, django_assert_max_num_queries):
    """The platform usually pushes orders one at a time: no read of the whole catalog or area tree."""
    from bianmin.accounts.models import ApiKey

    raw = "k12345_small_secret_value_that_is_long_enough"
    ApiKey.objects.create(name="12345平台", prefix="k12345", digest=ApiKey.digest_of(raw), area=areas[GULOU],
                          scopes=["appeals.12345"])
    order = {"work_order_no": "WO-S1", "kind": "投诉", "title": "t", "content": "c", "area_code": GUDONG,
             "registered_at": "2026-11-05 10:00", "name": "王五", "mobile": "13700000000", "category_code": "X1"}
    with django_assert_max_num_queries(30):
        response = client.post("/api/v1/appeals/work-orders", [order], content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200 and response.json()["unmapped_codes"] == ["X1"]


def test_a_12345_rewrite_after_the_owner_acted_is_audited(client, areas, make_user):
    """A 12345 key rewrote FZ12345202600041 ("窗口工作人员态度生硬") into a suggestion with a new
    complainant without a trace: after the owner acted, such a change is still taken (12345 is
    the record) but leaves an audit row and a timeline entry that say what it changed."""
    from bianmin.accounts.models import ApiKey
    from bianmin.accounts.principals import principal_for_user
    from bianmin.appeals import services
    from bianmin.core.models import AuditEntry

    raw = "k12345_guard_secret_value_that_is_long_enough"
    ApiKey.objects.create(name="12345平台", prefix="k12345", digest=ApiKey.digest_of(raw), area=areas[GULOU],
                          scopes=["appeals.12345"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    order = {"work_order_no": "FZ12345202600041", "kind": "投诉", "title": "态度", "content": "窗口工作人员态度生硬",
             "area_code": GUDONG, "registered_at": "2026-11-05 10:00", "name": "王五", "mobile": "13700000000"}
    assert client.post("/api/v1/appeals/work-orders", [order], content_type="application/json", **headers).status_code == 200
    appeal = Appeal.objects.get()
    # Before anyone acted: an ordinary update, no audit row of its own.
    client.post("/api/v1/appeals/work-orders", [dict(order, content="窗口工作人员态度生硬，排队久")],
                content_type="application/json", **headers)
    assert not AuditEntry.objects.filter(target_type="appeals.appeal", changes__after_owner_acted=True).exists()
    owner = make_user("center_manager", GUDONG)
    services.appeal_assign(actor=principal_for_user(owner), appeal=appeal, owner=owner)
    rewrite = dict(order, kind="建议", content="建议增加窗口", name="赵六", mobile="13700009999")
    r = client.post("/api/v1/appeals/work-orders", [rewrite], content_type="application/json", **headers)
    assert r.status_code == 200 and r.json()["updated"] == 1
    appeal.refresh_from_db()
    assert (appeal.kind, appeal.content) == ("suggestion", "建议增加窗口")
    row = AuditEntry.objects.get(target_type="appeals.appeal", target_id=str(appeal.pk), changes__after_owner_acted=True)
    assert row.action == "update" and row.area_code == GUDONG and row.actor_label == "key:12345平台"
    assert row.changes["kind"] == ["complaint", "suggestion"]
    assert row.changes["content_before"] == "窗口工作人员态度生硬，排队久"
    assert set(row.changes["fields"]) == {"kind", "content", "name", "mobile"}
    assert "13700009999" not in str(row.changes) and row.changes["mobile"] == ["137****0000", "137****9999"]
    event = AppealEvent.objects.filter(appeal=appeal, kind="updated").latest("id")
    assert event.text == "12345平台在办理开始后修改了诉求类型（投诉→建议）、诉求人、诉求内容"
