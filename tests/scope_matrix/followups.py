"""Routes of the follow-up desk in the scope matrix: records made afresh in 鼓东 through the
services (a completed case and its bad review, a handling record, a list, a questionnaire)."""

from __future__ import annotations

import itertools
from datetime import date

from bianmin.accounts.roles import Role

from . import GUDONG, Public, Req, Scoped, Staff
from .evaluations import evaluation

_n = itertools.count(1)


def handling(w, *, to=None):
    from bianmin.followups import services

    e = evaluation(w, grade=1)
    h = services.handling_open(evaluation_id=e.pk)
    actor = w.principal("city")
    if to in ("explained", "followed_up"):
        services.handling_verify(actor=actor, handling_id=h.pk, verdict="no_basis", verification="核实",
                                 explanation="解释")
    if to == "followed_up":
        services.handling_follow_up(actor=actor, handling_id=h.pk, satisfied=True, result="回访")
    township = w.principal("owner", MANAGER)  # an appeal is filed by the township, decided above it
    if to == "appealed":
        services.handling_appeal(actor=township, handling_id=h.pk, reason="误评", evidence="录像")
    if to == "appealed_with_file":
        services.handling_appeal(actor=township, handling_id=h.pk, reason="误评", files=[("still.png", _PNG)])
    return h


_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("still.png", _PNG)


def evidence_url(w, *, api: bool):
    h = handling(w, to="appealed_with_file")
    e = h.evidence_files.get()
    return (f"/api/v1/followups/handlings/{h.pk}/evidence/{e.pk}" if api
            else f"/followups/handling/{h.pk}/evidence/{e.pk}/")


def follow_list(w):
    from bianmin.followups.services import followup_list_build

    evaluation(w, grade=2)
    return followup_list_build(day=date(2030, 1, 1 + next(_n) % 28), area=w.areas[GUDONG], sample_rate=1, seed=1)


def followup(w):
    from bianmin.followups.models import FollowUp

    fl = follow_list(w)
    f = FollowUp.objects.filter(area__path__startswith=w.areas[GUDONG].path, outcome="").order_by("-id").first()
    if f is None:  # the case was evaluated today: put it on the list by hand, as the rules would tomorrow
        from bianmin.evaluations.models import Evaluation

        e = Evaluation.objects.order_by("-id").first()
        f = FollowUp.objects.create(follow_list=fl, reason="unsatisfied", area=e.area, site=e.site, case=e.case,
                                    evaluation=e, contact_name="矩阵", contact_phone=e.case.mobile)
    return f


def rectification(w):
    from bianmin.followups.services import rectification_open

    return rectification_open(actor=None, source="other", area=w.areas[GUDONG], problem="矩阵：窗口排队长",
                              measure="增开窗口", owner_name="王")


def questionnaire(w):
    from bianmin.followups.services import questionnaire_create

    return questionnaire_create(actor=w.principal("city"), area=w.areas[GUDONG], title=f"矩阵问卷{next(_n)}",
                                questions=[{"kind": "scale", "text": "满意程度"}])


def survey_token(w):
    from bianmin.followups.services import survey_send

    q = questionnaire(w)
    survey_send(actor=w.principal("city"), questionnaire_id=q.pk, phones=[f"1370000{next(_n):04d}"])
    return q.invitations.order_by("-id").first().token


def _post(url, **data):
    return Req(url, method="post", json=True, data=data)


MANAGER = Role.CENTER_MANAGER
AGENT = Role.FOLLOWUP_AGENT

