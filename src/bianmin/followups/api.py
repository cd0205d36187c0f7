"""回访与整改 API (staff session): bad-review handling, the daily list and its results, the
rectification ledger, rates; and the public questionnaire answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from bianmin.accounts.auth import staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.masking import mask_mobile, mask_name

from . import selectors, services

router = Router(tags=["回访与整改"])


class HandlingOut(Schema):
    id: int
    evaluation_id: int
    case_id: int
    acceptance_number: str | None
    site: str
    grade: int
    status: str
    status_label: str
    verdict: str
    due: date | None
    flag: str
    rectification_id: int | None
    followed_up: bool
    appeal_decision: str


def _handling(h) -> dict:
    return {
        "id": h.pk, "evaluation_id": h.evaluation_id, "case_id": h.case_id,
        "acceptance_number": h.case.acceptance_number, "site": h.site.name, "grade": h.evaluation.grade,
        "status": h.status, "status_label": str(h.get_status_display()), "verdict": h.verdict,
        "due": selectors.stage_due(h), "flag": selectors.due_flag(h), "rectification_id": h.rectification_id,
        "followed_up": h.followed_up_at is not None, "appeal_decision": h.appeal_decision,
    }


class VerifyIn(Schema):
    verdict: Literal["confirmed", "no_basis", "mistaken"]
    verification: str = Field(..., max_length=2000)
    explanation: str = Field("", max_length=2000)
    problem: str = Field("", max_length=2000)
    measure: str = Field("", max_length=2000)
    owner_name: str = Field("", max_length=50)
    working_days: int | None = Field(None, ge=1, le=90)


class FollowUpIn(Schema):
    satisfied: bool | None = None
    result: str = Field(..., max_length=2000)


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class AppealIn(Schema):
    reason: str = Field(..., max_length=2000)
    evidence: str = Field(..., max_length=2000)


class EvidenceOut(Schema):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    url: str


def _evidence(row) -> dict:
    return {"id": row.pk, "file_name": row.file_name, "content_type": row.file.content_type, "size": row.file.size,
            "sha256": row.file.sha256, "uploaded_at": row.uploaded_at, "uploaded_by": row.uploaded_by,
            "url": f"/api/v1/followups/handlings/{row.handling_id}/evidence/{row.pk}"}


def _files(files) -> list[tuple[str, bytes]]:
    """(name, bytes) of the uploads; one too large is refused (413) before it is read."""
    from bianmin.core.uploads import read_upload

    return [read_upload(f, field="files", label="证据文件") for f in files or []]


class DecideIn(Schema):
    upheld: bool
    note: str = Field(..., max_length=2000)


@router.get("/followups/handlings", response=list[HandlingOut], auth=staff_auth, summary="差评处理列表")
def followup_handlings(request: HttpRequest, status: str | None = None, flag: Literal["due_soon", "overdue"] | None = None):
    return [_handling(h) for h in selectors.handling_list(actor=principal_of(request), status=status, flag=flag)[:500]]


@router.get("/followups/handlings/{int:handling_id}", response=HandlingOut, auth=staff_auth, summary="差评处理详情")
def followup_handling(request: HttpRequest, handling_id: int):
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=handling_id))


@router.post("/followups/handlings/{int:handling_id}/verify", response=HandlingOut, auth=staff_auth, summary="核实")
def followup_verify(request: HttpRequest, handling_id: int, payload: VerifyIn):
    h = services.handling_verify(actor=principal_of(request), handling_id=handling_id, **payload.dict())
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=h.pk))


@router.post("/followups/handlings/{int:handling_id}/follow-up", response=HandlingOut, auth=staff_auth, summary="回访群众")
def followup_follow_up(request: HttpRequest, handling_id: int, payload: FollowUpIn):
    services.handling_follow_up(actor=principal_of(request), handling_id=handling_id, satisfied=payload.satisfied,
                                result=payload.result)
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=handling_id))


@router.post("/followups/handlings/{int:handling_id}/close", response=HandlingOut, auth=staff_auth, summary="办结")
def followup_close(request: HttpRequest, handling_id: int, payload: NoteIn):
    services.handling_close(actor=principal_of(request), handling_id=handling_id, note=payload.note)
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=handling_id))


@router.post("/followups/handlings/{int:handling_id}/appeal", response=HandlingOut, auth=staff_auth, summary="申诉")
def followup_appeal(request: HttpRequest, handling_id: int, payload: AppealIn):
    services.handling_appeal(actor=principal_of(request), handling_id=handling_id, reason=payload.reason,
                             evidence=payload.evidence)
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=handling_id))


@router.post("/followups/handlings/{int:handling_id}/appeal/files", response=HandlingOut, auth=staff_auth,
             summary="申诉（附证据文件：照片、监控截图、PDF）")
def followup_appeal_files(request: HttpRequest, handling_id: int, reason: str = Form(...),  # noqa: B008
                          evidence: str = Form(""), files: list[UploadedFile] = File(None)):  # noqa: B008
    services.handling_appeal(actor=principal_of(request), handling_id=handling_id, reason=reason, evidence=evidence,
                             files=_files(files))
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=handling_id))


@router.get("/followups/handlings/{int:handling_id}/evidence", response=list[EvidenceOut], auth=staff_auth,
            summary="申诉证据文件列表")
def followup_evidence_list(request: HttpRequest, handling_id: int):
    h = selectors.handling_get(actor=principal_of(request), handling_id=handling_id)
    return [_evidence(r) for r in h.evidence_files.select_related("file")]


@router.post("/followups/handlings/{int:handling_id}/evidence", response={201: list[EvidenceOut]}, auth=staff_auth,
             summary="补充申诉证据文件（申诉单位，申诉复核中）",
             description="由提出申诉的单位在上级复核前补充；负责复核的上级单位补充证据返回 403，复核后补充返回 409。")
def followup_evidence_add(request: HttpRequest, handling_id: int, files: list[UploadedFile] = File(...)):  # noqa: B008
    rows = services.handling_appeal_evidence_add(actor=principal_of(request), handling_id=handling_id,
                                                 files=_files(files))
    return Status(201, [_evidence(r) for r in rows])


@router.get("/followups/handlings/{int:handling_id}/evidence/{int:evidence_id}", auth=staff_auth,
            summary="下载申诉证据文件（留痕）",
            openapi_extra={"responses": {200: {"description": "证据文件", "content": {"application/octet-stream": {}}}}})
def followup_evidence_download(request: HttpRequest, handling_id: int, evidence_id: int):
    row, fh = services.appeal_evidence_open(actor=principal_of(request), handling_id=handling_id,
                                            evidence_id=evidence_id)
    return FileResponse(fh, content_type=row.file.content_type, as_attachment=True, filename=row.file_name)


@router.post("/followups/handlings/{int:handling_id}/decide", response=HandlingOut, auth=staff_auth, summary="上级复核申诉")
def followup_decide(request: HttpRequest, handling_id: int, payload: DecideIn):
    services.handling_appeal_decide(actor=principal_of(request), handling_id=handling_id, upheld=payload.upheld,
                                    note=payload.note)
    return _handling(selectors.handling_get(actor=principal_of(request), handling_id=handling_id))


# --- the rectification ledger (整改台账): one entry's plan and completion ------------------------

class RectificationOut(Schema):
    id: int
    number: str
    source: str
    source_label: str
    area_code: str
    site_code: str | None
    problem: str
    measure: str
    owner_name: str
    working_days: int
    found_on: date
    deadline: date
    status: str
    status_label: str
    result: str
    done_on: date | None
    on_time: bool | None
    flag: str = Field(description="overdue（已超期）、due_soon（临期）或空")


def _rectification(r) -> dict:
    return {"id": r.pk, "number": r.number, "source": r.source, "source_label": r.get_source_display(),
            "area_code": r.area.code, "site_code": r.site.code if r.site_id else None, "problem": r.problem,
            "measure": r.measure, "owner_name": r.owner_name, "working_days": r.working_days, "found_on": r.found_on,
            "deadline": r.deadline, "status": r.status, "status_label": r.get_status_display(), "result": r.result,
            "done_on": r.done_on, "on_time": r.on_time, "flag": selectors.rectification_flag(r)}


class RectificationPlanIn(Schema):
    measure: str = Field(..., max_length=2000)
    owner_name: str = Field(..., max_length=50)
    working_days: int | None = Field(None, description="整改时限（工作日，1–90）；不填则不变")


class RectificationCompleteIn(Schema):
    result: str = Field(..., max_length=2000)
    done_on: date | None = Field(None, description="完成日期，默认今天")


@router.get("/followups/rectifications/{int:rectification_id}", response=RectificationOut, auth=staff_auth,
            summary="整改台账条目")
def followup_rectification(request: HttpRequest, rectification_id: int):
    return _rectification(selectors.rectification_get(actor=principal_of(request), rectification_id=rectification_id))


@router.post("/followups/rectifications/{int:rectification_id}/plan", response=RectificationOut, auth=staff_auth,
             summary="填写整改措施、责任人和时限")
def followup_rectification_plan(request: HttpRequest, rectification_id: int, payload: RectificationPlanIn):
    actor = principal_of(request)
    services.rectification_plan(actor=actor, rectification_id=rectification_id, **payload.dict())
    return _rectification(selectors.rectification_get(actor=actor, rectification_id=rectification_id))


@router.post("/followups/rectifications/{int:rectification_id}/complete", response=RectificationOut, auth=staff_auth,
             summary="整改完成（差评处理随之进入回访）")
def followup_rectification_complete(request: HttpRequest, rectification_id: int, payload: RectificationCompleteIn):
    actor = principal_of(request)
    services.rectification_complete(actor=actor, rectification_id=rectification_id, result=payload.result,
                                    done_on=payload.done_on)
    return _rectification(selectors.rectification_get(actor=actor, rectification_id=rectification_id))


class ListIn(Schema):
    area_code: str = Field(..., min_length=12, max_length=12)
    day: date
    sample_rate: float | None = Field(None, ge=0, le=1)


class FollowUpItemOut(Schema):
    id: int
    reason: str
    method: str
    contact_name: str
    contact_phone: str
    case_id: int | None
    evaluation_id: int | None
    appeal_id: int | None
    attempt: int
    outcome: str
    satisfaction: str


class ListOut(Schema):
    id: int
    day: date
    area_code: str
    seed: int
    sample_rate: float
    max_tries: int
    stats: dict
    items: list[FollowUpItemOut]


def _item(f) -> dict:
    return {"id": f.pk, "reason": f.reason, "method": f.method, "contact_name": mask_name(f.contact_name),
            "contact_phone": mask_mobile(f.contact_phone), "case_id": f.case_id, "evaluation_id": f.evaluation_id,
            "appeal_id": f.appeal_id, "attempt": f.attempt, "outcome": f.outcome, "satisfaction": f.satisfaction}


def _list(request, fl) -> dict:
    items = selectors.followup_list_items(actor=principal_of(request), fl=fl)
    return {"id": fl.pk, "day": fl.day, "area_code": fl.area.code, "seed": fl.seed, "sample_rate": float(fl.sample_rate),
            "max_tries": fl.max_tries, "stats": fl.stats, "items": [_item(f) for f in items]}


@router.post("/followups/lists", response=ListOut, auth=staff_auth, summary="生成（或取回）某日回访名单")
def followup_build_list(request: HttpRequest, payload: ListIn):
    from bianmin.regions.selectors import area_get

    actor = principal_of(request)
    area = area_get(code=payload.area_code)
    fl = services.followup_list_build(day=payload.day, area=area, actor=actor, sample_rate=payload.sample_rate)
    return _list(request, fl)


@router.get("/followups/lists/{int:list_id}", response=ListOut, auth=staff_auth, summary="回访名单")
def followup_get_list(request: HttpRequest, list_id: int):
    return _list(request, selectors.followup_list_get(actor=principal_of(request), list_id=list_id))


class FollowUpRecordIn(Schema):
    outcome: Literal["reached", "unreached", "refused"]
    satisfaction: Literal["", "satisfied", "basic", "unsatisfied"] = ""
    notes: str = Field("", max_length=2000)
    problem: str = Field("", max_length=2000)
    measure: str = Field("", max_length=2000)
    owner_name: str = Field("", max_length=50)
    working_days: int | None = Field(None, ge=1, le=90)


@router.post("/followups/items/{int:followup_id}", response=FollowUpItemOut, auth=staff_auth, summary="记录回访结果")
def followup_record(request: HttpRequest, followup_id: int, payload: FollowUpRecordIn):
    return _item(services.followup_record(actor=principal_of(request), followup_id=followup_id, **payload.dict()))


class SurveyIn(Schema):
    answers: dict[str, str | int | list[str] | None]


@router.post("/followups/surveys/{token}", auth=None, summary="提交问卷（短信链接）")
def followup_answer_survey(request: HttpRequest, token: str, payload: SurveyIn):
    services.survey_answer(token=token, answers=payload.answers)
    return {"ok": True}
