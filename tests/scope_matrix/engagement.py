"""Routes of engagement in the scope matrix: symposiums, trainings, campaigns and proposals made
afresh in 鼓东 (GUDONG) through the services by the city's users."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from bianmin.accounts.roles import Role

from . import GUDONG, Public, Req, Scoped, Staff

_n = itertools.count(1)
MANAGER = Role.CENTER_MANAGER
AGENT = Role.FOLLOWUP_AGENT
LEADER = Role.LEADER
_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _s():
    from bianmin.engagement import services

    return services


def _post(url, **data):
    return Req(url, method="post", json=True, data=data)


def _form(url, **data):
    return Req(url, method="post", data=data)


def representative(w):
    return _s().representative_create(actor=w.principal("city"), area=w.areas[GUDONG], kind="citizen", name="张秀英",
                                      phone="13905910007")


def symposium(w, *, held: bool = False):
    s = _s().symposium_schedule(actor=w.principal("city"), area=w.areas[GUDONG], year=2030 + next(_n))[0]
    if held:
        _s().symposium_minutes(actor=w.principal("city"), symposium_id=s.pk, held_on=date(2024, 5, 6), minutes="纪要")
    return s


def opinion(w):
    s = symposium(w, held=True)
    return _s().opinion_record(actor=w.principal("city"), symposium_id=s.pk, content="等候区座位少")


def training(w):
    from django.utils import timezone

    return _s().training_create(actor=w.principal("city"), area=w.areas[GUDONG], title=f"矩阵培训{next(_n)}",
                                starts_at=timezone.now() + timedelta(days=3))


def credit_code():
    from bianmin.core.validators import make_credit_code

    return make_credit_code("350102", next(_n) + 500)


def registration(w):
    t = training(w)
    return _s().training_register(actor=w.principal("city"), training_id=t.pk, enterprise_name="矩阵企业",
                                  credit_code=credit_code(), contact_name="王", contact_phone="13905910005")


def material(w):
    t = training(w)
    return _s().training_material_add(actor=w.principal("city"), training_id=t.pk, file_name="讲义.png", data=_PNG)


def campaign(w):
    from django.utils import timezone

    today = timezone.localdate()
    return _s().campaign_create(actor=w.principal("city"), area=w.areas[GUDONG], title=f"矩阵征集{next(_n)}",
                                starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=10),
                                sites=[w.site(GUDONG)])


def proposal(w):
    return _s().proposal_intake(actor=w.principal("city"), area=w.areas[GUDONG], kind="proposal", session="矩阵会议",
                                number=str(next(_n)), title="关于便民服务的建议", proposer="黄文真",
                                received_on=date(2025, 3, 1))


def assignment(w, *, joint: bool = False):
    p = proposal(w)
    units = [{"role": "lead", "area": w.areas[GUDONG], "unit_name": "鼓东中心"}]
    if joint:
        units.append({"role": "joint", "area": w.areas[GUDONG], "unit_name": "鼓东司法所"})
    return _s().proposal_assign(actor=w.principal("city"), proposal_id=p.pk, units=units)


def reply(w, *, signed: bool = False, joint: bool = False):
    a = assignment(w, joint=joint)
    r = _s().reply_draft(actor=w.principal("city"), assignment_id=a[0].pk, result_class="B", body="收悉。现答复如下：",
                         doc_number="榕行政〔2025〕1号", signer_name="孙春影", written_on=date.today(),
                         quality_rating="good", suggestions=[{"content": "建议1", "adoption": "adopted"}],
                         plan_items=[{"title": "推进", "deadline_text": "持续推进", "suggestion": 1}])
    if signed:
        _s().reply_sign(actor=w.principal("city", LEADER), reply_id=r.pk)
    return r


def joint_reply(w):
    r = reply(w, joint=True)
    joint = r.assignment.proposal.assignments.get(role="joint")
    return r, joint


def campaign_token(w):
    return campaign(w).sites.get().token


API = "/api/v1/engagement"

ROUTES = [
    Staff("engagement:home", ok=(302,)),
    Staff("engagement:symposiums"),
    Staff("engagement:trainings"),
    Staff("engagement:campaigns"),
    Staff("engagement:proposals"),
    Staff("api:engagement_representatives"),
    Staff("api:engagement_symposiums"),
    Staff("api:engagement_trainings"),
    Staff("api:engagement_campaigns"),
    Staff("api:engagement_proposals"),
    Public("engagement:training-register", make=lambda w: f"/engagement/t/{training(w).token}/"),
    Public("api:engagement_training_register", ok=(201,), make=lambda w: _post(
        f"{API}/trainings/register/{training(w).token}", enterprise_name="企业", credit_code=credit_code(),
        contact_name="王", contact_phone="13905910005")),
    Public("engagement:campaign-answer", make=lambda w: f"/engagement/c/{campaign_token(w)}/"),
    Public("api:engagement_campaign_answer", ok=(201,), make=lambda w: _post(
        f"{API}/campaigns/answer/{campaign_token(w)}", answers={"1": "满意", "2": "满意", "3": "满意", "4": "满意"})),
    # representatives and symposiums
    Scoped("api:engagement_representative_create", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/representatives", area_code=GUDONG, kind="npc", name="林晓")),
    Scoped("api:engagement_representative_unmask", role=MANAGER, make=lambda w: Req(
        f"{API}/representatives/{representative(w).pk}/unmask", method="post")),
    Scoped("engagement:representative-unmask", role=MANAGER, make=lambda w: Req(
        f"/engagement/representatives/{representative(w).pk}/unmask/", method="post")),
    Scoped("api:engagement_symposium_schedule", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/symposiums/schedule", area_code=GUDONG, year=2040 + next(_n))),
    Scoped("engagement:symposium", make=lambda w: f"/engagement/symposiums/{symposium(w).pk}/"),
    Scoped("api:engagement_symposium", make=lambda w: f"{API}/symposiums/{symposium(w).pk}"),
    Scoped("api:engagement_symposium_invite", role=MANAGER, make=lambda w: _post(
        f"{API}/symposiums/{symposium(w).pk}/invite", ids=[representative(w).pk])),
    Scoped("api:engagement_symposium_attendance", role=MANAGER, make=lambda w: _post(
        f"{API}/symposiums/{symposium(w).pk}/attendance", ids=[])),
    Scoped("api:engagement_symposium_minutes", role=MANAGER, make=lambda w: _post(
        f"{API}/symposiums/{symposium(w).pk}/minutes", held_on="2024-05-06", minutes="纪要")),
    Scoped("api:engagement_opinion_create", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/symposiums/{symposium(w, held=True).pk}/opinions", content="意见")),
    Scoped("api:engagement_opinion_answer", role=MANAGER, make=lambda w: _post(
        f"{API}/opinions/{opinion(w).pk}/answer", answer="已办理")),
    Scoped("api:engagement_opinion_rectify", role=MANAGER, make=lambda w: _post(
        f"{API}/opinions/{opinion(w).pk}/rectify", measure="增设座椅", owner_name="主任")),
    # trainings
    Scoped("api:engagement_training_create", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/trainings", area_code=GUDONG, title="培训", starts_at="2030-01-02T09:00:00+08:00")),
    Scoped("engagement:training", make=lambda w: f"/engagement/trainings/{training(w).pk}/"),
    Scoped("api:engagement_training", make=lambda w: f"{API}/trainings/{training(w).pk}"),
    Scoped("api:engagement_training_register_staff", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/trainings/{training(w).pk}/registrations", enterprise_name="企业", credit_code=credit_code(),
        contact_name="王", contact_phone="13905910005")),
    Scoped("api:engagement_training_attendance", role=MANAGER, make=lambda w: (lambda r: _post(
        f"{API}/trainings/{r.training_id}/attendance", ids=[r.pk]))(registration(w))),
    Scoped("api:engagement_training_material", role=MANAGER, ok=(201,), make=lambda w: Req(
        f"{API}/trainings/{training(w).pk}/materials", method="post", data={"file": _upload()})),
    Scoped("engagement:training-material", make=lambda w: (lambda m: f"/engagement/trainings/{m.training_id}/materials/"
                                                           f"{m.pk}/")(material(w))),
    Scoped("api:engagement_training_feedback", role=MANAGER, make=lambda w: Req(
        f"{API}/trainings/{registration(w).training_id}/feedback", method="post")),
    # campaigns
    Scoped("api:engagement_campaign_create", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/campaigns", area_code=GUDONG, title="征集", starts_on="2030-01-01", ends_on="2030-02-01",
        site_codes=[w.site(GUDONG).code])),
    Scoped("engagement:campaign", make=lambda w: f"/engagement/campaigns/{campaign(w).pk}/"),
    Scoped("api:engagement_campaign", make=lambda w: f"{API}/campaigns/{campaign(w).pk}"),
    Scoped("api:engagement_campaign_ledger", make=lambda w: f"{API}/campaigns/{campaign(w).pk}/ledger"),
    Scoped("api:engagement_campaign_entry", role=AGENT, ok=(201,), make=lambda w: _post(
        f"{API}/campaigns/{campaign(w).pk}/entries", site_code=w.site(GUDONG).code, channel="visit",
        contact_name="张秀英", answers={"1": "满意", "2": "满意", "3": "满意", "4": "满意"})),
    Scoped("api:engagement_campaign_finding", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/campaigns/{campaign(w).pk}/findings", site_code=w.site(GUDONG).code, problem="排队时间长")),
    Scoped("api:engagement_campaign_close", role=MANAGER, make=lambda w: _post(
        f"{API}/campaigns/{campaign(w).pk}/close", summary="总结")),
    # proposals
    Scoped("api:engagement_proposal_create", role=MANAGER, ok=(201,), make=lambda w: _post(
        f"{API}/proposals", area_code=GUDONG, kind="proposal", session="矩阵会议", number=f"P{next(_n)}",
        title="建议", proposer="黄文真", received_on="2025-03-01")),
    Scoped("engagement:proposal", make=lambda w: f"/engagement/proposals/{proposal(w).pk}/"),
    Scoped("api:engagement_proposal", make=lambda w: f"{API}/proposals/{proposal(w).pk}"),
    Scoped("api:engagement_proposal_assign", role=MANAGER, make=lambda w: _post(
        f"{API}/proposals/{proposal(w).pk}/assign", units=[{"role": "lead", "area_code": GUDONG,
                                                            "unit_name": "鼓东中心"}])),
    Scoped("api:engagement_assignment_return", role=MANAGER, make=lambda w: _post(
        f"{API}/assignments/{assignment(w)[0].pk}/return", reason="不属本单位职责")),
    Scoped("api:engagement_assignment_extend", role=MANAGER, make=lambda w: _post(
        f"{API}/assignments/{assignment(w)[0].pk}/extend", reason="需调研",
        due_on=(date.today() + timedelta(days=120)).isoformat())),
    Scoped("api:engagement_assignment_opinion", role=MANAGER, make=lambda w: _post(
        f"{API}/assignments/{assignment(w, joint=True)[1].pk}/opinion", opinion="同意")),
    Scoped("engagement:reply-edit", make=lambda w: f"/engagement/assignments/{assignment(w)[0].pk}/reply/"),
    Scoped("api:engagement_reply_draft", role=MANAGER, make=lambda w: _post(
        f"{API}/assignments/{assignment(w)[0].pk}/reply", body="收悉。")),
    Scoped("engagement:reply", make=lambda w: f"/engagement/replies/{reply(w).pk}/"),
    Scoped("api:engagement_reply", make=lambda w: f"{API}/replies/{reply(w).pk}"),
    Scoped("engagement:reply-document", make=lambda w: f"/engagement/replies/{reply(w).pk}/document.docx"),
    Scoped("api:engagement_reply_docx", make=lambda w: f"{API}/replies/{reply(w).pk}/document.docx"),
    Scoped("api:engagement_reply_pdf", make=lambda w: f"{API}/replies/{reply(w).pk}/document.pdf"),
    Scoped("api:engagement_reply_countersign", role=MANAGER, make=lambda w: (lambda rj: _post(
        f"{API}/replies/{rj[0].pk}/countersign", assignment_id=rj[1].pk, agreed=True))(joint_reply(w))),
    # 签发 is a leader's: the district admin, who may handle proposals, may not sign (403).
    Scoped("api:engagement_reply_sign", role=LEADER, ok_for=("owner",), make=lambda w: Req(
        f"{API}/replies/{reply(w).pk}/sign", method="post", json=True, data={})),
    Scoped("api:engagement_reply_rating", role=MANAGER, make=lambda w: _post(
        f"{API}/replies/{reply(w, signed=True).pk}/rating", attitude="satisfied", result="basic")),
    Scoped("api:engagement_plan_progress", role=MANAGER, make=lambda w: _post(
        f"{API}/plan-items/{reply(w, signed=True).plan_items.get().pk}/progress", status="in_progress", note="推进中")),
]


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("讲义.png", _PNG)
