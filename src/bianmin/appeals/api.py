"""Appeals API: 12345 work-order intake for the hotline platform (API key with scope
``appeals.12345``), and staff reads and steps (session or key)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Router, Schema

from bianmin.accounts.auth import key_auth, staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.paging import window
from bianmin.core.scoping import require

from . import importer, selectors, services

router = Router(tags=["诉求"])

MAX_BATCH = 1000


class WorkOrderIn(Schema):
    work_order_no: str
    kind: str
    title: str
    content: str
    area_code: str
    registered_at: str
    category_code: str = ""
    name: str = ""
    mobile: str = ""
    id_number: str = ""
    enterprise_name: str = ""
    credit_code: str = ""
    address: str = ""


class WorkOrderBatchOut(Schema):
    created: int
    updated: int
    unmapped_codes: list[str]
    numbers: dict[str, str]


@router.post("/appeals/work-orders", auth=key_auth, response=WorkOrderBatchOut, summary="12345工单推送（按工单编号幂等）")
def work_orders_push(request, payload: list[WorkOrderIn]):
    """A batch of up to 1,000 work orders. A work-order number seen before updates its appeal;
    one bad order refuses the batch with every error (row = position from 1, column)."""
    principal = principal_of(request)
    area = request.api_key.site.area if request.api_key.site_id else request.api_key.area
    require(principal, Cap.APPEAL_INTAKE, area)
    if not payload:
        raise Invalid("工单列表为空")
    if len(payload) > MAX_BATCH:
        raise Invalid(f"每批最多 {MAX_BATCH} 条工单，请分批推送")
    records = [p.dict() for p in payload]
    known = importer.Validator(area, codes=[r["area_code"] for r in records]).areas
    for n, r in enumerate(records, start=1):
        code = r["area_code"].strip()
        if code.isdigit() and len(code) in (6, 9, 12) and code.ljust(12, "0") not in known:
            # Outside the key's area: reported as not found, like any record out of scope.
            raise NotFound(f"第{n}条：区划代码“{code}”不存在或不在授权范围内", field="area_code")
    cleaned = importer.validate_records(records, area)
    created, updated, unmapped = importer.upsert(cleaned, actor=principal)
    from .models import Appeal

    numbers = dict(Appeal.objects.filter(work_order_no__in=[c.work_order_no for c in cleaned])
                   .values_list("work_order_no", "number"))
    return {"created": created, "updated": updated, "unmapped_codes": sorted(unmapped), "numbers": numbers}


class AppealOut(Schema):
    number: str
    work_order_no: str | None
    kind: str
    kind_label: str
    channel: str
    status: str
    status_label: str
    title: str
    area_code: str
    area_name: str
    owner: str | None
    name: str
    mobile: str
    registered_at: dt.datetime
    due_date: dt.date
    overdue: bool
    escalated_to: str | None
    reply: str
    topic_code: str | None = Field(None, description="诉求分类（二级）代码")
    topic_name: str | None
    topic_by: str = Field(description="rule（规则分类）、staff（人工更正）或空")


def _out(appeal) -> dict:
    party = selectors.masked_party(appeal)
    return {
        "number": appeal.number, "work_order_no": appeal.work_order_no, "kind": appeal.kind,
        "kind_label": appeal.get_kind_display(), "channel": appeal.channel, "status": appeal.status,
        "status_label": appeal.get_status_display(), "title": appeal.title, "area_code": appeal.area.code,
        "area_name": appeal.area.name, "owner": str(appeal.owner) if appeal.owner_id else None,
        "name": party["name"], "mobile": party["mobile"], "registered_at": appeal.registered_at,
        "due_date": appeal.due_date, "overdue": appeal.is_overdue,
        "escalated_to": appeal.escalated_to.name if appeal.escalated_to_id else None, "reply": appeal.reply,
        "topic_code": appeal.topic.code if appeal.topic_id else None,
        "topic_name": appeal.topic.name if appeal.topic_id else None, "topic_by": appeal.topic_by,
    }


class TopicClassOut(Schema):
    code: str
    name: str
    keywords: list[str]


class TopicGroupOut(Schema):
    code: str
    name: str
    classes: list[TopicClassOut]


@router.get("/appeals/topic-classes", auth=staff_auth, response=list[TopicGroupOut], summary="诉求内容分类（两级）")
def appeal_topic_classes(request):
    return [{"code": g.code, "name": g.name,
             "classes": [{"code": c.code, "name": c.name, "keywords": [w for w, _n in c.keywords]} for c in g.children.all()]}
            for g in selectors.topic_classes()]


class TrendOut(Schema):
    code: str
    name: str
    counts: list[int]
    total: int


class TrendsOut(Schema):
    area_code: str
    unit: str
    periods: list[dt.date] = Field(description="各统计周期的起始日（共12期，从早到晚）")
    classes: list[TrendOut]


@router.get("/appeals/class-trends", auth=staff_auth, response=TrendsOut, summary="诉求分类趋势（12期）")
def appeal_class_trends(request, area_code: str, end: dt.date | None = None, unit: str = "month", level: int = 2):
    from bianmin.regions.selectors import area_get

    area = area_get(code=area_code)
    periods, trends = selectors.appeal_class_trends(principal_of(request), area=area, end=end or timezone.localdate(),
                                                    unit=unit, level=level, limit=50)
    return {"area_code": area.code, "unit": unit, "periods": [p[0] for p in periods],
            "classes": [{"code": t.key, "name": t.label, "counts": t.counts, "total": t.total} for t in trends]}


@router.get("/appeals", auth=staff_auth, response=list[AppealOut], summary="诉求列表（本辖区）")
def appeals_list(request, status: str = "", overdue: bool = False, escalated: bool = False, mine: bool = False,
                 limit: int = 50, offset: int = 0):
    principal = principal_of(request)
    qs = selectors.appeal_list(principal, status=status or None, overdue=overdue, escalated=escalated,
                               owner=request.user if mine else None)
    limit, offset = window(limit, offset)
    return [_out(a) for a in qs[offset:offset + limit]]


@router.get("/appeals/{number}", auth=staff_auth, response=AppealOut, summary="诉求详情")
def appeal_detail(request, number: str):
    return _out(selectors.appeal_get(principal_of(request), number=number))


class TextIn(Schema):
    text: str


class AppealFollowUpIn(Schema):
    satisfaction: str
    resolved: bool
    text: str = ""


class TopicIn(Schema):
    code: str = Field(description="二级分类代码，如 0103")
    note: str = ""


@router.post("/appeals/{number}/topic", auth=staff_auth, response=AppealOut, summary="更正诉求分类")
def appeal_topic_set(request, number: str, payload: TopicIn):
    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    services.appeal_topic_set(actor=principal, appeal=appeal, code=payload.code, note=payload.note)
    return _out(selectors.appeal_get(principal, number=number))


class AssignIn(Schema):
    owner: str
    note: str = ""


@router.post("/appeals/{number}/assign", auth=staff_auth, response=AppealOut, summary="分派专人负责")
def appeal_assign(request, number: str, payload: AssignIn):
    from bianmin.accounts.models import User

    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    owner = User.objects.filter(username=payload.owner, is_active=True).first()
    if owner is None:
        raise Invalid("负责人不存在", field="owner")
    return _out(services.appeal_assign(actor=principal, appeal=appeal, owner=owner, note=payload.note))


@router.post("/appeals/{number}/contact", auth=staff_auth, response=AppealOut, summary="记录事前电话沟通")
def appeal_contact(request, number: str, payload: TextIn):
    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    return _out(services.appeal_log_contact(actor=principal, appeal=appeal, text=payload.text))


@router.post("/appeals/{number}/notes", auth=staff_auth, response=AppealOut, summary="添加协调记录")
def appeal_note(request, number: str, payload: TextIn):
    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    return _out(services.appeal_add_note(actor=principal, appeal=appeal, text=payload.text))


@router.post("/appeals/{number}/reply", auth=staff_auth, response=AppealOut, summary="答复")
def appeal_reply(request, number: str, payload: TextIn):
    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    return _out(services.appeal_reply(actor=principal, appeal=appeal, reply=payload.text))


@router.post("/appeals/{number}/follow-up", auth=staff_auth, response=AppealOut, summary="回访（满意度）")
def appeal_follow_up(request, number: str, payload: AppealFollowUpIn):
    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    return _out(services.appeal_follow_up(actor=principal, appeal=appeal, satisfaction=payload.satisfaction,
                                          resolved=payload.resolved, text=payload.text))


@router.post("/appeals/{number}/close", auth=staff_auth, response=AppealOut, summary="办结")
def appeal_close(request, number: str):
    principal = principal_of(request)
    appeal = selectors.appeal_get(principal, number=number)
    return _out(services.appeal_close(actor=principal, appeal=appeal))


class ImportJobOut(Schema):
    id: int
    status: str
    status_label: str
    total: int
    processed: int
    percent: int
    created_count: int
    updated_count: int
    errors: list[dict]
    unmapped_codes: list[dict]


@router.get("/appeals/import-jobs/{job_id}", auth=staff_auth, response=ImportJobOut, summary="12345导入进度",
            url_name="appeal_import_job")
def import_job(request, job_id: int):
    if not 0 < job_id < 2**62:  # beyond any id; SQLite cannot even compare it
        raise NotFound("未找到该导入任务")
    job = selectors.import_job_get(principal_of(request), job_id=job_id)
    return {"id": job.pk, "status": job.status, "status_label": job.get_status_display(), "total": job.total,
            "processed": job.processed, "percent": job.percent, "created_count": job.created_count,
            "updated_count": job.updated_count, "errors": job.errors[:200], "unmapped_codes": job.unmapped_codes}
