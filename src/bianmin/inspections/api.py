"""督查 API: the same cycle as the pages — templates, cycles and their draw, submissions,
item-by-item review, field checks, notices (answer with evidence, accept / send back, PDF),
scores, the annual assessment and the inbox. Staff sessions only; the services check who may do
what (404 out of scope, 403 in scope without the right, 409 in the wrong state)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from bianmin.accounts.auth import staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.paging import window
from bianmin.core.uploads import read_upload

from . import selectors, services
from .models import FieldCheck, Notice

router = Router(tags=["督查"])


def _files(files) -> list[tuple[str, bytes]]:
    """(name, bytes) of the uploads; one too large is refused (413) before it is read (core.uploads)."""
    return [read_upload(f, field="files") for f in files or []]


def _download(stored, name: str):
    from django.core.files.storage import default_storage

    try:
        fh = default_storage.open(stored.path, "rb")
    except FileNotFoundError:
        raise NotFound("文件在存储中缺失，请联系系统管理员从备份恢复") from None
    return FileResponse(fh, content_type=stored.content_type, as_attachment=True, filename=name)


# --- templates ---------------------------------------------------------------------------------------

class InspTemplateItemIn(Schema):
    category: str = Field(..., description="场所建设 site、入驻事项 stationed_items、窗口设置 windows、日常管理 daily、"
                                           "人员管理 staff、制度建设 rules、业务卷宗 dossiers、事项清单 item_list、办事指南 guides")
    text: str = Field(..., max_length=300)
    max_score: Decimal
    guidance: str = Field("", max_length=300)


class InspTemplateIn(Schema):
    area_code: str
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=100)
    note: str = Field("", max_length=300)
    items: list[InspTemplateItemIn]


class InspTemplateItemOut(Schema):
    id: int
    position: int
    category: str
    category_label: str
    text: str
    max_score: Decimal
    guidance: str


class InspTemplateOut(Schema):
    id: int
    code: str
    version: int
    name: str
    area_code: str
    note: str
    total: Decimal
    items: list[InspTemplateItemOut]


def _template(t) -> dict:
    return {"id": t.pk, "code": t.code, "version": t.version, "name": t.name, "area_code": t.area.code, "note": t.note,
            "total": t.total, "items": [{"id": i.pk, "position": i.position, "category": i.category,
                                         "category_label": i.get_category_display(), "text": i.text,
                                         "max_score": i.max_score, "guidance": i.guidance} for i in t.items.all()]}


@router.get("/inspections/templates", auth=staff_auth, response=list[InspTemplateOut], summary="评分模板（各版本）")
def inspection_templates(request: HttpRequest):
    return [_template(t) for t in selectors.templates(actor=principal_of(request))[:200]]


@router.post("/inspections/templates", auth=staff_auth, response={201: InspTemplateOut}, summary="新建评分模板或新版本")
def inspection_template_create(request: HttpRequest, payload: InspTemplateIn):
    t = services.template_version_create(actor=principal_of(request), area=services.area_by_code(payload.area_code, "area_code"),
                                         code=payload.code, name=payload.name, note=payload.note,
                                         items=[i.dict() for i in payload.items])
    return Status(201, _template(selectors.template_get(template_id=t.pk)))


@router.get("/inspections/templates/{int:template_id}", auth=staff_auth, response=InspTemplateOut,
            summary="评分模板（一个版本）")
def inspection_template(request: HttpRequest, template_id: int):
    return _template(selectors.template_get(template_id=template_id))


# --- cycles ------------------------------------------------------------------------------------------

class InspCycleIn(Schema):
    area_code: str = Field(..., description="组织单位：市或自行组织督查的县（市）区")
    title: str = Field(..., max_length=100)
    period_start: date
    period_end: date
    template_id: int
    districts: list[str]
    site_kinds: list[str] = ["center", "station"]
    sites_per_district: int = Field(3, ge=0, le=50)
    cases_per_site: int = Field(5, ge=0, le=50)
    submit_days: int | None = Field(None, ge=1, le=90)
    notice_days: int | None = Field(None, ge=1, le=90)
    seed: int | None = Field(None, ge=0, le=2**62)


class InspSampledSiteOut(Schema):
    id: int
    site_code: str
    site_name: str
    district_code: str
    district_name: str
    rank: int
    status: str
    status_label: str
    case_numbers: list[str]
    score: Decimal | None
    max_score: Decimal | None


class InspCycleOut(Schema):
    id: int
    number: str
    title: str
    area_code: str
    period_start: date
    period_end: date
    status: str
    status_label: str
    template_id: int
    template_version: int
    districts: list[str]
    site_kinds: list[str]
    seed: int
    rule: dict
    sample_digest: str
    submit_due: date | None
    notice_days: int
    scheduled: bool
    sites: list[InspSampledSiteOut]


def _site(ss) -> dict:
    return {"id": ss.pk, "site_code": ss.site.code, "site_name": ss.site.name, "district_code": ss.district.code,
            "district_name": ss.district.name, "rank": ss.rank, "status": ss.status,
            "status_label": ss.get_status_display(), "score": ss.score, "max_score": ss.max_score,
            "case_numbers": [c.case.acceptance_number or str(c.case_id)
                             for c in ss.cases.select_related("case").order_by("rank")]}


def _cycle(actor, cycle) -> dict:
    return {"id": cycle.pk, "number": cycle.number, "title": cycle.title, "area_code": cycle.area.code,
            "period_start": cycle.period_start, "period_end": cycle.period_end, "status": cycle.status,
            "status_label": cycle.get_status_display(), "template_id": cycle.template_id,
            "template_version": cycle.template.version, "districts": sorted(d.code for d in cycle.districts.all()),
            "site_kinds": cycle.site_kinds, "seed": cycle.seed, "rule": cycle.rule, "sample_digest": cycle.sample_digest,
            "submit_due": cycle.submit_due, "notice_days": cycle.notice_days, "scheduled": cycle.scheduled,
            "sites": [_site(s) for s in selectors.cycle_sites(actor=actor, cycle=cycle)]}


class InspCycleBriefOut(Schema):
    id: int
    number: str
    title: str
    area_code: str
    period_start: date
    period_end: date
    status: str


@router.get("/inspections/cycles", auth=staff_auth, response=list[InspCycleBriefOut], summary="督查周期列表")
def inspection_cycles(request: HttpRequest, status: str = "", limit: int = 50, offset: int = 0):
    qs = selectors.cycles(actor=principal_of(request), status=status or None)
    limit, offset = window(limit, offset)
    return [{"id": c.pk, "number": c.number, "title": c.title, "area_code": c.area.code, "period_start": c.period_start,
             "period_end": c.period_end, "status": c.status} for c in qs[offset:offset + limit]]


@router.post("/inspections/cycles", auth=staff_auth, response={201: InspCycleOut}, summary="新建督查周期")
def inspection_cycle_create(request: HttpRequest, payload: InspCycleIn):
    actor = principal_of(request)
    cycle = services.cycle_create(
        actor=actor, area=services.area_by_code(payload.area_code, "area_code"), title=payload.title,
        period_start=payload.period_start, period_end=payload.period_end, template_id=payload.template_id,
        district_codes=payload.districts, site_kinds=payload.site_kinds, sites_per_district=payload.sites_per_district,
        cases_per_site=payload.cases_per_site, submit_days=payload.submit_days, notice_days=payload.notice_days,
        seed=payload.seed)
    return Status(201, _cycle(actor, selectors.cycle_get(actor=actor, cycle_id=cycle.pk)))


@router.get("/inspections/cycles/{int:cycle_id}", auth=staff_auth, response=InspCycleOut, summary="督查周期详情")
def inspection_cycle(request: HttpRequest, cycle_id: int):
    actor = principal_of(request)
    return _cycle(actor, selectors.cycle_get(actor=actor, cycle_id=cycle_id))


@router.post("/inspections/cycles/{int:cycle_id}/sample", auth=staff_auth, response=InspCycleOut,
             summary="抽样（按种子和规则，可复现）并通知被检查单位")
def inspection_cycle_sample(request: HttpRequest, cycle_id: int):
    actor = principal_of(request)
    selectors.cycle_get(actor=actor, cycle_id=cycle_id)
    services.cycle_sample(actor=actor, cycle_id=cycle_id)
    return _cycle(actor, selectors.cycle_get(actor=actor, cycle_id=cycle_id))


@router.post("/inspections/cycles/{int:cycle_id}/close", auth=staff_auth, response=InspCycleOut, summary="结束督查周期")
def inspection_cycle_close(request: HttpRequest, cycle_id: int):
    actor = principal_of(request)
    selectors.cycle_get(actor=actor, cycle_id=cycle_id)
    services.cycle_close(actor=actor, cycle_id=cycle_id)
    return _cycle(actor, selectors.cycle_get(actor=actor, cycle_id=cycle_id))


class InspScoreRowOut(Schema):
    level: str
    rank: int
    area_code: str
    area_name: str
    site_code: str | None
    site_name: str | None
    district_code: str
    score: Decimal
    checks: int
    findings: int


@router.get("/inspections/cycles/{int:cycle_id}/scores", auth=staff_auth, response=list[InspScoreRowOut],
            summary="本期得分与排名（县（市）区、服务场所）")
def inspection_cycle_scores(request: HttpRequest, cycle_id: int):
    actor = principal_of(request)
    cycle = selectors.cycle_get(actor=actor, cycle_id=cycle_id)
    out = []
    for level in ("district", "site"):
        for s in selectors.cycle_scores(actor=actor, cycle=cycle, level=level):
            out.append({"level": level, "rank": s.rank, "area_code": s.area.code, "area_name": s.area.name,
                        "site_code": s.site.code if s.site_id else None, "site_name": s.site.name if s.site_id else None,
                        "district_code": s.district.code, "score": s.score, "checks": s.checks, "findings": s.findings})
    return out


# --- sampled sites -----------------------------------------------------------------------------------

class InspMaterialOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    url: str


class InspItemScoreOut(Schema):
    item_id: int
    score: Decimal
    remark: str


class InspSiteOut(InspSampledSiteOut):
    cycle_id: int
    materials: list[InspMaterialOut]
    scores: list[InspItemScoreOut]


def _site_full(ss) -> dict:
    return {**_site(ss), "cycle_id": ss.cycle_id,
            "materials": [{"id": m.pk, "kind": m.kind, "kind_label": m.get_kind_display(), "title": m.title,
                           "file_name": m.file_name, "content_type": m.file.content_type, "size": m.file.size,
                           "sha256": m.file.sha256, "url": f"/api/v1/inspections/sites/{ss.pk}/materials/{m.pk}"}
                          for m in ss.materials.select_related("file")],
            "scores": [{"item_id": s.item_id, "score": s.score, "remark": s.remark} for s in ss.scores.all()]}


def _site_get(request, sampled_site_id: int) -> dict:
    return _site_full(selectors.sampled_site_get(actor=principal_of(request), sampled_site_id=sampled_site_id))


@router.get("/inspections/sites/{int:sampled_site_id}", auth=staff_auth, response=InspSiteOut, summary="抽查场所详情")
def inspection_site(request: HttpRequest, sampled_site_id: int):
    return _site_get(request, sampled_site_id)


@router.post("/inspections/sites/{int:sampled_site_id}/prepare", auth=staff_auth, response=InspSiteOut,
             summary="附上平台已有材料（抽查卷宗、事项清单及办事指南、进驻情况）")
def inspection_site_prepare(request: HttpRequest, sampled_site_id: int):
    services.sampled_site_prepare(actor=principal_of(request), sampled_site_id=sampled_site_id)
    return _site_get(request, sampled_site_id)


@router.post("/inspections/sites/{int:sampled_site_id}/materials", auth=staff_auth, response={201: InspSiteOut},
             summary="上传送检材料（PDF、JPG、PNG、OFD）")
def inspection_site_upload(request: HttpRequest, sampled_site_id: int, title: str = Form(...),  # noqa: B008
                           files: list[UploadedFile] = File(...)):  # noqa: B008
    services.material_upload(actor=principal_of(request), sampled_site_id=sampled_site_id, title=title,
                             files=_files(files))
    return Status(201, _site_get(request, sampled_site_id))


@router.get("/inspections/sites/{int:sampled_site_id}/materials/{int:material_id}", auth=staff_auth,
            summary="下载送检材料")
def inspection_site_material(request: HttpRequest, sampled_site_id: int, material_id: int):
    _ss, m = selectors.material_get(actor=principal_of(request), sampled_site_id=sampled_site_id, material_id=material_id)
    return _download(m.file, m.file_name)


@router.post("/inspections/sites/{int:sampled_site_id}/submit", auth=staff_auth, response=InspSiteOut,
             summary="提交送检材料")
def inspection_site_submit(request: HttpRequest, sampled_site_id: int):
    services.sampled_site_submit(actor=principal_of(request), sampled_site_id=sampled_site_id)
    return _site_get(request, sampled_site_id)


class InspScoreIn(Schema):
    item_id: int
    score: Decimal | None = None
    remark: str = Field("", max_length=500)


class InspScoresIn(Schema):
    scores: list[InspScoreIn]


@router.post("/inspections/sites/{int:sampled_site_id}/scores", auth=staff_auth, response=InspSiteOut,
             summary="逐项评分（含评审意见）")
def inspection_site_score(request: HttpRequest, sampled_site_id: int, payload: InspScoresIn):
    services.review_score(actor=principal_of(request), sampled_site_id=sampled_site_id,
                          scores=[s.dict() for s in payload.scores])
    return _site_get(request, sampled_site_id)


@router.post("/inspections/sites/{int:sampled_site_id}/finish", auth=staff_auth, response=InspSiteOut,
             summary="完成评审：扣分项生成整改通知")
def inspection_site_finish(request: HttpRequest, sampled_site_id: int):
    services.review_finish(actor=principal_of(request), sampled_site_id=sampled_site_id)
    return _site_get(request, sampled_site_id)


# --- field checks ------------------------------------------------------------------------------------

class InspCheckIn(Schema):
    method: str = Field(..., description="onsite 实地查访、mystery 暗访、phone 电话抽查")
    site_code: str
    at: datetime
    cycle_id: int | None = None
    place: str = Field("", max_length=200)
    lat: float | None = None
    lng: float | None = None
    line: str = Field("", description="电话抽查：consult 咨询电话、complaint 监督投诉电话")
    phone_number: str = Field("", max_length=50)
    answered: bool | None = None
    summary: str = Field("", max_length=5000)
    template_id: int | None = None


class InspFindingOut(Schema):
    id: int
    site_code: str
    category: str
    category_label: str
    description: str
    deduction: Decimal
    published: bool
    notice_number: str | None
    notice_id: int | None


def _finding(f) -> dict:
    notice = getattr(f, "notice", None)  # the reverse one-to-one raises (an AttributeError) when there is none
    return {"id": f.pk, "site_code": f.site.code, "category": f.category, "category_label": f.get_category_display(),
            "description": f.description, "deduction": f.deduction, "published": f.published,
            "notice_number": notice.number if notice else None, "notice_id": notice.pk if notice else None}


class InspPhotoOut(Schema):
    id: int
    file_name: str
    caption: str
    content_type: str
    sha256: str
    url: str


class InspCheckOut(Schema):
    id: int
    method: str
    method_label: str
    organiser_code: str
    cycle_id: int | None
    site_code: str
    site_name: str
    at: datetime
    place: str
    lat: float | None
    lng: float | None
    line: str
    phone_number: str
    answered: bool | None
    summary: str
    inspector: str
    status: str
    status_label: str
    template_id: int | None
    score: Decimal | None
    max_score: Decimal | None
    published_at: datetime | None
    photos: list[InspPhotoOut]
    scores: list[InspItemScoreOut]
    findings: list[InspFindingOut]


def _check(actor, c) -> dict:
    return {"id": c.pk, "method": c.method, "method_label": c.get_method_display(), "organiser_code": c.organiser.code,
            "cycle_id": c.cycle_id, "site_code": c.site.code, "site_name": c.site.name, "at": c.at, "place": c.place,
            "lat": c.lat, "lng": c.lng, "line": c.line, "phone_number": c.phone_number, "answered": c.answered,
            "summary": c.summary, "inspector": c.inspector, "status": c.status, "status_label": c.get_status_display(),
            "template_id": c.template_id, "score": c.score, "max_score": c.max_score, "published_at": c.published_at,
            "photos": [{"id": p.pk, "file_name": p.file_name, "caption": p.caption, "content_type": p.file.content_type,
                        "sha256": p.file.sha256, "url": f"/inspections/checks/{c.pk}/photos/{p.pk}/"}
                       for p in c.photos.select_related("file")],
            "scores": [{"item_id": s.item_id, "score": s.score, "remark": s.remark} for s in c.scores.all()],
            "findings": [_finding(f) for f in selectors.findings(actor=actor).filter(check_record=c)]}


def _check_get(request, check_id: int) -> dict:
    actor = principal_of(request)
    return _check(actor, selectors.check_get(actor=actor, check_id=check_id))


class InspCheckBriefOut(Schema):
    id: int
    method: str
    site_code: str
    at: datetime
    status: str


@router.get("/inspections/checks", auth=staff_auth, response=list[InspCheckBriefOut],
            summary="实地查访、暗访、电话抽查列表（未公布的暗访仅组织单位可见）")
def inspection_checks(request: HttpRequest, method: str = "", limit: int = 50, offset: int = 0):
    qs = selectors.checks(actor=principal_of(request), method=method or None)
    limit, offset = window(limit, offset)
    return [{"id": c.pk, "method": c.method, "site_code": c.site.code, "at": c.at, "status": c.status}
            for c in qs[offset:offset + limit]]


@router.post("/inspections/checks", auth=staff_auth, response={201: InspCheckOut}, summary="登记实地查访、暗访或电话抽查")
def inspection_check_create(request: HttpRequest, payload: InspCheckIn):
    from bianmin.regions.models import ServiceSite

    actor = principal_of(request)
    site = ServiceSite.objects.select_related("area").filter(code=payload.site_code).first()
    if site is None:
        raise NotFound("未找到该服务场所", field="site_code")
    check = services.check_create(actor=actor, method=payload.method, site=site, at=payload.at, cycle_id=payload.cycle_id,
                                  place=payload.place, lat=payload.lat, lng=payload.lng, line=payload.line,
                                  phone_number=payload.phone_number, answered=payload.answered, summary=payload.summary,
                                  template_id=payload.template_id)
    return Status(201, _check_get(request, check.pk))


@router.get("/inspections/checks/{int:check_id}", auth=staff_auth, response=InspCheckOut, summary="检查记录详情")
def inspection_check(request: HttpRequest, check_id: int):
    return _check_get(request, check_id)


@router.post("/inspections/checks/{int:check_id}/photos", auth=staff_auth, response={201: InspCheckOut},
             summary="上传现场照片")
def inspection_check_photos(request: HttpRequest, check_id: int, caption: str = Form(""),  # noqa: B008
                            files: list[UploadedFile] = File(...)):  # noqa: B008
    services.check_photo_add(actor=principal_of(request), check_id=check_id, files=_files(files), caption=caption)
    return Status(201, _check_get(request, check_id))


@router.post("/inspections/checks/{int:check_id}/scores", auth=staff_auth, response=InspCheckOut, summary="检查逐项评分")
def inspection_check_score(request: HttpRequest, check_id: int, payload: InspScoresIn):
    services.check_score(actor=principal_of(request), check_id=check_id, scores=[s.dict() for s in payload.scores])
    return _check_get(request, check_id)


class InspFindingIn(Schema):
    category: str
    description: str = Field(..., max_length=2000)


@router.post("/inspections/checks/{int:check_id}/findings", auth=staff_auth, response={201: InspCheckOut},
             summary="记录检查发现的问题")
def inspection_check_finding(request: HttpRequest, check_id: int, payload: InspFindingIn):
    services.check_finding_add(actor=principal_of(request), check_id=check_id, category=payload.category,
                               description=payload.description)
    return Status(201, _check_get(request, check_id))


@router.post("/inspections/checks/{int:check_id}/finish", auth=staff_auth, response=InspCheckOut,
             summary="完成检查（暗访以外：发现的问题下发整改通知）")
def inspection_check_finish(request: HttpRequest, check_id: int):
    services.check_finish(actor=principal_of(request), check_id=check_id)
    return _check_get(request, check_id)


@router.post("/inspections/checks/{int:check_id}/publish", auth=staff_auth, response=InspCheckOut,
             summary="公布暗访结果（被检查场所可见，问题下发整改通知）")
def inspection_check_publish(request: HttpRequest, check_id: int):
    services.check_publish(actor=principal_of(request), check_id=check_id)
    return _check_get(request, check_id)


@router.get("/inspections/findings", auth=staff_auth, response=list[InspFindingOut], summary="发现问题（本辖区）")
def inspection_findings(request: HttpRequest, limit: int = 50, offset: int = 0):
    qs = selectors.findings(actor=principal_of(request))
    limit, offset = window(limit, offset)
    return [_finding(f) for f in qs[offset:offset + limit]]


# --- notices -------------------------------------------------------------------------------------------

class InspEvidenceOut(Schema):
    id: int
    round: int
    file_name: str
    content_type: str
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    url: str


class InspNoticeEventOut(Schema):
    kind: str
    kind_label: str
    at: datetime
    actor: str
    text: str


class InspNoticeOut(Schema):
    id: int
    number: str
    cycle_id: int | None
    source: str
    organiser_code: str
    addressee_code: str
    addressee_name: str
    site_code: str
    site_name: str
    area_code: str
    problem: str
    requirement: str
    status: str
    status_label: str
    overdue: bool
    issued_on: date
    working_days: int
    deadline: date
    deadline_unconfirmed: bool
    rounds: int
    answer: str
    answered_at: datetime | None
    decision_note: str
    rectified_on: date | None
    on_time: bool | None
    escalated_at: datetime | None
    ledger_ref: str
    pdf_url: str
    evidence: list[InspEvidenceOut]
    events: list[InspNoticeEventOut]


def _notice(n) -> dict:
    return {"id": n.pk, "number": n.number, "cycle_id": n.cycle_id, "source": n.source, "organiser_code": n.organiser.code,
            "addressee_code": n.addressee.code, "addressee_name": n.addressee.name, "site_code": n.site.code,
            "site_name": n.site.name, "area_code": n.area.code, "problem": n.problem, "requirement": n.requirement,
            "status": n.status, "status_label": n.get_status_display(), "overdue": n.is_overdue(),
            "issued_on": n.issued_on, "working_days": n.working_days, "deadline": n.deadline,
            "deadline_unconfirmed": n.deadline_unconfirmed, "rounds": n.rounds, "answer": n.answer,
            "answered_at": n.answered_at, "decision_note": n.decision_note, "rectified_on": n.rectified_on,
            "on_time": n.on_time, "escalated_at": n.escalated_at, "ledger_ref": n.ledger_ref,
            "pdf_url": f"/api/v1/inspections/notices/{n.pk}/pdf",
            "evidence": [{"id": e.pk, "round": e.round, "file_name": e.file_name, "content_type": e.file.content_type,
                          "sha256": e.file.sha256, "uploaded_at": e.uploaded_at, "uploaded_by": e.uploaded_by,
                          "url": f"/inspections/notices/{n.pk}/evidence/{e.pk}/"} for e in n.evidence.select_related("file")],
            "events": [{"kind": e.kind, "kind_label": e.get_kind_display(), "at": e.at, "actor": e.actor, "text": e.text}
                       for e in n.events.all()]}


def _notice_get(request, notice_id: int) -> dict:
    return _notice(selectors.notice_get(actor=principal_of(request), notice_id=notice_id))


class InspNoticeBriefOut(Schema):
    id: int
    number: str
    site_code: str
    addressee_code: str
    status: str
    overdue: bool
    deadline: date


@router.get("/inspections/notices", auth=staff_auth, response=list[InspNoticeBriefOut], summary="整改通知列表（本辖区）")
def inspection_notices(request: HttpRequest, status: str = "", overdue: bool = False, cycle_id: int | None = None,
                       area_code: str = "", source: str = "", limit: int = 50, offset: int = 0):
    if status and status not in Notice.Status.values:
        raise Invalid("状态无效", field="status")
    if source and source not in ("online", *FieldCheck.Method.values):
        raise Invalid("检查方式无效", field="source")
    qs = selectors.notices(actor=principal_of(request), status=status or None, overdue=overdue, cycle_id=cycle_id,
                           area_code=area_code or None, source=source or None)
    limit, offset = window(limit, offset)
    return [{"id": n.pk, "number": n.number, "site_code": n.site.code, "addressee_code": n.addressee.code,
             "status": n.status, "overdue": n.is_overdue(), "deadline": n.deadline} for n in qs[offset:offset + limit]]


@router.get("/inspections/notices/{int:notice_id}", auth=staff_auth, response=InspNoticeOut, summary="整改通知详情")
def inspection_notice(request: HttpRequest, notice_id: int):
    return _notice_get(request, notice_id)


@router.get("/inspections/notices/{int:notice_id}/pdf", auth=staff_auth, summary="整改通知（PDF，内嵌中文字体）")
def inspection_notice_pdf(request: HttpRequest, notice_id: int):
    notice, stored = services.notice_pdf(actor=principal_of(request), notice_id=notice_id)
    return _download(stored, f"整改通知_{notice.number}.pdf")


@router.post("/inspections/notices/{int:notice_id}/answer", auth=staff_auth, response=InspNoticeOut,
             summary="答复整改情况（附佐证材料）")
def inspection_notice_answer(request: HttpRequest, notice_id: int, answer: str = Form(...),  # noqa: B008
                             files: list[UploadedFile] = File(None)):  # noqa: B008
    services.notice_answer(actor=principal_of(request), notice_id=notice_id, answer=answer, files=_files(files))
    return _notice_get(request, notice_id)


class InspDecisionIn(Schema):
    accept: bool
    note: str = Field("", max_length=2000)


@router.post("/inspections/notices/{int:notice_id}/decision", auth=staff_auth, response=InspNoticeOut,
             summary="验收通过或退回重改")
def inspection_notice_decide(request: HttpRequest, notice_id: int, payload: InspDecisionIn):
    services.notice_decide(actor=principal_of(request), notice_id=notice_id, accept=payload.accept, note=payload.note)
    return _notice_get(request, notice_id)


# --- assessment and inbox ------------------------------------------------------------------------------

class InspAssessmentRowOut(Schema):
    rank: int
    district_code: str
    district_name: str
    total: Decimal
    breakdown: dict


class InspAssessmentOut(Schema):
    year: int
    area_code: str
    weights: dict
    computed_at: datetime
    rows: list[InspAssessmentRowOut]


def _city(area_code: str):
    return services.area_by_code(area_code, "area_code")


def _assessment(actor, a) -> dict:
    return {"year": a.year, "area_code": a.area.code, "weights": a.weights, "computed_at": a.computed_at,
            "rows": [{"rank": r.rank, "district_code": r.district.code, "district_name": r.district.name,
                      "total": r.total, "breakdown": r.breakdown}
                     for r in selectors.assessment_rows(actor=actor, assessment=a)]}


@router.get("/inspections/assessments/{int:year}", auth=staff_auth, response=InspAssessmentOut,
            summary="年度考核（督查得分与平台指标，按权重，含得分构成）")
def inspection_assessment(request: HttpRequest, year: int, area_code: str):
    actor = principal_of(request)
    a = selectors.assessment_get(actor=actor, area=_city(area_code), year=year)
    if a is None:
        raise NotFound("该年度尚未计算年度考核")
    return _assessment(actor, a)


class InspWeightsIn(Schema):
    weights: dict[str, int] | None = None


@router.post("/inspections/assessments/{int:year}/compute", auth=staff_auth, response=InspAssessmentOut,
             summary="计算年度考核（可先设置权重）")
def inspection_assessment_compute(request: HttpRequest, year: int, area_code: str, payload: InspWeightsIn):
    actor = principal_of(request)
    area = _city(area_code)
    if payload.weights is not None:
        services.scheme_set(actor=actor, area=area, year=year, weights=payload.weights)
    return _assessment(actor, services.assessment_compute(actor=actor, area=area, year=year))


class InspNotificationOut(Schema):
    id: int
    area_code: str
    title: str
    body: str
    url: str
    created_at: datetime
    read: bool


@router.get("/inspections/notifications", auth=staff_auth, response=list[InspNotificationOut], summary="站内通知（本单位）")
def inspection_notifications(request: HttpRequest, unread: bool = False, limit: int = 50, offset: int = 0):
    qs = selectors.notifications(actor=principal_of(request))
    if unread:
        qs = qs.filter(is_read=False)
    limit, offset = window(limit, offset)
    return [{"id": n.pk, "area_code": n.area.code, "title": n.title, "body": n.body, "url": n.url,
             "created_at": n.created_at, "read": n.is_read} for n in qs[offset:offset + limit]]
