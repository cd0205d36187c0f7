"""Symposiums: the quarterly schedule, invitations through the outbox, masked contacts, opinions
tracked to an answer or to the shared rectification ledger, and feedback to whoever raised them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import CITY, GULOU, TAIJIANG

from bianmin.core.errors import Conflict
from bianmin.engagement import services
from bianmin.engagement.models import Opinion, Symposium


@pytest.fixture
def reps(people, areas):
    return [services.representative_create(actor=people["handler"], area=areas[CITY], kind=k, name=n, phone=ph,
                                           organisation=o)
            for k, n, o, ph in [("npc", "林晓", "市人大代表", "13905910001"), ("cppcc", "黄文真", "市政协委员", ""),
                                ("enterprise", "王建国", "榕城建设", "13905910005"),
                                ("citizen", "张秀英", "鼓东居民", "13905910007")]]


@pytest.fixture
def held(people, areas, reps):
    s = services.symposium_schedule(actor=people["handler"], area=areas[GULOU], year=2026)[0]
    services.symposium_invite(actor=people["handler"], symposium_id=s.pk, representative_ids=[r.pk for r in reps])
    return services.symposium_minutes(actor=people["handler"], symposium_id=s.pk, held_on=date(2026, 2, 13),
                                      minutes="会议纪要")


def test_the_schedule_is_four_quarters_once(people, areas):
    made = services.symposium_schedule(actor=people["handler"], area=areas[CITY], year=2026)
    assert [(s.quarter, s.planned_on) for s in made] == [
        (1, date(2026, 2, 24)),  # 15 Feb 2026 is in the Spring Festival holiday: the next working day
        (2, date(2026, 5, 15)), (3, date(2026, 8, 17)), (4, date(2026, 11, 16))]
    assert services.symposium_schedule(actor=people["handler"], area=areas[CITY], year=2026) == []
    assert Symposium.objects.count() == 4


def test_schedule_page_shows_the_city_and_its_districts(people, areas, client, login):
    services.symposium_schedule(actor=people["handler"], area=areas[GULOU], year=2026)
    r = login(people["users"]["handler"]).get("/engagement/symposiums/?year=2026")
    assert r.status_code == 200
    rows = r.context["schedule"]
    assert [a.code for a, _ in rows] == [CITY, GULOU, TAIJIANG]
    assert [s is not None for s in rows[1][1]] == [True] * 4 and rows[0][1] == [None] * 4


def test_invitations_go_through_the_outbox_once_and_contacts_are_masked(people, held, reps, client, login):
    from bianmin.core.models import AuditEntry, OutboxMessage

    sms = OutboxMessage.objects.filter(channel="sms")
    assert sms.count() == 3  # the member without a phone is invited without an SMS
    assert "诚邀您参加" in sms.first().payload["text"]
    c = login(people["users"]["gulou"])
    body = c.get(f"/api/v1/engagement/symposiums/{held.pk}").json()
    names = {i["name"]: i["phone"] for i in body["invitations"]}
    assert names == {"林晓": "139****0001", "黄文真": "", "王建国": "139****0005", "张**": "139****0007"}
    citizen = reps[3]
    # the district invites the city's representatives but may not unmask the city's records
    assert c.post(f"/api/v1/engagement/representatives/{citizen.pk}/unmask").status_code == 404
    assert [r["name"] for r in c.get("/api/v1/engagement/representatives?kind=citizen").json()] == ["张**"]
    r = login(people["users"]["handler"], c.__class__()).post(f"/api/v1/engagement/representatives/{citizen.pk}/unmask")
    assert r.status_code == 200 and r.json()["phone"] == "13905910007" and r.json()["name"] == "张秀英"
    assert AuditEntry.objects.filter(action="unmask", target_id=str(citizen.pk)).exists()
    # a township's manager does not see the city's representatives' records
    r = login(people["users"]["guxi"], c.__class__()).post(f"/api/v1/engagement/representatives/{citizen.pk}/unmask")
    assert r.status_code == 404


def test_opinions_only_after_the_meeting(people, areas):
    s = services.symposium_schedule(actor=people["handler"], area=areas[GULOU], year=2026)[0]
    with pytest.raises(Conflict):
        services.opinion_record(actor=people["handler"], symposium_id=s.pk, content="意见")


def test_an_opinion_answered_is_fed_back_to_its_raiser(people, held):
    from bianmin.core.models import OutboxMessage

    inv = held.invitations.get(representative__name="王建国")
    op = services.opinion_record(actor=people["gulou"], symposium_id=held.pk, content="企业开办要跑两次", invitation_id=inv.pk)
    # 10 working days from Fri 13 Feb 2026: Sat 14 Feb (调休), 24–28 Feb (Sat 28 调休), 2–5 Mar
    assert op.due_on == date(2026, 3, 5)
    op = services.opinion_answer(actor=people["gulou"], opinion_id=op.pk, answer="已实现一次办结")
    assert op.status == Opinion.Status.ANSWERED and op.feedback_at is not None
    msg = OutboxMessage.objects.get(dedupe_key=f"opinion-feedback:{op.pk}:answered")
    assert msg.recipient == "13905910005" and "已实现一次办结" in msg.payload["text"]
    with pytest.raises(Conflict):
        services.opinion_answer(actor=people["gulou"], opinion_id=op.pk, answer="再答")


def test_an_opinion_reaches_the_ledger_and_its_completion_comes_back(people, held, sites, django_capture_on_commit_callbacks):
    from bianmin.core.models import OutboxMessage
    from bianmin.followups import services as followups
    from bianmin.followups.models import Rectification

    inv = held.invitations.get(representative__name="张秀英")
    op = services.opinion_record(actor=people["gulou"], symposium_id=held.pk, content="等候区座位少", invitation_id=inv.pk)
    op = services.opinion_rectify(actor=people["gulou"], opinion_id=op.pk, site=sites["gudong"], measure="增设座椅",
                                  owner_name="中心主任")
    rect = Rectification.objects.get(source="symposium")
    assert op.rectification == rect and rect.site == sites["gudong"] and rect.source_ref == f"symposium_opinion:{op.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        followups.rectification_complete(actor=people["gulou"], rectification_id=rect.pk, result="已增设 12 个座位")
    op.refresh_from_db()
    assert op.status == Opinion.Status.RECTIFIED and op.feedback == "已整改：已增设 12 个座位"
    assert OutboxMessage.objects.filter(dedupe_key=f"opinion-feedback:{op.pk}:rectified", recipient="13905910007").exists()


def test_a_lost_signal_is_caught_by_the_sweep(people, held, sites):
    from bianmin.followups import services as followups

    op = services.opinion_record(actor=people["gulou"], symposium_id=held.pk, content="意见")
    op = services.opinion_rectify(actor=people["gulou"], opinion_id=op.pk, measure="措施", owner_name="某")
    followups.rectification_complete(actor=people["gulou"], rectification_id=op.rectification_id, result="已整改")
    op.refresh_from_db()
    assert op.status == Opinion.Status.RECTIFYING  # on-commit callbacks do not run in this test
    assert services.opinions_sweep_rectified() == 1
    op.refresh_from_db()
    assert op.status == Opinion.Status.RECTIFIED


def test_symposium_page_records_an_opinion_and_shows_errors_in_chinese(people, held, client, login):
    c = login(people["users"]["gulou"])
    r = c.post(f"/engagement/symposiums/{held.pk}/", {"action": "opinion", "content": "", "working_days": "10"})
    assert r.status_code == 422 and "请填写意见建议" in r.content.decode()
    r = c.post(f"/engagement/symposiums/{held.pk}/", {"action": "opinion", "content": "意见", "working_days": "10"})
    assert r.status_code == 302 and held.opinions.count() == 1
    r = c.post("/api/v1/engagement/symposiums/schedule", data=json.dumps({"area_code": GULOU, "year": 1999}),
               content_type="application/json")
    assert r.status_code == 422
