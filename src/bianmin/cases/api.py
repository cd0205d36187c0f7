"""办件 API: the staff workbench's endpoints (session) and the intake API for outside systems
(API key with scope ``cases.intake``). Thin: parse, call a service or selector, shape the answer.
Personal data is masked in every answer."""

from datetime import date

from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from bianmin.accounts.auth import key_auth, staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.catalog.models import Item
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.scoping import require
from bianmin.core.uploads import read_upload
from bianmin.regions.models import ServiceSite, Window

from . import selectors, services
from .deadlines import case_clock
from .models import Case, State
from .services import Applicant
from .workflow import case_actions

router = Router(tags=["办件"])


# --- schemas ---------------------------------------------------------------------------------


class ApplicantIn(Schema):
    applicant_kind: str = Field("person", description="person 自然人 / enterprise 法人（企业）")
    applicant_name: str = Field(..., max_length=100, description="姓名或企业名称")
    id_number: str = Field("", description="自然人：身份证号码（18位，末位可为X）")
    credit_code: str = Field("", description="企业：统一社会信用代码（18位）")
    contact_name: str = Field("", max_length=50, description="企业：联系人")
    mobile: str = Field(..., description="手机号码（11位）")

    def to_applicant(self) -> Applicant:
        return Applicant(kind=self.applicant_kind, name=self.applicant_name, mobile=self.mobile,
                         id_number=self.id_number, credit_code=self.credit_code, contact_name=self.contact_name)


class CaseCreateIn(ApplicantIn):
    site_id: int | None = Field(None, description="受理场所 id；与 site_code 二选一")
    site_code: str | None = Field(None, min_length=1, max_length=32,
                                  description="受理场所编码（外部受理系统无法查询场所 id 时使用）；与 site_id 二选一")
    item_id: int
    window_id: int | None = None
    summary: str = Field("", max_length=300)


class IntakeIn(ApplicantIn):
    site_code: str = Field(..., description="受理场所编码")
    item_code: str = Field(..., description="标准化事项编码")
    summary: str = Field("", max_length=300, description="申请内容摘要")


class ReasonIn(Schema):
    reason: str = Field("", max_length=1000)


class CorrectionIn(Schema):
    materials: list[str] = Field(..., description="需补正的材料名称")
    note: str = Field("", max_length=300)


class CompleteIn(Schema):
    result: str = Field(..., description="approved 准予 / denied 不予批准")
    reason: str = Field("", max_length=1000, description="不予批准时必填")


class TransferIn(Schema):
    note: str = Field("", max_length=300)


class VisitIn(Schema):
    purpose: str = Field("", max_length=100)


class ApplicantOut(Schema):
    kind: str
    name: str
    id_number: str
    credit_code: str
    contact_name: str
    mobile: str


class CaseOut(Schema):
    id: int
    acceptance_number: str | None
    external_id: str
    state: str
    state_label: str
    item_code: str
    item_name: str
    site_code: str
    site_name: str
    received_site_code: str
    mode: str
    channel: str
    applicant: ApplicantOut
    submitted_at: str
    accepted_on: date | None
    promised_due_on: date | None
    legal_due_on: date | None
    suspended_days: int = Field(description="补正暂停的工作日数（正在补正时含至今日的天数）")
    deadline_status: str
    deadline_estimated: bool = Field(description="法定办结日所在年度的节假日安排尚为预估，期限可能调整")
    deadline_label: str
    completed_on: date | None
    result: str
    reason: str
    visit_count: int
    multi_trip: bool


class EventOut(Schema):
    type: str
    label: str
    at: str
    actor: str
    data: dict


class CaseMaterialOut(Schema):
    id: int
    name: str
    required: bool
    trust_level: str
    received: bool
    file_name: str
    sha256: str


class CaseDetailOut(CaseOut):
    actions: list[str]
    materials: list[CaseMaterialOut]
    events: list[EventOut]


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CaseOut]


def case_out(case: Case, *, today: date | None = None) -> dict:
    clock = case_clock(case, today=today or timezone.localdate())
    return {
        "id": case.pk, "acceptance_number": case.acceptance_number, "external_id": case.external_id,
        "state": case.state, "state_label": str(case.get_state_display()),
        "item_code": case.item.standard_item.code, "item_name": case.item.standard_item.name,
        "site_code": case.site.code, "site_name": case.site.name, "received_site_code": case.received_site.code,
        "mode": case.mode, "channel": case.channel, "applicant": selectors.masked_applicant(case),
        "submitted_at": timezone.localtime(case.submitted_at).isoformat(), "accepted_on": case.accepted_on,
        "promised_due_on": clock.promised_due_on, "legal_due_on": clock.legal_due_on,
        "suspended_days": clock.paused_days, "deadline_status": clock.status, "deadline_label": clock.label,
        "deadline_estimated": clock.estimated,
        "completed_on": case.completed_on, "result": case.result, "reason": case.reason,
        "visit_count": case.visit_count, "multi_trip": case.multi_trip,
    }


