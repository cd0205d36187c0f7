"""The daily follow-up list on a hand-built day, working it (reached / unreached / refused,
retries up to the set number of tries, problems → rectification), home visits, ledgers with
xlsx, questionnaires."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import GULOU
from django.utils import timezone
from evaluations.conftest import at, principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user):
    return make_user("followup_agent", GULOU, username="gl_agent")


@pytest.fixture
def day_built(completed_case, areas):
    """Yesterday in 鼓楼: one unsatisfied, one 跑多趟 (satisfied), six satisfied, one default, one
    the day before; an unsatisfied one in 台江 (another district); an appeal replied yesterday."""
    from bianmin.appeals.models import Appeal
    from bianmin.evaluations.services import evaluation_submit, evaluations_apply_defaults

    today = timezone.localdate()
    y = today - timedelta(days=1)

    def ev(case, grade, day=y, **kw):
        return evaluation_submit(case_id=case.pk, grade=grade, channel="web", actor=None, evaluated_at=at(day, 16),
                                 reasons=["slow"] if grade <= 2 else [], **kw).evaluation

    unsatisfied = ev(completed_case(), 2)
    multi = completed_case(site="guxi", window="gx1", visits=3)
    ev(multi, 5)
    satisfied = [ev(completed_case(site="gudong" if i % 2 else "guxi", window="w1" if i % 2 else "gx1"), 4)
                 for i in range(6)]
    earlier = ev(completed_case(day=y - timedelta(days=1)), 1, day=y - timedelta(days=1))
    other_district = ev(completed_case(site="taijiang", window="tj1"), 1)
    defaulted_case = completed_case(day=y - timedelta(days=8))
    evaluations_apply_defaults(now=at(y, 12))
    appeal = Appeal.objects.create(number="SQ20260001", kind="complaint", channel="phone", name="刘女士",
                                   mobile="13700001111", area=areas["350102001000"], title="窗口排队时间长",
                                   content="排队一小时", due_date=today, status="replied", replied_at=at(y, 11),
                                   reply="已增设窗口")
    return {"today": today, "y": y, "unsatisfied": unsatisfied, "multi": multi, "satisfied": satisfied,
            "earlier": earlier, "other": other_district, "defaulted": defaulted_case, "appeal": appeal}


def test_daily_list_follows_the_rules(day_built, areas):
    from bianmin.followups.models import FollowUp
    from bianmin.followups.services import draw_sample, followup_list_build

    d = day_built
    fl = followup_list_build(day=d["today"], area=areas[GULOU], sample_rate=Decimal("0.5"), seed=20260427)
    items = list(fl.items.all())
    by_reason = {}
    for f in items:
        by_reason.setdefault(f.reason, []).append(f)
    assert [f.evaluation_id for f in by_reason["unsatisfied"]] == [d["unsatisfied"].pk]
    assert [f.case_id for f in by_reason["multi_trip"]] == [d["multi"].pk]
    assert [f.appeal_id for f in by_reason["appeal"]] == [d["appeal"].pk]
    expected = draw_sample([e.pk for e in d["satisfied"]], seed=20260427, rate=Decimal("0.5"))
    assert sorted(f.evaluation_id for f in by_reason.get("sample", [])) == expected
    assert 0 < len(expected) < 6  # the seed above draws some, not all
    listed_cases = {f.case_id for f in items}
    assert d["earlier"].case_id not in listed_cases and d["other"].case_id not in listed_cases
    assert d["defaulted"].pk not in listed_cases
    assert fl.stats["satisfied_candidates"] == 6
    unsat = by_reason["unsatisfied"][0]
    assert unsat.contact_phone == d["unsatisfied"].case.mobile and unsat.handling is None  # not yet opened on-commit
    # rebuilding the day's list returns it unchanged (the draw is recorded, not redone)
    again = followup_list_build(day=d["today"], area=areas[GULOU], sample_rate=Decimal("1"), seed=1)
    assert again.pk == fl.pk and FollowUp.objects.count() == len(items)


def test_the_draw_is_reproducible_from_the_seed():
    from bianmin.followups.services import draw_sample

    ids = list(range(1, 501))
    a = draw_sample(ids, seed=7, rate=Decimal("0.1"))
    assert a == draw_sample(list(reversed(ids)), seed=7, rate=Decimal("0.1"))
    assert a != draw_sample(ids, seed=8, rate=Decimal("0.1"))
    assert 25 <= len(a) <= 75
    assert draw_sample(ids, seed=7, rate=Decimal("0")) == [] and len(draw_sample(ids, seed=7, rate=Decimal("1"))) == 500


def test_unreached_citizens_are_retried_up_to_the_limit(day_built, areas, agent):
    from bianmin.followups.services import followup_list_build, followup_record

    d = day_built
    actor = principal(agent)
    today = d["today"]
    fl = followup_list_build(day=today, area=areas[GULOU], sample_rate=Decimal("0"), seed=1, max_tries=3)
    first = fl.items.get(reason="unsatisfied")
    followup_record(actor=actor, followup_id=first.pk, outcome="unreached")
    second = followup_list_build(day=today + timedelta(days=1), area=areas[GULOU], seed=1, max_tries=3).items.get(
        case=first.case)
    assert (second.attempt, second.first_try_id, second.reason) == (2, first.pk, "unsatisfied")
    followup_record(actor=actor, followup_id=second.pk, outcome="unreached")
    third = followup_list_build(day=today + timedelta(days=2), area=areas[GULOU], seed=1, max_tries=3).items.get(
        case=first.case)
    assert third.attempt == 3
    third = followup_record(actor=actor, followup_id=third.pk, outcome="unreached")
    assert third.outcome == "gave_up"  # the last try
    fourth = followup_list_build(day=today + timedelta(days=3), area=areas[GULOU], seed=1, max_tries=3)
    assert not fourth.items.filter(case=first.case).exists()


def test_a_bad_review_already_followed_up_in_its_handling_is_not_called_again(day_built, areas, agent, make_user):
    """The site called the citizen about the bad review (回访 in the handling) before the morning's
    list: the list leaves it out; an unreached retry whose handling reached the citizen meanwhile
    is not retried either."""
    from bianmin.followups.models import BadReviewHandling
    from bianmin.followups.services import (
        followup_list_build,
        followup_record,
        handling_follow_up,
        handling_verify,
        handlings_open_missing,
    )

    d = day_built
    handlings_open_missing()
    handling = BadReviewHandling.objects.get(evaluation=d["unsatisfied"])
    district = principal(make_user("district_admin", GULOU))
    handling_verify(actor=district, handling_id=handling.pk, verdict="no_basis", verification="核实：按规定办理",
                    explanation="已向群众解释政策依据")
    handling_follow_up(actor=district, handling_id=handling.pk, satisfied=True, result="电话回访，群众表示理解")
    fl = followup_list_build(day=d["today"], area=areas[GULOU], sample_rate=Decimal("0"), seed=1)
    assert not fl.items.filter(evaluation=d["unsatisfied"]).exists()
    assert fl.items.filter(reason="multi_trip").exists()  # the rest of the list is unchanged

    # A retry: the other district's unsatisfied review was unreached on its list; its handling
    # then reaches the citizen; the next day's list does not call again.
    from conftest import TAIJIANG

    tj_list = followup_list_build(day=d["today"], area=areas[TAIJIANG], sample_rate=Decimal("0"), seed=1)
    entry = tj_list.items.get(reason="unsatisfied")
    followup_record(actor=principal(make_user("followup_agent", TAIJIANG)), followup_id=entry.pk, outcome="unreached")
    other = BadReviewHandling.objects.get(evaluation=d["other"])
    tj_admin = principal(make_user("district_admin", TAIJIANG))
    handling_verify(actor=tj_admin, handling_id=other.pk, verdict="no_basis", verification="核实",
                    explanation="解释说明")
    handling_follow_up(actor=tj_admin, handling_id=other.pk, satisfied=False, result="上门回访")
    next_day = followup_list_build(day=d["today"] + timedelta(days=1), area=areas[TAIJIANG], sample_rate=Decimal("0"),
                                   seed=1)
    assert not next_day.items.filter(case=entry.case).exists()


def test_building_a_list_checks_the_callers_capability_itself(day_built, areas, agent, make_user):
    """followup_list_build refuses on its own (not relying on the view): a clerk of the district
    has no FOLLOWUP_WORK (403), another district's agent is outside the scope (404), even for a
    list that exists already."""
    from bianmin.core.errors import Forbidden, NotFound
    from bianmin.followups.services import followup_list_build

    d = day_built
    followup_list_build(day=d["today"], area=areas[GULOU], actor=principal(agent), sample_rate=Decimal("0"), seed=1)
    clerk = principal(make_user("window_clerk", GULOU))
    with pytest.raises(Forbidden):
        followup_list_build(day=d["today"], area=areas[GULOU], actor=clerk)
    with pytest.raises(NotFound):
        followup_list_build(day=d["today"], area=areas[GULOU], actor=principal(make_user("followup_agent", "350103000000")))


def test_working_an_entry(client, login, day_built, areas, agent, make_user, django_capture_on_commit_callbacks):
    from bianmin.followups.models import BadReviewHandling, Rectification
    from bianmin.followups.services import followup_list_build, handlings_open_missing

    handlings_open_missing()
    fl = followup_list_build(day=day_built["today"], area=areas[GULOU], sample_rate=Decimal("0"), seed=1)
    entry = fl.items.get(reason="unsatisfied")
    login(agent)
    page = client.get(f"/followups/lists/{fl.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "不满意评价必回访" in body and "跑多趟办理回访" in body
    assert entry.contact_phone not in body  # masked in the list
    missing = client.post(f"/followups/items/{entry.pk}/", {"outcome": "reached", "notes": "已联系"})
    assert missing.status_code == 422 and "满意度" in missing.content.decode()
    ok = client.post(f"/followups/items/{entry.pk}/", {
        "outcome": "reached", "satisfaction": "unsatisfied", "notes": "群众反映等候时间长",
        "problem": "高峰时段只开一个综合窗口", "measure": "高峰时段增开窗口", "owner_name": "李科长"})
    assert ok.status_code == 302
    entry.refresh_from_db()
    rect = Rectification.objects.get(source="follow_up")
    assert entry.rectification == rect and rect.working_days == 10 and rect.source_ref == f"followup:{entry.pk}"
    # a reached call counts as the bad review's follow-up
    assert BadReviewHandling.objects.get(evaluation=day_built["unsatisfied"]).followed_up_at is not None
    twice = client.post(f"/followups/items/{entry.pk}/", {"outcome": "refused"})
    assert twice.status_code == 409
    # another district's agent reaches neither the list nor the entry
    login(make_user("followup_agent", "350103000000"))
    assert client.get(f"/followups/lists/{fl.pk}/").status_code == 404
    assert client.post(f"/followups/items/{entry.pk}/", {"outcome": "refused"}).status_code == 404


def test_unmasking_the_phone_is_audited(client, login, day_built, areas, agent):
    from bianmin.core.models import AuditEntry
    from bianmin.followups.services import followup_list_build

    fl = followup_list_build(day=day_built["today"], area=areas[GULOU], sample_rate=Decimal("0"), seed=1)
    entry = fl.items.get(reason="unsatisfied")
    login(agent)
    resp = client.post(f"/followups/items/{entry.pk}/unmask/")
    assert resp.status_code == 200 and entry.contact_phone in resp.content.decode()
    assert AuditEntry.objects.filter(action="unmask", target_id=str(entry.pk)).exists()


def test_home_visit_and_ledgers_with_xlsx(client, login, areas, agent, calendar):
    from openpyxl import load_workbook

    login(agent)
    resp = client.post("/followups/visits/new/", {
        "area": GULOU, "method": "visit", "contact_name": "陈大爷", "contact_phone": "13600002222",
        "address": "鼓东街道某小区", "outcome": "reached", "satisfaction": "basic",
        "notes": "对办事环境满意，反映等候区座椅不足", "problem": "等候区座椅不足", "measure": "增配座椅", "owner_name": "张主任"})
    assert resp.status_code == 302
    page = client.get("/followups/ledgers/followups/")
    assert page.status_code == 200 and "上门回访" in page.content.decode() and "陈**" in page.content.decode()
    xlsx = client.get("/followups/ledgers/followups/?format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[0][:4] == ("序号", "回访日期", "回访方式", "回访原因")
    assert rows[1][2] == "上门回访" and rows[1][6] == "陈**" and rows[1][7] == "136****2222"
    problems = list(load_workbook(io.BytesIO(client.get("/followups/ledgers/problems/?format=xlsx").content)).active.values)
    assert problems[1][5] == "等候区座椅不足"
    rect_page = client.get("/followups/ledgers/rectifications/")
    assert rect_page.status_code == 200 and "增配座椅" in rect_page.content.decode()
    rects = list(load_workbook(io.BytesIO(client.get("/followups/ledgers/rectifications/?format=xlsx").content)).active.values)
    assert rects[0][0] == "台账编号" and rects[1][6] == "增配座椅" and rects[1][7] == "张主任" and rects[1][8] == 10
    bad = client.post("/followups/visits/new/", {"area": GULOU, "method": "visit", "contact_name": ""})
    assert bad.status_code == 422 and "请填写回访对象" in bad.content.decode()


def test_appeal_rectification_requests_are_consumed(areas, make_user):
    from bianmin.appeals.models import RectificationRequest
    from bianmin.followups.models import Rectification
    from bianmin.followups.services import rectifications_from_appeal_requests

    today = timezone.localdate()
    req = RectificationRequest.objects.create(group_by="item", group_key="1", group_label="最低生活保障", period_start=today,
                                              period_end=today, appeal_count=5, area=areas[GULOU])
    assert rectifications_from_appeal_requests() == 1
    rect = Rectification.objects.get(source="appeal_group")
    req.refresh_from_db()
    assert req.status == "accepted" and req.ledger_ref == rect.number and "最低生活保障" in rect.problem
    assert rectifications_from_appeal_requests() == 0


def test_questionnaire_send_answer_export(client, login, agent, areas):
    from openpyxl import load_workbook

    from bianmin.core.models import OutboxMessage
    from bianmin.followups.models import SurveyInvitation

    login(agent)
    resp = client.post("/followups/questionnaires/", {"area": GULOU, "title": "便民服务中心满意度调查", "questions": (
        "打分|办事环境满意程度|\n单选|服务态度|满意;基本满意;不满意\n多选|希望改进|效率;指南;排队\n填空|其他意见|")})
    assert resp.status_code == 302
    qid = int(resp["Location"].rstrip("/").rsplit("/", 1)[-1])
    bad = client.post("/followups/questionnaires/", {"area": GULOU, "title": "x", "questions": "单选|只有一个选项|甲"})
    assert bad.status_code == 422
    client.post(f"/followups/questionnaires/{qid}/", {"phones": "13800001111,13800002222\n13800001111"})
    client.post(f"/followups/questionnaires/{qid}/", {"phones": "13800001111"})  # already invited: not again
    assert OutboxMessage.objects.filter(channel="sms", dedupe_key__startswith="survey:").count() == 2
    inv = SurveyInvitation.objects.get(phone="13800001111")
    client.logout()
    page = client.get(f"/followups/s/{inv.token}/")
    assert page.status_code == 200 and "便民服务中心满意度调查" in page.content.decode()
    missing = client.post(f"/followups/s/{inv.token}/", {"q1": "5"})
    assert missing.status_code == 422 and "必答" in missing.content.decode()
    wrong = client.post(f"/followups/s/{inv.token}/", {"q1": "9", "q2": "满意", "q3": ["效率"], "q4": "无"})
    assert wrong.status_code == 422
    ok = client.post(f"/followups/s/{inv.token}/", {"q1": "4", "q2": "满意", "q3": ["效率", "排队"], "q4": "希望延长午间服务"})
    assert ok.status_code == 200 and "感谢" in ok.content.decode()
    assert client.get(f"/followups/s/{inv.token}/").status_code == 410
    login(agent)
    rows = list(load_workbook(io.BytesIO(client.get(f"/followups/questionnaires/{qid}/?format=xlsx").content)).active.values)
    assert rows[1][1] == "138****1111" and rows[1][3] == 4 and rows[1][5] == "效率；排队"
    detail = client.get(f"/followups/questionnaires/{qid}/")
    assert "已答卷 1 份" in detail.content.decode()


def test_daily_command_builds_one_list_per_district_and_sweeps(completed_case, areas):
    from io import StringIO

    from django.core.management import call_command

    from bianmin.evaluations.services import evaluation_submit
    from bianmin.followups.models import BadReviewHandling, FollowUpList

    case = completed_case()
    evaluation_submit(case_id=case.pk, grade=1, channel="web", actor=None, reasons=["attitude"])  # no on-commit hook
    out = StringIO()
    call_command("followups_daily", stdout=out)
    assert "补建差评处理 1 件" in out.getvalue()
    assert BadReviewHandling.objects.count() == 1
    assert set(FollowUpList.objects.values_list("area__code", flat=True)) == {"350102000000", "350103000000"}
    call_command("followups_daily", stdout=StringIO())  # idempotent
    assert FollowUpList.objects.count() == 2
