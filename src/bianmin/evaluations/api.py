"""好差评 API: one submission rule, several doors.

- ``POST /evaluations/link/{token}``  web/QR/SMS link (no log-in; a staff session is refused)
- ``POST /evaluations/device``        window evaluator device (key scope evaluations.device, bound to a window)
- ``POST /evaluations/kiosk``         self-service kiosk (key scope evaluations.kiosk; acceptance number + last 4 of the phone)
- ``POST /evaluations/provincial``    evaluations made on provincial channels (key scope evaluations.provincial; idempotent on external_id)
- ``POST /evaluations/record``        staff recording a paper or phone evaluation (marked as such)
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from bianmin.accounts.auth import key_auth, staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Forbidden, Invalid, documented
from bianmin.core.masking import mask_name
from bianmin.core.paging import Mapped

from . import selectors, services
from .models import Channel, Evaluation, Grade

router = Router(tags=["好差评"])


class EvaluationIn(Schema):
    grade: int = Field(..., ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    aspects: dict[str, int] = Field(default_factory=dict, description="分项评价，如 {\"attitude\": 5}")
    reasons: list[str] = Field(default_factory=list, description="差评原因编码（差评必填，见 /evaluations/reasons）")
    text: str = Field("", description="评价内容（不超过 500 字）")
    idempotency_key: str | None = Field(None, max_length=100, description="客户端生成的幂等键：重复提交只保存一次")
    kind: Literal["first", "additional"] | None = Field(None, description="first 评价；additional 追评；省略则自动判断")


class DeviceIn(EvaluationIn):
    acceptance_number: str = Field(..., max_length=64)


class KioskIn(EvaluationIn):
    acceptance_number: str = Field(..., max_length=64)
    mobile_last4: str = Field(..., min_length=4, max_length=4, pattern=r"^\d{4}$")


class ProvincialIn(EvaluationIn):
    external_id: str = Field(..., min_length=1, max_length=100, description="省级评价编号")
    acceptance_number: str = Field(..., max_length=64)
    source: Literal["prov_app", "prov_hall"] = Field(..., description="prov_app 闽政通；prov_hall 省网上办事大厅")
    evaluated_at: datetime | None = None


class RecordIn(EvaluationIn):
    case_id: int
    channel: Literal["paper", "phone"]


class EvaluationOut(Schema):
    id: int
    case_id: int
    acceptance_number: str | None
    kind: str
    grade: int
    grade_label: str
    aspect_set: str
    aspects: dict
    reasons: list[str]
    channel: str
    channel_label: str
    is_default: bool
    evaluated_at: datetime
    flagged: bool
    replayed: bool = False


class EvaluationStaffOut(EvaluationOut):
    text: str
    site: str
    window: str | None
    item: str | None
    applicant: str
    flag: str
    excluded: bool


class ReasonOut(Schema):
    code: str
    label: str


class ReportStatusOut(Schema):
    sent: int
    pending: int
    failed: int


class LinkOut(Schema):
    url: str
    expires_at: datetime
    used: bool
    qr_svg: str
    qr_png: str


def _out(e: Evaluation, *, replayed: bool = False, case=None) -> dict:
    case = case or e.case
    return {
        "id": e.pk, "case_id": e.case_id, "acceptance_number": case.acceptance_number, "kind": e.kind,
        "grade": e.grade, "grade_label": str(Grade(e.grade).label), "aspect_set": e.aspect_set, "aspects": e.aspects,
        "reasons": e.reasons, "channel": e.channel, "channel_label": str(Channel(e.channel).label),
        "is_default": e.is_default, "evaluated_at": e.evaluated_at, "flagged": bool(e.flag), "replayed": replayed,
    }


def _answer(submission: services.Submission):
    status = 201 if submission.created else 200
    return Status(status, _out(submission.evaluation, replayed=not submission.created))


def _fields(payload: EvaluationIn) -> dict:
    return {"grade": payload.grade, "aspects": payload.aspects, "reasons": payload.reasons, "text": payload.text,
            "idempotency_key": payload.idempotency_key, "kind": payload.kind}


@router.get("/evaluations/reasons", response=list[ReasonOut], summary="差评原因（可选项）", auth=None)
def evaluation_reasons(request: HttpRequest):
    return list(selectors.reasons_active())


@router.post("/evaluations/link/{token}", response={200: EvaluationOut, 201: EvaluationOut},
             openapi_extra=documented(429), summary="通过评价链接评价或追评（扫码、短信、网上）", auth=None,
             description="kind 省略或为 first：评价（链接使用一次）；kind 为 additional：追评，"
                         "首次评价后在追评期内通过同一链接追评一次。")
def submit_by_link(request: HttpRequest, token: str, payload: EvaluationIn, via: Literal["qr", "sms", "web"] = "web"):
    return _answer(services.evaluation_submit_by_link(token=token, actor=principal_of(request), via=via,
                                                      **_fields(payload)))


def _key_principal(request: HttpRequest, capability: str, message: str):
    actor = principal_of(request)
    if not any(capability in g.capabilities for g in actor.grants):
        raise Forbidden(message)
    return actor


@router.post("/evaluations/device", response={200: EvaluationOut, 201: EvaluationOut}, auth=key_auth,
             summary="窗口评价器评价（设备密钥，仅限绑定窗口的办件）", openapi_extra=documented(429))
def submit_by_device(request: HttpRequest, payload: DeviceIn):
    actor = _key_principal(request, Cap.EVALUATION_DEVICE, "该密钥不是评价器密钥")
    key = request.api_key
    if key.window_id is None:
        raise Forbidden("该评价器未绑定窗口")

    # The scope rule like every key: another area's case is as unknown as a missing one (404).
    case = selectors.case_by_acceptance_number(actor=actor, capability=Cap.EVALUATION_DEVICE,
                                               acceptance_number=payload.acceptance_number)
    return _answer(services.evaluation_submit(case_id=case.pk, case=case, channel=Channel.DEVICE, actor=actor,
                                              device_key=key, window_id=key.window_id, **_fields(payload)))


@router.post("/evaluations/kiosk", response={200: EvaluationOut, 201: EvaluationOut}, auth=key_auth,
             summary="自助终端评价（受理编号 + 手机号后四位）", openapi_extra=documented(429))
def submit_by_kiosk(request: HttpRequest, payload: KioskIn):
    actor = _key_principal(request, Cap.EVALUATION_KIOSK, "该密钥不是自助终端密钥")
    return _answer(services.evaluation_submit_by_kiosk(actor=actor, acceptance_number=payload.acceptance_number,
                                                       mobile_last4=payload.mobile_last4, **_fields(payload)))


@router.post("/evaluations/provincial", response={200: EvaluationOut, 201: EvaluationOut}, auth=key_auth,
             summary="接收省级渠道评价（闽政通、省网上办事大厅；按省级评价编号幂等）")
def submit_provincial(request: HttpRequest, payload: ProvincialIn):
    actor = _key_principal(request, Cap.EVALUATION_PROVINCIAL, "该密钥无省级评价接入权限")
    case = selectors.case_by_acceptance_number(actor=actor, capability=Cap.EVALUATION_PROVINCIAL,
                                               acceptance_number=payload.acceptance_number)
    fields = _fields(payload)
    fields["idempotency_key"] = None
    return _answer(services.evaluation_submit(case_id=case.pk, case=case, channel=payload.source, actor=actor,
                                              external_id=payload.external_id, evaluated_at=payload.evaluated_at,
                                              **fields))


@router.post("/evaluations/record", response={200: EvaluationOut, 201: EvaluationOut}, auth=staff_auth,
             summary="工作人员录入纸质、电话评价")
def evaluation_record(request: HttpRequest, payload: RecordIn):
    actor = principal_of(request)
    case = selectors.case_for_staff(actor=actor, case_id=payload.case_id, capability=Cap.EVALUATION_RECORD)
    return _answer(services.evaluation_submit(case_id=case.pk, channel=payload.channel, actor=actor, **_fields(payload)))


def _staff_out(e: Evaluation) -> dict:
    data = _out(e)
    data.update({
        "text": e.text, "site": e.site.name, "window": str(e.window.number) if e.window_id else None,
        "item": e.item.standard_item.name if e.item_id else None, "applicant": mask_name(e.case.applicant_name),
        "flag": e.flag, "excluded": e.excluded,
    })
    return data


_Mapped = Mapped  # core.paging


@router.get("/evaluations", response=list[EvaluationStaffOut], auth=staff_auth, summary="评价列表（本辖区）")
@paginate(LimitOffsetPagination)
def list_evaluations(request: HttpRequest, grade: int | None = None, channel: str | None = None,
                     bad_only: bool = False, flagged: bool | None = None):
    if grade is not None and not 1 <= grade <= 5:
        raise Invalid("评价等级应为 1 至 5", field="grade")
    qs = selectors.evaluation_list(actor=principal_of(request), grade=grade, channel=channel,
                                   bad_only=bad_only, flagged=flagged)
    return _Mapped(qs, _staff_out)


@router.get("/evaluations/reports/status", response=ReportStatusOut, auth=staff_auth, summary="省级上报状态统计")
def evaluation_reports_status(request: HttpRequest):
    return selectors.report_status(actor=principal_of(request))


@router.get("/evaluations/{int:evaluation_id}", response=EvaluationStaffOut, auth=staff_auth, summary="评价详情")
def get_evaluation(request: HttpRequest, evaluation_id: int):
    return _staff_out(selectors.evaluation_get(actor=principal_of(request), evaluation_id=evaluation_id))


@router.post("/evaluations/cases/{int:case_id}/link", response=LinkOut, auth=staff_auth,
             summary="办件评价链接与二维码（办结单、窗口屏）")
def evaluation_case_link(request: HttpRequest, case_id: int):
    from django.urls import reverse

    case = selectors.case_for_staff(actor=principal_of(request), case_id=case_id, capability=Cap.CASE_HANDLE)
    if case.state != "completed":
        from bianmin.core.errors import Conflict

        raise Conflict("办件尚未办结，暂不能生成评价链接")
    link = services.evaluation_link_issue(case=case, send_sms=False)
    return {"url": services.link_url(link), "expires_at": link.expires_at, "used": link.used_at is not None,
            "qr_svg": reverse("evaluations:case-qr-svg", args=[case.pk]),
            "qr_png": reverse("evaluations:case-qr-png", args=[case.pk])}
