"""Proposals: intake, 主办/会办/分办 rules, deadlines and reminders, 会签, 签发, the member's rating
and re-handling, through the services and the API."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import CITY, GUDONG, GULOU

from bianmin.core.errors import Conflict, Forbidden, Invalid
from bianmin.engagement import services
from bianmin.engagement.models import Assignment, Proposal, ProposalEvent

RECEIVED = date(2026, 1, 5)


@pytest.fixture
def proposal(people, areas):
    return services.proposal_intake(actor=people["handler"], area=areas[CITY], kind="proposal", session="市政协十四届二次会议",
                                    number="240101", title="关于优化基层便民服务的建议", proposer="黄文真",
                                    received_on=RECEIVED)


def _lead(people, areas, proposal, **kw):
    return services.proposal_assign(actor=people["handler"], proposal_id=proposal.pk, assigned_on=date(2026, 1, 10),
                                    units=[{"role": "lead", "area": areas[CITY], "unit_name": "管委会"}], **kw)[0]


def _draft(people, a, **kw):
    fields = dict(result_class="A", body="收悉。现答复如下：\n一、工作情况\n已办理。", doc_number="榕行政〔2026〕3号",
                  signer_name="孙春影", written_on=date(2026, 2, 20), quality_rating="good",
                  suggestions=[{"content": "建议1", "adoption": "adopted"}],
                  plan_items=[{"title": "推进", "deadline_text": "2026年6月30日前", "due_on": "2026-06-30",
                               "suggestion": 1}])
    fields.update(kw)
    return services.reply_draft(actor=people["handler"], assignment_id=a.pk, **fields)


def test_intake_refuses_a_number_already_registered(people, proposal, areas):
    with pytest.raises(Conflict) as exc:
        services.proposal_intake(actor=people["handler"], area=areas[CITY], kind="proposal", session=proposal.session,
                                 number="240101", title="另一件", proposer="某", received_on=RECEIVED)
    assert "已登记" in exc.value.message and Proposal.objects.count() == 1


def test_assignment_deadlines_three_months_and_one_month_for_joint(people, areas, proposal):
    lead, joint = services.proposal_assign(
        actor=people["handler"], proposal_id=proposal.pk, assigned_on=date(2026, 1, 31),
        units=[{"role": "lead", "area": areas[CITY], "unit_name": "管委会"},
               {"role": "joint", "area": areas[GULOU], "unit_name": "鼓楼区中心"}])
    assert lead.due_on == date(2026, 4, 30) and joint.due_on == date(2026, 2, 28)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.HANDLING


@pytest.mark.parametrize("roles, message", [
    (["lead", "lead"], "主办单位只能有一个"),
    (["joint"], "会办单位须配合主办单位办理"),
    (["separate"], "分办至少需要两个单位"),
    (["lead", "separate", "separate"], "分办与主办、会办不能同时使用"),
])
def test_assignment_rules(people, areas, proposal, roles, message):
    units = [{"role": r, "area": areas[CITY], "unit_name": f"单位{i}"} for i, r in enumerate(roles)]
    with pytest.raises(Invalid) as exc:
        services.proposal_assign(actor=people["handler"], proposal_id=proposal.pk, units=units)
    assert message in exc.value.message
    assert not Assignment.objects.exists()


def test_a_unit_returns_within_ten_days_only(people, areas, proposal):
    a = _lead(people, areas, proposal)
    with pytest.raises(Conflict):
        services.assignment_return(actor=people["handler"], assignment_id=a.pk, reason="非本单位职责",
                                   today=date(2026, 1, 21))
    services.assignment_return(actor=people["handler"], assignment_id=a.pk, reason="非本单位职责", today=date(2026, 1, 20))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.RECEIVED


def test_extension_before_the_deadline_and_at_most_six_months(people, areas, proposal):
    a = _lead(people, areas, proposal)
    with pytest.raises(Invalid):
        services.assignment_extend(actor=people["handler"], assignment_id=a.pk, due_on=date(2026, 7, 11), reason="调研",
                                   today=date(2026, 3, 1))
    with pytest.raises(Conflict):
        services.assignment_extend(actor=people["handler"], assignment_id=a.pk, due_on=date(2026, 6, 1), reason="调研",
                                   today=date(2026, 4, 11))
    a = services.assignment_extend(actor=people["handler"], assignment_id=a.pk, due_on=date(2026, 7, 10), reason="调研",
                                   today=date(2026, 3, 1))
    assert a.due_on == date(2026, 7, 10) and a.extension_reason == "调研"


def test_joint_unit_does_not_reply_and_must_countersign_before_signing(people, areas, proposal):
    lead, joint = services.proposal_assign(
        actor=people["handler"], proposal_id=proposal.pk, assigned_on=date(2026, 1, 10),
        units=[{"role": "lead", "area": areas[CITY], "unit_name": "管委会"},
               {"role": "joint", "area": areas[GULOU], "unit_name": "鼓楼区中心"}])
    with pytest.raises(Conflict) as exc:
        services.reply_draft(actor=people["gulou"], assignment_id=joint.pk, body="答复")
    assert "会办单位不直接答复" in exc.value.message
    reply = _draft(people, lead)
    with pytest.raises(Conflict) as exc:
        services.reply_sign(actor=people["leader"], reply_id=reply.pk)
    assert exc.value.message == "尚有会办单位未会签：鼓楼区中心"
    services.reply_countersign(actor=people["gulou"], reply_id=reply.pk, assignment_id=joint.pk, agreed=True)
    # a change after the 会签 voids it
    _draft(people, lead, body="收悉。修改后的答复。")
    with pytest.raises(Conflict):
        services.reply_sign(actor=people["leader"], reply_id=reply.pk)
    assert ProposalEvent.objects.filter(kind="edited", text__contains="会签作废").exists()
    services.reply_countersign(actor=people["gulou"], reply_id=reply.pk, assignment_id=joint.pk, agreed=True)
    reply = services.reply_sign(actor=people["leader"], reply_id=reply.pk)
    assert reply.is_signed and reply.signed_by == people["users"]["leader"]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.REPLIED


def test_a_township_cannot_countersign_for_the_district(people, areas, proposal):
    lead, joint = services.proposal_assign(
        actor=people["handler"], proposal_id=proposal.pk, assigned_on=date(2026, 1, 10),
        units=[{"role": "lead", "area": areas[CITY], "unit_name": "管委会"},
               {"role": "joint", "area": areas[GULOU], "unit_name": "鼓楼区中心"}])
    reply = _draft(people, lead)
    from bianmin.core.errors import NotFound

    with pytest.raises(NotFound):
        services.reply_countersign(actor=people["gudong"], reply_id=reply.pk, assignment_id=joint.pk, agreed=True)


def test_signing_needs_the_documents_parts(people, areas, proposal):
    a = _lead(people, areas, proposal)
    reply = _draft(people, a, doc_number="", quality_rating="")
    with pytest.raises(Invalid) as exc:
        services.reply_sign(actor=people["leader"], reply_id=reply.pk)
    assert exc.value.message == "签发前请填写：发文字号、对提案质量的评价"


def test_not_adopted_needs_a_reason(people, areas, proposal):
    a = _lead(people, areas, proposal)
    with pytest.raises(Invalid) as exc:
        _draft(people, a, suggestions=[{"content": "建议2", "adoption": "rejected"}])
    assert exc.value.message == "请填写第 1 条建议未采纳的原因"


def test_unsatisfied_member_sends_it_back_once_then_closes(people, areas, proposal):
    a = _lead(people, areas, proposal)
    reply = services.reply_sign(actor=people["leader"], reply_id=_draft(people, a).pk)
    services.member_rate(actor=people["handler"], reply_id=reply.pk, attitude="satisfied", result="unsatisfied",
                         rated_on=date(2026, 3, 10), note="措施不具体")
    a.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.REHANDLING
    assert a.status == Assignment.Status.HANDLING and a.due_on == date(2026, 4, 10)
    second = _draft(people, a, body="收悉。重新办理后的答复。")
    assert second.round == 2 and second.pk != reply.pk
    second = services.reply_sign(actor=people["leader"], reply_id=second.pk)
    services.member_rate(actor=people["handler"], reply_id=second.pk, attitude="basic", result="unsatisfied",
                         rated_on=date(2026, 4, 1))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.CLOSED  # the rounds are spent: closed with its rating
    with pytest.raises(Conflict):
        services.member_rate(actor=people["handler"], reply_id=second.pk, attitude="basic", result="basic")


def test_separate_units_each_reply_and_the_proposal_closes_when_all_are_rated(people, areas, proposal):
    a1, a2 = services.proposal_assign(
        actor=people["handler"], proposal_id=proposal.pk, assigned_on=date(2026, 1, 10),
        units=[{"role": "separate", "area": areas[CITY], "unit_name": "管委会"},
               {"role": "separate", "area": areas[GULOU], "unit_name": "鼓楼区中心"}])
    r1 = services.reply_sign(actor=people["leader"], reply_id=_draft(people, a1).pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.HANDLING
    r2 = services.reply_draft(actor=people["gulou"], assignment_id=a2.pk, result_class="B", body="收悉。",
                              doc_number="鼓行政〔2026〕1号", signer_name="某", written_on=date(2026, 2, 1),
                              quality_rating="fair", suggestions=[{"content": "建议1", "adoption": "partial",
                                                                   "reason": "部分不属本级职权"}])
    r2 = services.reply_sign(actor=people["leader"], reply_id=r2.pk)
    services.member_rate(actor=people["handler"], reply_id=r1.pk, attitude="satisfied", result="satisfied")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.REPLIED
    services.member_rate(actor=people["handler"], reply_id=r2.pk, attitude="satisfied", result="basic")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.CLOSED


def test_reminders_once_per_threshold(people, areas, proposal, django_capture_on_commit_callbacks):
    from bianmin.core.models import OutboxMessage

    a = services.proposal_assign(actor=people["handler"], proposal_id=proposal.pk, assigned_on=date(2026, 1, 10),
                                 units=[{"role": "lead", "area": areas[CITY], "unit_name": "管委会",
                                         "contact_phone": "13905910001"}])[0]
    assert services.proposals_remind(today=a.due_on - timedelta(days=7)) == 1
    assert services.proposals_remind(today=a.due_on - timedelta(days=7)) == 0
    assert services.proposals_remind(today=a.due_on - timedelta(days=6)) == 0
    assert services.proposals_remind(today=a.due_on + timedelta(days=1)) == 1
    assert services.proposals_remind(today=a.due_on + timedelta(days=2)) == 0
    texts = list(OutboxMessage.objects.filter(recipient="13905910001").values_list("payload", flat=True))
    assert len(texts) == 2 and "还有 7 天" in texts[0]["text"] and "已超过办理期限" in texts[1]["text"]
    assert ProposalEvent.objects.filter(proposal=proposal, kind="reminded").count() == 2


def test_the_whole_way_through_the_api(people, areas, client, login):
    """Intake → 交办 → 拟稿 → 签发 (another user) → the document → the member's rating, over HTTP."""
    from docx import Document

    c = login(people["users"]["handler"])
    post = lambda url, data: c.post(url, data=json.dumps(data), content_type="application/json")  # noqa: E731
    r = post("/api/v1/engagement/proposals", {"area_code": CITY, "kind": "suggestion", "session": "市十六届人大四次会议",
                                              "number": "261057", "title": "关于代办点规范化的建议", "proposer": "林晓",
                                              "received_on": "2026-01-05"})
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    r = post(f"/api/v1/engagement/proposals/{pid}/assign",
             {"units": [{"role": "lead", "area_code": CITY, "unit_name": "管委会"}], "assigned_on": "2026-01-10"})
    assert r.status_code == 200 and r.json()["assignments"][0]["due_on"] == "2026-04-10"
    aid = r.json()["assignments"][0]["id"]
    r = post(f"/api/v1/engagement/assignments/{aid}/reply", {
        "result_class": "A", "body": "收悉。现答复如下：", "doc_number": "榕行政〔2026〕5号", "written_on": "2026-02-01",
        "quality_rating": "excellent", "suggestions": [{"content": "建议1", "adoption": "adopted"}],
        "plan_items": [{"title": "推广", "deadline_text": "持续推进", "suggestion": 1}]})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["addressee"] == "林晓代表" and body["title"] == "关于市十六届人大四次会议 261057号建议的答复"
    rid = body["id"]
    r = post(f"/api/v1/engagement/replies/{rid}/sign", {})
    assert r.status_code == 403 and r.json()["message"] == "拟稿人不能签发自己起草的答复"
    leader = login(people["users"]["leader"], c.__class__())
    r = leader.post(f"/api/v1/engagement/replies/{rid}/sign", data="{}", content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "signed" and r.json()["signer_name"] == "孙春影"
    doc = c.get(f"/api/v1/engagement/replies/{rid}/document.docx")
    assert doc.status_code == 200
    assert "签发人：孙春影" in "\n".join(p.text for p in Document(__import__("io").BytesIO(doc.content)).paragraphs)
    assert c.get(f"/api/v1/engagement/replies/{rid}/document.pdf").content.startswith(b"%PDF")
    r = post(f"/api/v1/engagement/replies/{rid}/rating", {"attitude": "satisfied", "result": "good"})
    assert r.status_code == 422 and r.json()["field"] == "result"
    r = post(f"/api/v1/engagement/replies/{rid}/rating", {"attitude": "satisfied", "result": "satisfied",
                                                           "rated_on": "2026-03-01"})
    assert r.status_code == 200 and r.json()["rating"]["result"] == "satisfied"
    p = c.get(f"/api/v1/engagement/proposals/{pid}").json()
    assert p["status"] == "closed"
    assert [e["kind"] for e in p["events"]] == ["received", "assigned", "drafted", "signed", "rated", "closed"]
    from bianmin.core.models import AuditEntry

    assert AuditEntry.objects.filter(target_type="engagement.reply", target_id=str(rid)).count() == 2


def test_bad_input_gets_a_chinese_message_and_writes_nothing(people, client, login):
    c = login(people["users"]["handler"])
    r = c.post("/api/v1/engagement/proposals", data=json.dumps({"area_code": CITY, "kind": "proposal", "session": "会",
                                                                "number": "1", "title": "", "proposer": "某",
                                                                "received_on": "2099-01-01"}),
               content_type="application/json")
    assert r.status_code == 422 and r.json()["message"] == "请填写标题" and r.json()["field"] == "title"
    assert not Proposal.objects.exists()


def test_a_township_sees_only_what_was_assigned_to_it(people, areas, proposal):
    from bianmin.engagement import selectors

    assert not selectors.proposals(actor=people["gudong"]).exists()
    services.proposal_assign(actor=people["handler"], proposal_id=proposal.pk,
                             units=[{"role": "lead", "area": areas[GUDONG], "unit_name": "鼓东中心"}])
    assert list(selectors.proposals(actor=people["gudong"])) == [proposal]
    assert not selectors.proposals(actor=people["guxi"]).exists()
    with pytest.raises(Forbidden):
        services.proposal_intake(actor=people["agent"], area=areas[GULOU], kind="proposal", session="会", number="9",
                                 title="题", proposer="某", received_on=RECEIVED)


def test_the_proposal_history_names_the_person_not_the_log_in(client, login, people, proposal):
    """Issue 22.9: proposal history showed log-in names where a person's name belongs."""
    handler = people["users"]["handler"]
    handler.display_name = "郑办理"
    handler.save(update_fields=["display_name"])
    from bianmin.accounts.principals import principal_for_user

    _lead({**people, "handler": principal_for_user(handler)}, {CITY: proposal.area}, proposal)
    login(handler)
    html = client.get(f"/engagement/proposals/{proposal.pk}/").content.decode()
    history = html[html.index('class="timeline"'):]
    assert "郑办理" in history and handler.username not in history