ROUTES = [
    Staff("followups:desk"),
    Staff("followups:handlings"),
    Staff("followups:ledger-followups"),
    Staff("followups:ledger-problems"),
    Staff("followups:ledger-rectifications"),
    Staff("followups:questionnaires"),
    Staff("followups:visit-new"),
    Staff("api:followup_handlings"),
    Public("followups:survey", make=lambda w: f"/followups/s/{survey_token(w)}/"),
    Public("api:followup_answer_survey", make=lambda w: _post(f"/api/v1/followups/surveys/{survey_token(w)}",
                                                              answers={"1": 5})),
    Scoped("followups:handling", make=lambda w: f"/followups/handling/{handling(w).pk}/"),
    Scoped("api:followup_handling", make=lambda w: f"/api/v1/followups/handlings/{handling(w).pk}"),
    Scoped("api:followup_verify", role=MANAGER, make=lambda w: _post(
        f"/api/v1/followups/handlings/{handling(w).pk}/verify", verdict="no_basis", verification="核实",
        explanation="已解释")),
    # The 回访 is the follow-up desk's (issue 22.7), not the township center's that was complained about.
    Scoped("api:followup_follow_up", role=Role.FOLLOWUP_AGENT, make=lambda w: _post(
        f"/api/v1/followups/handlings/{handling(w, to='explained').pk}/follow-up", satisfied=True, result="回访")),
    Scoped("api:followup_close", role=MANAGER, make=lambda w: _post(
        f"/api/v1/followups/handlings/{handling(w, to='followed_up').pk}/close", note="办结")),
    # The township files its appeal; the district, which decides it, may not file it (403).
    Scoped("api:followup_appeal", role=MANAGER, ok_for=("owner",), make=lambda w: _post(
        f"/api/v1/followups/handlings/{handling(w).pk}/appeal", reason="误评", evidence="录像")),
    Scoped("api:followup_appeal_files", role=MANAGER, ok_for=("owner",), make=lambda w: Req(
        f"/api/v1/followups/handlings/{handling(w).pk}/appeal/files", method="post",
        data={"reason": "误评", "files": [_upload()]})),
    # Evidence is the appealing township's: the district, which decides the appeal, is refused (403).
    Scoped("api:followup_evidence_add", role=MANAGER, ok=(201,), ok_for=("owner",), make=lambda w: Req(
        f"/api/v1/followups/handlings/{handling(w, to='appealed').pk}/evidence", method="post",
        data={"files": [_upload()]})),
    Scoped("api:followup_evidence_list", make=lambda w: f"/api/v1/followups/handlings/"
                                                        f"{handling(w, to='appealed_with_file').pk}/evidence"),
    Scoped("api:followup_evidence_download", make=lambda w: evidence_url(w, api=True)),
    Scoped("followups:evidence", make=lambda w: evidence_url(w, api=False)),
    # 申诉由上级复核: the township's own manager is refused (403), the district decides.
    Scoped("api:followup_decide", role=MANAGER, ok_for=("district",), make=lambda w: _post(
        f"/api/v1/followups/handlings/{handling(w, to='appealed').pk}/decide", upheld=False, note="证据不足")),
    Scoped("followups:list", make=lambda w: f"/followups/lists/{follow_list(w).pk}/"),
    Scoped("api:followup_get_list", make=lambda w: f"/api/v1/followups/lists/{follow_list(w).pk}"),
    Scoped("followups:list-build", role=AGENT, ok=(302,), make=lambda w: Req(
        "/followups/lists/build/", method="post", data={"area": GUDONG, "day": "2030-02-01"})),
    Scoped("api:followup_build_list", role=AGENT, make=lambda w: _post(
        "/api/v1/followups/lists", area_code=GUDONG, day="2030-03-01")),
    Scoped("followups:work", make=lambda w: f"/followups/items/{followup(w).pk}/"),
    Scoped("followups:work-unmask", role=AGENT, make=lambda w: Req(f"/followups/items/{followup(w).pk}/unmask/",
                                                                   method="post")),
    Scoped("api:followup_record", role=AGENT, make=lambda w: _post(
        f"/api/v1/followups/items/{followup(w).pk}", outcome="refused")),
    Scoped("api:followup_rectification", make=lambda w: f"/api/v1/followups/rectifications/{rectification(w).pk}"),
    Scoped("api:followup_rectification_plan", role=MANAGER, make=lambda w: _post(
        f"/api/v1/followups/rectifications/{rectification(w).pk}/plan", measure="高峰增开窗口", owner_name="李")),
    Scoped("api:followup_rectification_complete", role=MANAGER, make=lambda w: _post(
        f"/api/v1/followups/rectifications/{rectification(w).pk}/complete", result="已增开两个窗口")),
    Scoped("followups:questionnaire", make=lambda w: f"/followups/questionnaires/{questionnaire(w).pk}/"),
]
