"""座谈培训与提案 API (staff session; two public routes: an enterprise's training registration
and a citizen's campaign answer by QR link). Personal data is masked; unmasking is audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from bianmin.accounts.auth import staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.errors import NotFound
from bianmin.core.masking import mask_mobile, mask_name
from bianmin.core.uploads import read_upload

from . import documents, selectors, services
from .models import Representative

router = Router(tags=["座谈培训与提案"])


def _area(code: str):
    from bianmin.regions.models import Area

    area = Area.objects.filter(code=code).first()
    if area is None:
        raise NotFound("未找到该区划", field="area_code")
    return area


def _site(code: str | None, field: str = "site_code"):
    from bianmin.regions.models import ServiceSite

    if not code:
        return None
    site = ServiceSite.objects.select_related("area").filter(code=code).first()
    if site is None:
        raise NotFound("未找到该服务场所", field=field)
    return site


# --- representatives and symposiums ------------------------------------------------------------

class EngagementRepresentativeIn(Schema):
    area_code: str = Field(..., min_length=12, max_length=12)
    kind: Literal["npc", "cppcc", "enterprise", "citizen"]
    name: str = Field(..., max_length=50)
    organisation: str = Field("", max_length=100)
    phone: str = Field("", max_length=20)


class EngagementRepresentativeOut(Schema):
    id: int
    area_code: str
    kind: str
    kind_label: str
    name: str
    organisation: str
    phone: str


def _rep(r: Representative, *, unmasked: bool = False) -> dict:
    return {"id": r.pk, "area_code": r.area.code, "kind": r.kind, "kind_label": str(r.get_kind_display()),
            "name": r.name if unmasked or not r.name_is_personal else mask_name(r.name), "organisation": r.organisation,
            "phone": r.phone if unmasked else mask_mobile(r.phone)}


@router.get("/engagement/representatives", response=list[EngagementRepresentativeOut], auth=staff_auth,
            summary="代表名录（联系方式脱敏）")
def engagement_representatives(request: HttpRequest, kind: Literal["npc", "cppcc", "enterprise", "citizen"] | None = None):
    return [_rep(r) for r in selectors.representatives(actor=principal_of(request), kind=kind)[:500]]


@router.post("/engagement/representatives", response={201: EngagementRepresentativeOut}, auth=staff_auth,
             summary="登记代表")
def engagement_representative_create(request: HttpRequest, payload: EngagementRepresentativeIn):
    r = services.representative_create(actor=principal_of(request), area=_area(payload.area_code), kind=payload.kind,
                                       name=payload.name, organisation=payload.organisation, phone=payload.phone)
    return Status(201, _rep(r))


@router.post("/engagement/representatives/{int:representative_id}/unmask", response=EngagementRepresentativeOut,
             auth=staff_auth, summary="查看代表完整联系方式（留痕）")
def engagement_representative_unmask(request: HttpRequest, representative_id: int):
    from bianmin.accounts.services import unmask
    from bianmin.core.scoping import get_scoped

    actor = principal_of(request)
    r = get_scoped(Representative.objects.select_related("area"), actor, "view", pk=representative_id)
    unmask(actor=actor, record=r, field="phone", area=r.area)
    return _rep(r, unmasked=True)


class EngagementScheduleIn(Schema):
    area_code: str = Field(..., min_length=12, max_length=12)
    year: int = Field(..., ge=2000, le=2100)
    venue: str = Field("", max_length=200)


class EngagementInvitationOut(Schema):
    id: int
    representative_id: int
    kind: str
    name: str
    phone: str
    reply: str
    attended: bool | None


class EngagementOpinionOut(Schema):
    id: int
    content: str
    raised_by: str
    status: str
    status_label: str
    due_on: date
    answer: str
    rectification_number: str | None
    feedback: str
    feedback_at: datetime | None


class EngagementSymposiumOut(Schema):
    id: int
    area_code: str
    year: int
    quarter: int
    title: str
    planned_on: date
    venue: str
    status: str
    status_label: str
    held_on: date | None
    minutes: str
    invitations: list[EngagementInvitationOut] = []
    opinions: list[EngagementOpinionOut] = []


def _opinion(o) -> dict:
    rep = o.raised_by.representative if o.raised_by_id else None
    return {"id": o.pk, "content": o.content, "raised_by": _rep(rep)["name"] if rep else "", "status": o.status,
            "status_label": str(o.get_status_display()), "due_on": o.due_on, "answer": o.answer,
            "rectification_number": o.rectification.number if o.rectification_id else None, "feedback": o.feedback,
            "feedback_at": o.feedback_at}


def _symposium(s, *, detail: bool = False) -> dict:
    out = {"id": s.pk, "area_code": s.area.code, "year": s.year, "quarter": s.quarter, "title": s.title,
           "planned_on": s.planned_on, "venue": s.venue, "status": s.status, "status_label": str(s.get_status_display()),
           "held_on": s.held_on, "minutes": s.minutes}
    if detail:
        out["invitations"] = [{"id": i.pk, "representative_id": i.representative_id, "kind": i.representative.kind,
                               "name": _rep(i.representative)["name"], "phone": mask_mobile(i.representative.phone),
                               "reply": i.reply, "attended": i.attended}
                              for i in s.invitations.select_related("representative__area")]
        out["opinions"] = [_opinion(o) for o in s.opinions.select_related("raised_by__representative", "rectification")]
    return out


@router.get("/engagement/symposiums", response=list[EngagementSymposiumOut], auth=staff_auth, summary="座谈会列表")
def engagement_symposiums(request: HttpRequest, year: int | None = None):
    return [_symposium(s) for s in selectors.symposiums(actor=principal_of(request), year=year)[:200]]


@router.post("/engagement/symposiums/schedule", response={201: list[EngagementSymposiumOut]}, auth=staff_auth,
             summary="生成年度季度座谈会计划（已有的季度不重复）")
def engagement_symposium_schedule(request: HttpRequest, payload: EngagementScheduleIn):
    made = services.symposium_schedule(actor=principal_of(request), area=_area(payload.area_code), year=payload.year,
                                       venue=payload.venue)
    return Status(201, [_symposium(s) for s in made])


@router.get("/engagement/symposiums/{int:symposium_id}", response=EngagementSymposiumOut, auth=staff_auth,
            summary="座谈会详情（邀请、签到、意见）")
def engagement_symposium(request: HttpRequest, symposium_id: int):
    return _symposium(selectors.symposium_get(actor=principal_of(request), symposium_id=symposium_id), detail=True)


class EngagementIdsIn(Schema):
    ids: list[int] = Field(..., max_length=1000)


def _symposium_detail(request, symposium_id: int) -> dict:
    return engagement_symposium(request, symposium_id)


@router.post("/engagement/symposiums/{int:symposium_id}/invite", response=EngagementSymposiumOut, auth=staff_auth,
             summary="邀请代表（短信经发件箱发送）")
def engagement_symposium_invite(request: HttpRequest, symposium_id: int, payload: EngagementIdsIn):
    services.symposium_invite(actor=principal_of(request), symposium_id=symposium_id, representative_ids=payload.ids)
    return _symposium_detail(request, symposium_id)


@router.post("/engagement/symposiums/{int:symposium_id}/attendance", response=EngagementSymposiumOut, auth=staff_auth,
             summary="签到（出席的邀请）")
def engagement_symposium_attendance(request: HttpRequest, symposium_id: int, payload: EngagementIdsIn):
    services.symposium_attendance(actor=principal_of(request), symposium_id=symposium_id, attended_ids=payload.ids)
    return _symposium_detail(request, symposium_id)


class EngagementMinutesIn(Schema):
    held_on: date
    minutes: str = Field(..., max_length=20000)


@router.post("/engagement/symposiums/{int:symposium_id}/minutes", response=EngagementSymposiumOut, auth=staff_auth,
             summary="登记召开情况和会议纪要")
def engagement_symposium_minutes(request: HttpRequest, symposium_id: int, payload: EngagementMinutesIn):
    services.symposium_minutes(actor=principal_of(request), symposium_id=symposium_id, held_on=payload.held_on,
                               minutes=payload.minutes)
    return _symposium_detail(request, symposium_id)


class EngagementOpinionIn(Schema):
    content: str = Field(..., max_length=2000)
    invitation_id: int | None = None
    working_days: int | None = Field(None, ge=1, le=60)


@router.post("/engagement/symposiums/{int:symposium_id}/opinions", response={201: EngagementOpinionOut},
             auth=staff_auth, summary="登记会上意见（办理时限按工作日）")
def engagement_opinion_create(request: HttpRequest, symposium_id: int, payload: EngagementOpinionIn):
    o = services.opinion_record(actor=principal_of(request), symposium_id=symposium_id, **payload.dict())
    return Status(201, _opinion(o))


class EngagementAnswerIn(Schema):
    answer: str = Field(..., max_length=2000)


@router.post("/engagement/opinions/{int:opinion_id}/answer", response=EngagementOpinionOut, auth=staff_auth,
             summary="答复意见（短信反馈提出人）")
def engagement_opinion_answer(request: HttpRequest, opinion_id: int, payload: EngagementAnswerIn):
    return _opinion(services.opinion_answer(actor=principal_of(request), opinion_id=opinion_id, answer=payload.answer))


class EngagementRectifyIn(Schema):
    problem: str = Field("", max_length=2000)
    site_code: str | None = Field(None, max_length=32)
    measure: str = Field("", max_length=2000)
    owner_name: str = Field("", max_length=50)
    working_days: int | None = Field(None, ge=1, le=90)


@router.post("/engagement/opinions/{int:opinion_id}/rectify", response=EngagementOpinionOut, auth=staff_auth,
             summary="列入整改台账（来源：座谈会意见）")
def engagement_opinion_rectify(request: HttpRequest, opinion_id: int, payload: EngagementRectifyIn):
    data = payload.dict()
    site = _site(data.pop("site_code"))
    return _opinion(services.opinion_rectify(actor=principal_of(request), opinion_id=opinion_id, site=site, **data))


# --- trainings ---------------------------------------------------------------------------------

class EngagementTrainingIn(Schema):
    area_code: str = Field(..., min_length=12, max_length=12)
    title: str = Field(..., max_length=200)
    topic: str = Field("", max_length=300)
    starts_at: datetime
    venue: str = Field("", max_length=200)
    capacity: int = Field(100, ge=1, le=10000)
    site_code: str | None = Field(None, max_length=32)


class EngagementRegistrationOut(Schema):
    id: int
    enterprise_name: str
    credit_code: str
    pilot_code: bool
    contact_name: str
    contact_phone: str
    attendees: int
    channel: str
    attended: bool | None


class EngagementTrainingFiguresOut(Schema):
    enterprises: int
    people: int
    attended_enterprises: int
    attended_people: int
    attendance_rate: str
    pilot_codes: int
    feedback_sent: int
    feedback_answered: int
    response_rate: str
    scores: list[list[str]]


class EngagementTrainingOut(Schema):
    id: int
    area_code: str
    title: str
    topic: str
    starts_at: datetime
    venue: str
    capacity: int
    status: str
    register_url: str
    questionnaire_id: int | None
    figures: EngagementTrainingFiguresOut | None = None
    registrations: list[EngagementRegistrationOut] = []


def _reg(r) -> dict:
    from bianmin.core.masking import mask_credit_code

    return {"id": r.pk, "enterprise_name": r.enterprise_name, "credit_code": mask_credit_code(r.credit_code),
            "pilot_code": r.pilot_code, "contact_name": mask_name(r.contact_name),
            "contact_phone": mask_mobile(r.contact_phone), "attendees": r.attendees, "channel": r.channel,
            "attended": r.attended}


def _training(t, *, detail: bool = False) -> dict:
    from django.urls import reverse

    out = {"id": t.pk, "area_code": t.area.code, "title": t.title, "topic": t.topic, "starts_at": t.starts_at,
           "venue": t.venue, "capacity": t.capacity, "status": t.status,
           "register_url": reverse("engagement:training-register", args=[t.token]),
           "questionnaire_id": t.questionnaire_id}
    if detail:
        f = selectors.training_figures(t)
        out["figures"] = {**f.__dict__, "attendance_rate": f.attendance_rate, "response_rate": f.response_rate,
                          "scores": [list(s) for s in f.scores]}
        out["registrations"] = [_reg(r) for r in t.registrations.all()]
    return out


@router.get("/engagement/trainings", response=list[EngagementTrainingOut], auth=staff_auth, summary="培训会列表")
def engagement_trainings(request: HttpRequest):
    return [_training(t) for t in selectors.trainings(actor=principal_of(request))[:200]]


@router.post("/engagement/trainings", response={201: EngagementTrainingOut}, auth=staff_auth, summary="新建培训会")
def engagement_training_create(request: HttpRequest, payload: EngagementTrainingIn):
    data = payload.dict()
    t = services.training_create(actor=principal_of(request), area=_area(data.pop("area_code")),
                                 site=_site(data.pop("site_code")), **data)
    return Status(201, _training(t))


@router.get("/engagement/trainings/{int:training_id}", response=EngagementTrainingOut, auth=staff_auth,
            summary="培训会详情（报名、签到、反馈统计）")
def engagement_training(request: HttpRequest, training_id: int):
    return _training(selectors.training_get(actor=principal_of(request), training_id=training_id), detail=True)


class EngagementRegisterIn(Schema):
    enterprise_name: str = Field(..., max_length=200)
    credit_code: str = Field(..., max_length=30)
    contact_name: str = Field(..., max_length=50)
    contact_phone: str = Field(..., max_length=20)
    attendees: int = Field(1, ge=1, le=20)


class EngagementStaffRegisterIn(EngagementRegisterIn):
    pilot_override: bool = False


@router.post("/engagement/trainings/{int:training_id}/registrations", response={201: EngagementRegistrationOut},
             auth=staff_auth, summary="工作人员代企业报名（可确认早期试点信用代码）")
def engagement_training_register_staff(request: HttpRequest, training_id: int, payload: EngagementStaffRegisterIn):
    r = services.training_register(actor=principal_of(request), training_id=training_id, **payload.dict())
    return Status(201, _reg(r))


@router.post("/engagement/trainings/register/{token}", response={201: EngagementRegistrationOut}, auth=None,
             summary="企业在线报名（报名链接）")
def engagement_training_register(request: HttpRequest, token: str, payload: EngagementRegisterIn):
    r = services.training_register(actor=None, token=token, **payload.dict())
    return Status(201, _reg(r))


@router.post("/engagement/trainings/{int:training_id}/attendance", response=EngagementTrainingOut, auth=staff_auth,
             summary="签到（出席的报名）")
def engagement_training_attendance(request: HttpRequest, training_id: int, payload: EngagementIdsIn):
    services.training_attendance(actor=principal_of(request), training_id=training_id, attended_ids=payload.ids)
    return engagement_training(request, training_id)


class EngagementMaterialOut(Schema):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str


@router.post("/engagement/trainings/{int:training_id}/materials", response={201: EngagementMaterialOut},
             auth=staff_auth, summary="上传培训资料（PDF、图片、OFD）")
def engagement_training_material(request: HttpRequest, training_id: int, file: UploadedFile = File(...)):  # noqa: B008
    name, data = read_upload(file, field="file")
    m = services.training_material_add(actor=principal_of(request), training_id=training_id, file_name=name,
                                       data=data)
    return Status(201, {"id": m.pk, "file_name": m.file_name, "content_type": m.file.content_type,
                        "size": m.file.size, "sha256": m.file.sha256})


class EngagementSentOut(Schema):
    sent: int


@router.post("/engagement/trainings/{int:training_id}/feedback", response=EngagementSentOut, auth=staff_auth,
             summary="发送反馈问卷（短信链接，每个号码一次）")
def engagement_training_feedback(request: HttpRequest, training_id: int):
    return {"sent": services.training_feedback_send(actor=principal_of(request), training_id=training_id)}


# --- campaigns ---------------------------------------------------------------------------------

class EngagementQuestionIn(Schema):
    kind: Literal["single", "multiple", "text", "scale"]
    text: str = Field(..., max_length=300)
    options: list[str] = Field([], max_length=20)
    required: bool = True


class EngagementCampaignIn(Schema):
    area_code: str = Field(..., min_length=12, max_length=12)
    title: str = Field(..., max_length=200)
    starts_on: date
    ends_on: date
    site_codes: list[str] = Field(..., min_length=1, max_length=200)
    questions: list[EngagementQuestionIn] | None = Field(None, max_length=50)


class EngagementSiteResultOut(Schema):
    site_code: str
    site_name: str
    answer_url: str
    entries: int
    by_channel: dict[str, int]
    rates: list[list[str]]


class EngagementCampaignOut(Schema):
    id: int
    area_code: str
    title: str
    starts_on: date
    ends_on: date
    status: str
    questionnaire_id: int
    summary: str
    results: list[EngagementSiteResultOut] = []


def _campaign(request, c, *, detail: bool = False) -> dict:
    from django.urls import reverse

    out = {"id": c.pk, "area_code": c.area.code, "title": c.title, "starts_on": c.starts_on, "ends_on": c.ends_on,
           "status": c.status, "questionnaire_id": c.questionnaire_id, "summary": c.summary}
    if detail:
        tokens = {cs.site_id: cs.token for cs in c.sites.all()}
        out["results"] = [{"site_code": r.site.code, "site_name": r.site.name,
                           "answer_url": reverse("engagement:campaign-answer", args=[tokens[r.site.pk]]),
                           "entries": r.entries, "by_channel": r.by_channel, "rates": [list(x) for x in r.rates]}
                          for r in selectors.campaign_results(actor=principal_of(request), campaign=c)]
    return out


@router.get("/engagement/campaigns", response=list[EngagementCampaignOut], auth=staff_auth, summary="民意诉求征集列表")
def engagement_campaigns(request: HttpRequest):
    return [_campaign(request, c) for c in selectors.campaigns(actor=principal_of(request))[:200]]


@router.post("/engagement/campaigns", response={201: EngagementCampaignOut}, auth=staff_auth,
             summary="发起民意诉求征集（问卷默认：办事环境、服务态度、服务时效、服务质量）")
def engagement_campaign_create(request: HttpRequest, payload: EngagementCampaignIn):
    sites = [_site(code, "site_codes") for code in payload.site_codes]
    c = services.campaign_create(actor=principal_of(request), area=_area(payload.area_code), title=payload.title,
                                 starts_on=payload.starts_on, ends_on=payload.ends_on, sites=sites,
                                 questions=[q.dict() for q in payload.questions] if payload.questions else None)
    return Status(201, _campaign(request, c))


@router.get("/engagement/campaigns/{int:campaign_id}", response=EngagementCampaignOut, auth=staff_auth,
            summary="征集详情（各场所结果）")
def engagement_campaign(request: HttpRequest, campaign_id: int):
    return _campaign(request, selectors.campaign_get(actor=principal_of(request), campaign_id=campaign_id), detail=True)


class EngagementAnswersIn(Schema):
    answers: dict[str, str | int | list[str] | None]


class EngagementEntryOut(Schema):
    id: int
    site_code: str
    channel: str
    contact_name: str
    contact_phone: str
    problem: str
    followup_id: int | None
    rectification_number: str | None


def _entry(e) -> dict:
    finding = getattr(e, "finding", None)
    return {"id": e.pk, "site_code": e.site.code, "channel": e.channel, "contact_name": mask_name(e.contact_name),
            "contact_phone": mask_mobile(e.contact_phone), "problem": e.problem, "followup_id": e.followup_id,
            "rectification_number": finding.rectification.number if finding else None}


@router.post("/engagement/campaigns/answer/{token}", response={201: EngagementEntryOut}, auth=None,
             summary="群众扫码填写问卷")
def engagement_campaign_answer(request: HttpRequest, token: str, payload: EngagementAnswersIn):
    return Status(201, _entry(services.campaign_answer_qr(token=token, answers=payload.answers)))


class EngagementEntryIn(EngagementAnswersIn):
    site_code: str = Field(..., max_length=32)
    channel: Literal["visit", "call"]
    contact_name: str = Field(..., max_length=50)
    contact_phone: str = Field("", max_length=20)
    notes: str = Field("", max_length=2000)
    problem: str = Field("", max_length=2000)
    measure: str = Field("", max_length=2000)
    owner_name: str = Field("", max_length=50)


@router.post("/engagement/campaigns/{int:campaign_id}/entries", response={201: EngagementEntryOut}, auth=staff_auth,
             summary="录入上门回访或电话回访的问卷（记入回访台账；反映问题记入整改台账）")
def engagement_campaign_entry(request: HttpRequest, campaign_id: int, payload: EngagementEntryIn):
    data = payload.dict()
    site = _site(data.pop("site_code"))
    e = services.campaign_entry_record(actor=principal_of(request), campaign_id=campaign_id, site=site, **data)
    return Status(201, _entry(e))


class EngagementFindingIn(Schema):
    site_code: str = Field(..., max_length=32)
    problem: str = Field(..., max_length=2000)
    measure: str = Field("", max_length=2000)
    owner_name: str = Field("", max_length=50)
    working_days: int | None = Field(None, ge=1, le=90)


class EngagementFindingOut(Schema):
    id: int
    site_code: str
    problem: str
    rectification_id: int
    rectification_number: str
    measure: str
    owner_name: str
    deadline: date
    status: str


def _finding(f) -> dict:
    r = f.rectification
    return {"id": f.pk, "site_code": f.site.code, "problem": f.problem, "rectification_id": r.pk,
            "rectification_number": r.number, "measure": r.measure, "owner_name": r.owner_name, "deadline": r.deadline,
            "status": r.status}


@router.post("/engagement/campaigns/{int:campaign_id}/findings", response={201: EngagementFindingOut},
             auth=staff_auth, summary="登记发现问题（记入整改台账，来源：民意征集）")
def engagement_campaign_finding(request: HttpRequest, campaign_id: int, payload: EngagementFindingIn):
    data = payload.dict()
    site = _site(data.pop("site_code"))
    return Status(201, _finding(services.campaign_finding_raise(actor=principal_of(request), campaign_id=campaign_id,
                                                                site=site, **data)))


class EngagementLedgerOut(Schema):
    entries: list[EngagementEntryOut]
    findings: list[EngagementFindingOut]


@router.get("/engagement/campaigns/{int:campaign_id}/ledger", response=EngagementLedgerOut, auth=staff_auth,
            summary="回访台账、问题清单和整改计划")
def engagement_campaign_ledger(request: HttpRequest, campaign_id: int):
    actor = principal_of(request)
    c = selectors.campaign_get(actor=actor, campaign_id=campaign_id)
    return {"entries": [_entry(e) for e in selectors.campaign_entries(actor=actor, campaign=c)
                        .select_related("finding__rectification")[:1000]],
            "findings": [_finding(f) for f in selectors.campaign_findings(actor=actor, campaign=c)]}


class EngagementCloseIn(Schema):
    summary: str = Field(..., max_length=10000)


@router.post("/engagement/campaigns/{int:campaign_id}/close", response=EngagementCampaignOut, auth=staff_auth,
             summary="结束征集（活动总结）")
def engagement_campaign_close(request: HttpRequest, campaign_id: int, payload: EngagementCloseIn):
    services.campaign_close(actor=principal_of(request), campaign_id=campaign_id, summary=payload.summary)
    return engagement_campaign(request, campaign_id)


# --- proposals ---------------------------------------------------------------------------------

class EngagementProposalIn(Schema):
    area_code: str = Field(..., min_length=12, max_length=12)
    kind: Literal["proposal", "suggestion"]
    session: str = Field(..., max_length=100)
    number: str = Field(..., max_length=20)
    letter_number: str = Field("", max_length=20)
    title: str = Field(..., max_length=200)
    proposer: str = Field(..., max_length=100)
    proposer_kind: Literal["member", "unit"] = "member"
    content: str = Field("", max_length=20000)
    received_on: date


class EngagementAssignmentOut(Schema):
    id: int
    role: str
    role_label: str
    area_code: str
    unit_name: str
    assigned_on: date
    due_on: date
    status: str
    opinion: str
    return_reason: str
    reply_ids: list[int]


class EngagementEventOut(Schema):
    at: datetime
    kind: str
    kind_label: str
    actor: str
    text: str


class EngagementProposalOut(Schema):
    id: int
    area_code: str
    kind: str
    session: str
    number: str
    title: str
    proposer: str
    received_on: date
    status: str
    status_label: str
    assignments: list[EngagementAssignmentOut] = []
    events: list[EngagementEventOut] = []


def _proposal(p, *, detail: bool = False) -> dict:
    out = {"id": p.pk, "area_code": p.area.code, "kind": p.kind, "session": p.session, "number": p.number,
           "title": p.title, "proposer": p.proposer, "received_on": p.received_on, "status": p.status,
           "status_label": str(p.get_status_display())}
    if detail:
        out["assignments"] = [{"id": a.pk, "role": a.role, "role_label": str(a.get_role_display()),
                               "area_code": a.area.code, "unit_name": a.unit_name, "assigned_on": a.assigned_on,
                               "due_on": a.due_on, "status": a.status, "opinion": a.opinion,
                               "return_reason": a.return_reason, "reply_ids": [r.pk for r in a.replies.all()]}
                              for a in p.assignments.select_related("area")]
        out["events"] = [{"at": e.at, "kind": e.kind, "kind_label": str(e.get_kind_display()), "actor": e.actor_label,
                          "text": e.text} for e in p.events.all()]
    return out


@router.get("/engagement/proposals", response=list[EngagementProposalOut], auth=staff_auth, summary="提案建议列表")
def engagement_proposals(request: HttpRequest, status: str | None = None, q: str = ""):
    return [_proposal(p) for p in selectors.proposals(actor=principal_of(request), status=status, q=q)[:200]]


@router.post("/engagement/proposals", response={201: EngagementProposalOut}, auth=staff_auth, summary="登记提案建议")
def engagement_proposal_create(request: HttpRequest, payload: EngagementProposalIn):
    data = payload.dict()
    p = services.proposal_intake(actor=principal_of(request), area=_area(data.pop("area_code")), **data)
    return Status(201, _proposal(p, detail=True))


@router.get("/engagement/proposals/{int:proposal_id}", response=EngagementProposalOut, auth=staff_auth,
            summary="提案建议详情（交办、答复、办理进程）")
def engagement_proposal(request: HttpRequest, proposal_id: int):
    return _proposal(selectors.proposal_get(actor=principal_of(request), proposal_id=proposal_id), detail=True)


class EngagementUnitIn(Schema):
    role: Literal["lead", "joint", "separate"]
    area_code: str = Field(..., min_length=12, max_length=12)
    unit_name: str = Field(..., max_length=100)
    contact_phone: str = Field("", max_length=20)


class EngagementAssignIn(Schema):
    units: list[EngagementUnitIn] = Field(..., min_length=1, max_length=20)
    assigned_on: date | None = None
    months: int | None = Field(None, ge=1, le=6)


@router.post("/engagement/proposals/{int:proposal_id}/assign", response=EngagementProposalOut, auth=staff_auth,
             summary="交办（主办/会办/分办；期限默认三个月）")
def engagement_proposal_assign(request: HttpRequest, proposal_id: int, payload: EngagementAssignIn):
    units = [{"role": u.role, "area": _area(u.area_code), "unit_name": u.unit_name, "contact_phone": u.contact_phone}
             for u in payload.units]
    services.proposal_assign(actor=principal_of(request), proposal_id=proposal_id, units=units,
                             assigned_on=payload.assigned_on, months=payload.months)
    return engagement_proposal(request, proposal_id)


class EngagementReasonIn(Schema):
    reason: str = Field(..., max_length=2000)


def _assignment_proposal(request, assignment) -> dict:
    return engagement_proposal(request, assignment.proposal_id)


@router.post("/engagement/assignments/{int:assignment_id}/return", response=EngagementProposalOut, auth=staff_auth,
             summary="退回交办（交办后 10 日内）")
def engagement_assignment_return(request: HttpRequest, assignment_id: int, payload: EngagementReasonIn):
    a = services.assignment_return(actor=principal_of(request), assignment_id=assignment_id, reason=payload.reason)
    return _assignment_proposal(request, a)


class EngagementExtendIn(EngagementReasonIn):
    due_on: date


@router.post("/engagement/assignments/{int:assignment_id}/extend", response=EngagementProposalOut, auth=staff_auth,
             summary="延期（期限届满前说明理由，最长六个月）")
def engagement_assignment_extend(request: HttpRequest, assignment_id: int, payload: EngagementExtendIn):
    a = services.assignment_extend(actor=principal_of(request), assignment_id=assignment_id, due_on=payload.due_on,
                                   reason=payload.reason)
    return _assignment_proposal(request, a)


class EngagementJointOpinionIn(Schema):
    opinion: str = Field(..., max_length=10000)


@router.post("/engagement/assignments/{int:assignment_id}/opinion", response=EngagementProposalOut, auth=staff_auth,
             summary="会办意见（送主办单位）")
def engagement_assignment_opinion(request: HttpRequest, assignment_id: int, payload: EngagementJointOpinionIn):
    a = services.joint_opinion(actor=principal_of(request), assignment_id=assignment_id, opinion=payload.opinion)
    return _assignment_proposal(request, a)


class EngagementSuggestionIn(Schema):
    content: str = Field(..., max_length=500)
    adoption: Literal["adopted", "partial", "rejected"]
    reason: str = Field("", max_length=2000)


class EngagementPlanItemIn(Schema):
    title: str = Field(..., max_length=100)
    content: str = Field("", max_length=5000)
    deadline_text: str = Field("", max_length=200)
    due_on: date | None = None
    owner_name: str = Field("", max_length=50)
    suggestion: int | None = Field(None, ge=1)


class EngagementReplyIn(Schema):
    result_class: str = Field("", max_length=2)
    org_mark: str | None = Field(None, max_length=60)
    doc_number: str | None = Field(None, max_length=40)
    signer_name: str | None = Field(None, max_length=30)
    title: str | None = Field(None, max_length=200)
    addressee: str | None = Field(None, max_length=100)
    body: str | None = Field(None, max_length=50000)
    leader_name: str | None = Field(None, max_length=30)
    contact_name: str | None = Field(None, max_length=30)
    contact_phone: str | None = Field(None, max_length=20)
    issuer: str | None = Field(None, max_length=60)
    written_on: date | None = None
    disclosure: Literal["on_request", "public", "not_public"] | None = None
    printer: str | None = Field(None, max_length=60)
    printed_on: date | None = None
    table_title: str | None = Field(None, max_length=60)
    quality_rating: Literal["excellent", "good", "fair"] | None = None
    suggestions: list[EngagementSuggestionIn] | None = Field(None, max_length=50)
    plan_items: list[EngagementPlanItemIn] | None = Field(None, max_length=50)


class EngagementPlanItemOut(Schema):
    id: int
    position: int
    title: str
    deadline_text: str
    due_on: date | None
    status: str
    progress_note: str


class EngagementReplyOut(Schema):
    id: int
    assignment_id: int
    round: int
    status: str
    result_class: str | None
    doc_number: str
    signer_name: str
    title: str
    addressee: str
    written_on: date | None
    quality_rating: str
    signed_at: datetime | None
    countersigns: list[dict]
    suggestions: list[dict]
    plan_items: list[EngagementPlanItemOut]
    rating: dict | None
    docx_url: str
    pdf_url: str


def _reply(r) -> dict:
    rating = getattr(r, "rating", None) if hasattr(r, "rating") else None
    return {"id": r.pk, "assignment_id": r.assignment_id, "round": r.round, "status": r.status,
            "result_class": r.result_class.code if r.result_class_id else None, "doc_number": r.doc_number,
            "signer_name": r.signer_name, "title": r.title, "addressee": r.addressee, "written_on": r.written_on,
            "quality_rating": r.quality_rating, "signed_at": r.signed_at,
            "countersigns": [{"unit_name": c.assignment.unit_name, "agreed": c.agreed, "note": c.note}
                             for c in r.countersigns.select_related("assignment")],
            "suggestions": [{"position": s.position, "content": s.content, "adoption": s.adoption, "reason": s.reason}
                            for s in r.suggestions.all()],
            "plan_items": [{"id": i.pk, "position": i.position, "title": i.title, "deadline_text": i.deadline_text,
                            "due_on": i.due_on, "status": i.status, "progress_note": i.progress_note}
                           for i in r.plan_items.all()],
            "rating": {"attitude": rating.attitude, "result": rating.result, "note": rating.note,
                       "rated_on": rating.rated_on.isoformat()} if rating else None,
            "docx_url": f"/api/v1/engagement/replies/{r.pk}/document.docx",
            "pdf_url": f"/api/v1/engagement/replies/{r.pk}/document.pdf"}


def _reply_out(request, reply_id: int) -> dict:
    return _reply(selectors.reply_get(actor=principal_of(request), reply_id=reply_id))


@router.post("/engagement/assignments/{int:assignment_id}/reply", response=EngagementReplyOut, auth=staff_auth,
             summary="拟稿或修改答复（主办、分办；修改后需重新会签）")
def engagement_reply_draft(request: HttpRequest, assignment_id: int, payload: EngagementReplyIn):
    data = payload.dict(exclude_none=True)
    suggestions = data.pop("suggestions", None)
    plan = data.pop("plan_items", None)
    r = services.reply_draft(actor=principal_of(request), assignment_id=assignment_id, suggestions=suggestions,
                             plan_items=plan, **data)
    return _reply_out(request, r.pk)


@router.get("/engagement/replies/{int:reply_id}", response=EngagementReplyOut, auth=staff_auth, summary="答复详情")
def engagement_reply(request: HttpRequest, reply_id: int):
    return _reply_out(request, reply_id)


class EngagementCountersignIn(Schema):
    assignment_id: int
    agreed: bool
    note: str = Field("", max_length=2000)


@router.post("/engagement/replies/{int:reply_id}/countersign", response=EngagementReplyOut, auth=staff_auth,
             summary="会签（会办单位）")
def engagement_reply_countersign(request: HttpRequest, reply_id: int, payload: EngagementCountersignIn):
    services.reply_countersign(actor=principal_of(request), reply_id=reply_id, **payload.dict())
    return _reply_out(request, reply_id)


class EngagementSignIn(Schema):
    signer_name: str = Field("", max_length=30)


@router.post("/engagement/replies/{int:reply_id}/sign", response=EngagementReplyOut, auth=staff_auth,
             summary="签发（单位领导；拟稿人不能签发）")
def engagement_reply_sign(request: HttpRequest, reply_id: int, payload: EngagementSignIn):
    services.reply_sign(actor=principal_of(request), reply_id=reply_id, signer_name=payload.signer_name)
    return _reply_out(request, reply_id)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    from urllib.parse import quote

    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


@router.get("/engagement/replies/{int:reply_id}/document.docx", auth=staff_auth, summary="答复公文（DOCX）",
            openapi_extra={"responses": {200: {"description": "DOCX", "content": {DOCX: {}}}}})
def engagement_reply_docx(request: HttpRequest, reply_id: int):
    r = selectors.reply_get(actor=principal_of(request), reply_id=reply_id)
    return _download(documents.reply_docx(r), documents.file_name(r, "docx"), DOCX)


@router.get("/engagement/replies/{int:reply_id}/document.pdf", auth=staff_auth, summary="答复公文（PDF，内嵌字体）",
            openapi_extra={"responses": {200: {"description": "PDF", "content": {"application/pdf": {}}}}})
def engagement_reply_pdf(request: HttpRequest, reply_id: int):
    r = selectors.reply_get(actor=principal_of(request), reply_id=reply_id)
    return _download(documents.reply_pdf(r), documents.file_name(r, "pdf"), "application/pdf")


class EngagementRatingIn(Schema):
    attitude: Literal["satisfied", "basic", "unsatisfied"]
    result: Literal["satisfied", "basic", "unsatisfied"]
    note: str = Field("", max_length=2000)
    rated_on: date | None = None


@router.post("/engagement/replies/{int:reply_id}/rating", response=EngagementReplyOut, auth=staff_auth,
             summary="登记委员评价（不满意的重新办理）")
def engagement_reply_rating(request: HttpRequest, reply_id: int, payload: EngagementRatingIn):
    services.member_rate(actor=principal_of(request), reply_id=reply_id, **payload.dict())
    return _reply_out(request, reply_id)


class EngagementProgressIn(Schema):
    status: Literal["pending", "in_progress", "done"]
    note: str = Field(..., max_length=2000)
    done_on: date | None = None


@router.post("/engagement/plan-items/{int:item_id}/progress", response=EngagementPlanItemOut, auth=staff_auth,
             summary="登记实施进展")
def engagement_plan_progress(request: HttpRequest, item_id: int, payload: EngagementProgressIn):
    i = services.plan_progress(actor=principal_of(request), item_id=item_id, **payload.dict())
    return {"id": i.pk, "position": i.position, "title": i.title, "deadline_text": i.deadline_text, "due_on": i.due_on,
            "status": i.status, "progress_note": i.progress_note}