def case_detail_out(case: Case) -> dict:
    data = case_out(case)
    data["actions"] = case_actions(case)
    data["materials"] = [
        {"id": m.pk, "name": m.name, "required": m.required, "trust_level": m.trust_level, "received": m.received,
         "file_name": m.file_name, "sha256": m.file.sha256 if m.file_id else ""}
        for m in case.materials.select_related("file")
    ]
    data["events"] = [
        {"type": e.type, "label": str(e.get_type_display()), "at": timezone.localtime(e.at).isoformat(),
         "actor": e.actor_shown, "data": e.data}
        for e in case.events.select_related("actor")
    ]
    return data


def _detail(request, case_id: int) -> dict:
    return case_detail_out(selectors.case_get(principal=principal_of(request), case_id=case_id))


# --- staff endpoints -------------------------------------------------------------------------


@router.get("/cases", response=CasePage, auth=staff_auth, summary="办件队列（按时限排序，可筛选）")
def list_cases(request, state: str | None = None, deadline: str | None = None, item_id: int | None = None,
               window_id: int | None = None, mine: bool = False, q: str | None = None, page: int = 1,
               page_size: int = 50):
    if state and state not in State.values:
        raise Invalid("状态取值无效", field="state")
    if deadline and deadline not in selectors.DEADLINE_FILTERS:
        raise Invalid("时限筛选取值无效", field="deadline")
    page = max(page, 1)
    page_size = min(max(page_size, 1), 200)
    qs = selectors.cases_queue(principal=principal_of(request), state=state, deadline=deadline, item_id=item_id,
                               window_id=window_id, mine=mine, q=q)
    qs = qs.select_related("received_site")
    count = qs.count()
    rows = qs[(page - 1) * page_size: page * page_size]
    today = timezone.localdate()
    return {"count": count, "page": page, "page_size": page_size, "items": [case_out(c, today=today) for c in rows]}


@router.post("/cases", response={201: CaseDetailOut}, auth=staff_auth, summary="窗口收件（新建办件）")
def create_case(request, payload: CaseCreateIn):
    principal = principal_of(request)
    if (payload.site_id is None) == (payload.site_code is None):
        raise Invalid("请提供受理场所：site_id 或 site_code（二选一）", field="site_id")
    field = "site_id" if payload.site_id is not None else "site_code"
    by = {"pk": payload.site_id} if payload.site_id is not None else {"code": payload.site_code.strip()}
    site = ServiceSite.objects.select_related("area").filter(**by).first()
    if site is None:
        raise NotFound("未找到该服务场所", field=field)
    require(principal, Cap.CASE_HANDLE, site.area, not_found="未找到该服务场所", field=field)
    item = Item.objects.select_related("standard_item", "window").filter(pk=payload.item_id).first()
    if item is None:
        raise Invalid("事项不存在", field="item_id")
    _check_item(item, site, "item_id")
    window = None
    if payload.window_id:
        window = Window.objects.filter(pk=payload.window_id).first()
        if window is None:
            raise Invalid("窗口不存在", field="window_id")
    case = services.case_submit(actor=principal, site=site, item=item, applicant=payload.to_applicant(),
                                window=window, summary=payload.summary)
    return Status(201, _detail(request, case.pk))


@router.get("/cases/multi-trip", response=list[CaseOut], auth=staff_auth, summary="跑多趟办件（回访用）")
def cases_multi_trip_list(request, since: date, until: date):
    qs = selectors.cases_multi_trip(since, until, principal_of(request)).select_related("received_site")[:1000]
    return [case_out(c) for c in qs]


@router.get("/cases/{case_id}", response=CaseDetailOut, auth=staff_auth, summary="办件详情")
def get_case(request, case_id: int):
    return _detail(request, case_id)


@router.post("/cases/{case_id}/accept", response=CaseDetailOut, auth=staff_auth, summary="受理")
def case_accept(request, case_id: int):
    services.case_accept(actor=principal_of(request), case_id=case_id)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/reject", response=CaseDetailOut, auth=staff_auth, summary="不予受理")
def case_reject(request, case_id: int, payload: ReasonIn):
    services.case_reject(actor=principal_of(request), case_id=case_id, reason=payload.reason)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/correction", response=CaseDetailOut, auth=staff_auth, summary="一次性告知补正（暂停计时）")
def case_request_correction(request, case_id: int, payload: CorrectionIn):
    services.case_request_correction(actor=principal_of(request), case_id=case_id, materials=payload.materials,
                                     note=payload.note)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/correction/received", response=CaseDetailOut, auth=staff_auth,
             summary="补正材料收齐（恢复计时）")
def case_receive_correction(request, case_id: int):
    services.case_receive_correction(actor=principal_of(request), case_id=case_id)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/start", response=CaseDetailOut, auth=staff_auth, summary="开始办理")
def case_start(request, case_id: int):
    services.case_start(actor=principal_of(request), case_id=case_id)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/complete", response=CaseDetailOut, auth=staff_auth, summary="办结（准予或不予批准）")
def case_complete(request, case_id: int, payload: CompleteIn):
    services.case_complete(actor=principal_of(request), case_id=case_id, result=payload.result, reason=payload.reason)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/withdraw", response=CaseDetailOut, auth=staff_auth, summary="撤回申请")
def case_withdraw(request, case_id: int, payload: ReasonIn):
    services.case_withdraw(actor=principal_of(request), case_id=case_id, reason=payload.reason)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/transfer", response=CaseDetailOut, auth=staff_auth, summary="业务转办至上级场所")
def case_transfer(request, case_id: int, payload: TransferIn):
    services.case_transfer(actor=principal_of(request), case_id=case_id, note=payload.note)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/visits", response={201: CaseDetailOut}, auth=staff_auth, summary="登记一次跑动")
def case_record_visit(request, case_id: int, payload: VisitIn):
    services.case_visit_record(actor=principal_of(request), case_id=case_id, purpose=payload.purpose)
    return Status(201, _detail(request, case_id))


@router.post("/cases/{case_id}/materials/{material_id}", response=CaseDetailOut, auth=staff_auth,
             summary="收取材料（可上传 PDF/JPG/PNG/OFD 文件）")
def case_attach_material(request, case_id: int, material_id: int, file: UploadedFile | None = File(None)):  # noqa: B008 (ninja declares parameters this way)
    data = None
    name = ""
    if file is not None:
        name, data = read_upload(file, field="file")
    services.case_material_attach(actor=principal_of(request), case_id=case_id, material_id=material_id, data=data,
                                  file_name=name)
    return _detail(request, case_id)


@router.get("/cases/{case_id}/dossier.pdf", auth=staff_auth, summary="业务卷宗（PDF）",
            openapi_extra={"responses": {200: {"description": "PDF", "content": {"application/pdf": {}}}}})
def case_dossier(request, case_id: int):
    principal = principal_of(request)
    case = selectors.case_get(principal=principal, case_id=case_id)
    data = services.case_dossiers_export(actor=principal, cases=[case], as_zip=False)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"业务卷宗-{case.acceptance_number or case.pk}.pdf")
    return response


# --- intake API for outside systems ----------------------------------------------------------


def _intake_target(request, payload: IntakeIn) -> tuple[ServiceSite, Item]:
    principal = principal_of(request)
    site = ServiceSite.objects.select_related("area").filter(code=payload.site_code.strip()).first()
    if site is None:
        raise NotFound("未找到该服务场所", field="site_code")
    require(principal, Cap.CASE_INTAKE, site.area, not_found="未找到该服务场所", field="site_code")
    item = (Item.objects.select_related("standard_item", "window")
            .filter(standard_item__code=payload.item_code.strip())
            .filter(Q(site=site) | Q(site__isnull=True, area=site.area))
            .order_by("site_id").first())
    if item is None:
        from bianmin.catalog.models import StandardItem

        standard = StandardItem.objects.filter(code=payload.item_code.strip()).first()
        if standard is not None and standard.is_classified:
            raise Invalid("涉密事项不通过平台办理", field="item_code")
        raise Invalid(f"“{site.name}”未提供该事项", field="item_code")
    _check_item(item, site, "item_code")
    return site, item


def _check_item(item: Item, site: ServiceSite, field: str) -> None:
    """The service's check, reported under the name the caller sent the item by."""
    try:
        services.check_item_for_site(item, site)
    except Invalid as exc:
        raise Invalid(exc.message, field=field) from None


@router.put("/intake/cases/{external_id}", response=CaseOut, auth=key_auth, tags=["办件接入"],
            summary="按外部编号新建或更新办件（幂等）",
            description="省网上办事大厅等外部系统推送申请。同一外部编号重复推送相同内容：只有一件办件，返回相同结果；"
                        "内容变化且办件尚未受理时更新申请人信息；已受理后再修改返回409。密钥须有 cases.intake 权限，"
                        "且仅限其授权的场所。外部编号属于密钥所代表的外部系统和密钥的授权区划：在该范围内唯一，"
                        "其他区划的同号办件互不可见。")
def case_intake_put(request, external_id: str, payload: IntakeIn):
    site, item = _intake_target(request, payload)
    case, _created = services.case_intake_external(
        actor=principal_of(request), external_id=external_id, site=site, item=item,
        applicant=payload.to_applicant(), summary=payload.summary, payload=payload.dict())
    case = Case.objects.select_related("item__standard_item", "site", "received_site").get(pk=case.pk)
    return case_out(case)


def _external(request, external_id: str) -> Case:
    principal = principal_of(request)
    case = selectors.external_case_get(principal, external_id)
    if case is None or not principal.can(Cap.CASE_INTAKE, case.received_site.area):
        raise NotFound("未找到该办件", field="external_id")
    return case


@router.get("/intake/cases/{external_id}", response=CaseOut, auth=key_auth, tags=["办件接入"], summary="按外部编号查询办件")
def case_intake_get(request, external_id: str):
    return case_out(_external(request, external_id))


@router.post("/intake/cases/{external_id}/withdraw", response=CaseOut, auth=key_auth, tags=["办件接入"],
             summary="申请人撤回（外部系统）")
def case_intake_withdraw(request, external_id: str, payload: ReasonIn):
    services.case_withdraw_external(actor=principal_of(request), external_id=external_id, reason=payload.reason)
    return case_out(_external(request, external_id))
