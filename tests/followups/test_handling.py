"""Bad-review handling: opened on commit of a bad review, verify → rectify/explain → follow up
→ close (outcome reported upward after the evaluation, in order), appeals decided by the level
above, due-soon/overdue flags, nothing deleted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import GULOU
from django.utils import timezone
from evaluations.conftest import principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    from conftest import GUDONG

    return make_user("center_manager", GUDONG, username="gd_manager")


@pytest.fixture
def agent(make_user):
    return make_user("followup_agent", GULOU, username="gl_agent")


@pytest.fixture
def district_admin(make_user):
    return make_user("district_admin", GULOU, username="gl_admin")


def test_bad_review_opens_handling_good_one_does_not(bad_review, completed_case, django_capture_on_commit_callbacks):
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.followups.models import BadReviewHandling

    e = bad_review()
    h = BadReviewHandling.objects.get(evaluation=e)
    assert h.status == "open" and h.site_id == e.site_id and h.events.get().kind == "opened"
    case = completed_case()
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(case_id=case.pk, grade=4, channel="web", actor=None)
    assert BadReviewHandling.objects.count() == 1


def test_sweep_opens_what_a_lost_signal_missed(completed_case):
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.followups.models import BadReviewHandling
    from bianmin.followups.services import handlings_open_missing

    case = completed_case()
    evaluation_submit(case_id=case.pk, grade=2, channel="web", actor=None, reasons=["slow"])  # on-commit not run
    assert not BadReviewHandling.objects.exists()
    assert handlings_open_missing() == 1
    assert handlings_open_missing() == 0
    assert BadReviewHandling.objects.count() == 1


def test_full_handling_and_ordered_reports_upward(bad_review, manager, agent, calendar):
    from bianmin.core.calendar import add_working_days
    from bianmin.core.models import OutboxMessage
    from bianmin.evaluations.models import ProvincialReport
    from bianmin.followups import services
    from bianmin.followups.models import Rectification

    e = bad_review()
    h = e.handling
    actor = principal(manager)
    h = services.handling_verify(actor=actor, handling_id=h.pk, verdict="confirmed", verification="监控显示态度生硬",
                                 measure="窗口人员服务规范培训", owner_name="王主任")
    rect = h.rectification
    assert h.status == "rectifying" and rect.source == "bad_review" and rect.working_days == 10
    assert rect.deadline == add_working_days(timezone.localdate(), 10)
    services.rectification_complete(actor=actor, rectification_id=rect.pk, result="已完成培训并考核")
    h.refresh_from_db()
    assert h.status == "rectified"
    services.handling_follow_up(actor=principal(agent), handling_id=h.pk, satisfied=True, result="群众表示认可")
    services.handling_close(actor=actor, handling_id=h.pk)
    h.refresh_from_db()
    assert h.status == "closed" and Rectification.objects.get().on_time is True
    kinds = [ev.kind for ev in h.events.all()]
    assert kinds == ["opened", "verified", "rectification", "rectified", "followed_up", "closed"]
    reports = list(ProvincialReport.objects.filter(evaluation=e).order_by("message_id"))
    assert [r.event for r in reports] == ["evaluation", "outcome"]
    messages = OutboxMessage.objects.filter(channel="provincial_eval").order_by("id")
    assert {m.ordering_key for m in messages} == {f"case:{e.case_id}"}
    assert messages.last().payload["outcome"]["rectification"]["result"] == "已完成培训并考核"


def test_verify_rules(client, login, bad_review, manager, make_user):
    from conftest import GUXI

    e = bad_review()
    h = e.handling
    login(manager)
    url = f"/api/v1/followups/handlings/{h.pk}/verify"
    missing_measure = client.post(url, json.dumps({"verdict": "confirmed", "verification": "属实"}),
                                  content_type="application/json")
    assert missing_measure.status_code == 422 and missing_measure.json()["field"] == "measure"
    no_explanation = client.post(url, json.dumps({"verdict": "no_basis", "verification": "要求超出政策"}),
                                 content_type="application/json")
    assert no_explanation.status_code == 422 and no_explanation.json()["field"] == "explanation"
    h.refresh_from_db()
    assert h.status == "open" and h.rectification is None
    ok = client.post(url, json.dumps({"verdict": "no_basis", "verification": "要求超出政策",
                                      "explanation": "已向群众解释政策规定"}), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "explained"
    again = client.post(url, json.dumps({"verdict": "no_basis", "verification": "x", "explanation": "y"}),
                        content_type="application/json")
    assert again.status_code == 409
    close_early = client.post(f"/api/v1/followups/handlings/{h.pk}/close", json.dumps({}), content_type="application/json")
    assert close_early.status_code == 409
    login(make_user("center_manager", GUXI, username="gx_manager"))
    assert client.get(f"/api/v1/followups/handlings/{h.pk}").status_code == 404
    assert client.get(f"/followups/handling/{h.pk}/").status_code == 404


def test_appeal_is_decided_by_the_level_above(client, login, bad_review, manager, district_admin):
    from bianmin.evaluations.models import Evaluation

    e = bad_review()
    h = e.handling
    login(manager)
    resp = client.post(f"/api/v1/followups/handlings/{h.pk}/appeal",
                       json.dumps({"reason": "群众误评", "evidence": "监控录像显示正常办理"}), content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == "appealed"
    # the township's own manager cannot decide its appeal
    own = client.post(f"/api/v1/followups/handlings/{h.pk}/decide", json.dumps({"upheld": True, "note": "同意"}),
                      content_type="application/json")
    assert own.status_code == 403
    login(district_admin)
    ok = client.post(f"/api/v1/followups/handlings/{h.pk}/decide", json.dumps({"upheld": True, "note": "证据充分"}),
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "closed" and ok.json()["appeal_decision"] == "upheld"
    e = Evaluation.objects.get(pk=e.pk)  # kept, marked, out of the figures
    assert e.excluded is True
    day = timezone.localdate()
    from bianmin.figures.cohorts import Where, rows

    assert not rows("bad", Where(h.area.path), day - timedelta(days=30), day).filter(pk=e.pk).exists()


def test_rejected_appeal_resumes_handling(bad_review, manager, district_admin):
    from bianmin.followups import services

    h = bad_review().handling
    services.handling_appeal(actor=principal(manager), handling_id=h.pk, reason="误评", evidence="录像")
    h = services.handling_appeal_decide(actor=principal(district_admin), handling_id=h.pk, upheld=False, note="证据不足")
    assert h.status == "open" and h.appeal_decision == "rejected" and not h.evaluation.excluded


def test_due_soon_and_overdue_flags(bad_review, manager, calendar):
    from bianmin.core.calendar import add_working_days
    from bianmin.followups import selectors

    h = bad_review().handling
    today = timezone.localdate()
    assert selectors.due_flag(h, today) == "due_soon"  # verify within 1 working day
    assert selectors.due_flag(h, add_working_days(h.verify_due, 1)) == "overdue"
    from bianmin.followups import services

    h = services.handling_verify(actor=principal(manager), handling_id=h.pk, verdict="confirmed", verification="属实",
                                 measure="培训", owner_name="王", working_days=5)
    assert selectors.due_flag(h, today) == ""
    assert selectors.due_flag(h, h.rectification.deadline) == "due_soon"
    assert selectors.due_flag(h, h.rectification.deadline + timedelta(days=1)) == "overdue"


def test_handling_pages_as_a_manager(client, login, bad_review, manager):
    h = bad_review().handling
    login(manager)
    page = client.get("/followups/handling/")
    assert page.status_code == 200 and "差评处理" in page.content.decode()
    detail = client.get(f"/followups/handling/{h.pk}/")
    assert detail.status_code == 200 and "核实" in detail.content.decode() and "态度冷淡" in detail.content.decode()
    bad = client.post(f"/followups/handling/{h.pk}/", {"action": "verify", "verdict": "confirmed", "verification": "属实"})
    assert bad.status_code == 422 and "请填写整改措施" in bad.content.decode()
    ok = client.post(f"/followups/handling/{h.pk}/", {"action": "verify", "verdict": "confirmed", "verification": "属实",
                                                       "measure": "培训", "owner_name": "王主任"})
    assert ok.status_code == 302
    h.refresh_from_db()
    assert h.status == "rectifying"


def test_the_level_that_decides_an_appeal_cannot_file_it(client, login, bad_review, district_admin):
    from bianmin.followups.models import BadReviewHandling, HandlingEvent

    h = bad_review().handling
    login(district_admin)
    resp = client.post(f"/api/v1/followups/handlings/{h.pk}/appeal",
                       json.dumps({"reason": "群众误评", "evidence": "监控录像"}), content_type="application/json")
    assert resp.status_code == 403 and "复核" in resp.json()["message"]
    h = BadReviewHandling.objects.get(pk=h.pk)
    assert h.status == "open" and h.appealed_at is None
    assert not HandlingEvent.objects.filter(handling=h, kind="appealed").exists()


def _forms(html: str) -> set[str]:
    import re

    return set(re.findall(r'name="action" value="([a-z_]+)"', html))


def test_each_viewer_sees_only_the_forms_they_may_use(client, login, bad_review, manager, agent, clerks):
    """Issue 22.7: the clerk complained about and the 回访员 were shown 核实/申诉/回访 forms and then
    got "未找到该记录"; the 回访员 could not record the 回访 at all."""
    from bianmin.followups import services

    e = bad_review()
    url = f"/followups/handling/{e.handling.pk}/"
    login(clerks["gudong"])
    assert _forms(client.get(url).content.decode()) == set()
    login(agent)
    assert _forms(client.get(url).content.decode()) == set()  # nothing to call about yet
    login(manager)
    assert _forms(client.get(url).content.decode()) == {"verify", "appeal"}
    h = services.handling_verify(actor=principal(manager), handling_id=e.handling.pk, verdict="no_basis",
                                 verification="超出政策范围", explanation="已向群众解释政策")
    assert _forms(client.get(url).content.decode()) == {"appeal"}  # the 回访 is not the unit's
    login(agent)
    assert _forms(client.get(url).content.decode()) == {"follow_up"}
    resp = client.post(url, {"action": "follow_up", "satisfied": "1", "result": "群众表示理解"})
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.status == "followed_up" and h.events.last().kind == "followed_up"
    login(manager)
    assert _forms(client.get(url).content.decode()) == {"close", "appeal"}


def test_the_unit_complained_about_cannot_record_the_follow_up(bad_review, manager):
    from bianmin.core.errors import Forbidden
    from bianmin.followups import services

    e = bad_review()
    services.handling_verify(actor=principal(manager), handling_id=e.handling.pk, verdict="no_basis",
                             verification="超出政策范围", explanation="已解释")
    with pytest.raises(Forbidden, match="回访员"):
        services.handling_follow_up(actor=principal(manager), handling_id=e.handling.pk, satisfied=True,
                                    result="自己回访自己")


# --- the rectification ledger through the API (19.7: marking a rectification done was a page only) ---

def test_a_rectification_is_planned_and_completed_through_the_api(client, login, make_user, areas, calendar):
    from conftest import GUDONG, GUXI

    from bianmin.followups.models import Rectification
    from bianmin.followups.services import rectification_open

    rect = rectification_open(actor=None, source="other", area=areas[GUDONG], problem="窗口排队时间长")
    url = f"/api/v1/followups/rectifications/{rect.pk}"
    login(make_user("center_manager", GUDONG))
    early = client.post(f"{url}/complete", {"result": "已整改"}, content_type="application/json")
    assert early.status_code == 422 and early.json()["field"] == "measure"  # a plan first
    plan = client.post(f"{url}/plan", {"measure": "高峰时段增开窗口", "owner_name": "李科长", "working_days": 5},
                       content_type="application/json")
    assert plan.status_code == 200 and plan.json()["working_days"] == 5 and plan.json()["status"] == "open"
    done = client.post(f"{url}/complete", {"result": "已增开两个窗口"}, content_type="application/json")
    body = done.json()
    assert done.status_code == 200 and (body["status"], body["on_time"], body["result"]) == ("done", True, "已增开两个窗口")
    again = client.post(f"{url}/complete", {"result": "再次"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["message"] == "该整改已完成"
    empty = rectification_open(actor=None, source="other", area=areas[GUDONG], problem="问题", measure="措施")
    blank = client.post(f"/api/v1/followups/rectifications/{empty.pk}/complete", {"result": " "},
                        content_type="application/json")
    assert blank.status_code == 422 and blank.json()["field"] == "result" and blank.json()["message"] == "请填写整改结果"
    assert Rectification.objects.get(pk=empty.pk).status == "open"
    login(make_user("center_manager", GUXI))
    assert client.post(f"/api/v1/followups/rectifications/{empty.pk}/complete", {"result": "越权"},
                       content_type="application/json").status_code == 404


def test_typed_time_limits_and_every_bad_field_get_a_422_with_messages_next_to_the_fields(client, login, bad_review,
                                                                                       manager):
    """Issue 22.4: 整改时限 "abc" was a 500 "系统繁忙"; errors came one at a time."""
    import re

    e = bad_review()
    url = f"/followups/handling/{e.handling.pk}/"
    login(manager)
    resp = client.post(url, {"action": "verify", "verdict": "confirmed", "verification": "", "measure": "",
                             "owner_name": "", "working_days": "abc"})
    html = resp.content.decode()
    assert resp.status_code == 422 and "系统繁忙" not in html
    errors = re.findall(r'<p class="field-error">([^<]+)</p>', html)
    assert errors == ["请填写核实情况", "请填写整改措施", "请填写责任人", "整改时限请填写 1 至 90 之间的整数（工作日）"]
    e.handling.refresh_from_db()
    assert e.handling.status == "open" and not e.handling.rectification_id
    resp = client.post(url, {"action": "verify", "verdict": "confirmed", "verification": "属实", "measure": "培训",
                             "owner_name": "王主任", "working_days": "500"})
    assert resp.status_code == 422 and "整改时限应为 1 至 90 个工作日" in resp.content.decode()


def test_a_typed_time_limit_on_the_call_page_is_a_422(client, login, bad_review, make_user):
    from bianmin.followups.models import FollowUp

    e = bad_review()
    fu = FollowUp.objects.create(reason="unsatisfied", method="call", area=e.area, site=e.site, case=e.case,
                                 evaluation=e, contact_name="张三", contact_phone="13800000000")
    login(make_user("followup_agent", GULOU))
    resp = client.post(f"/followups/items/{fu.pk}/", {"outcome": "reached", "satisfaction": "unsatisfied",
                                                      "notes": "群众反映排队久", "problem": "排队久", "working_days": "abc"})
    assert resp.status_code == 422 and "整改时限请填写 1 至 90 之间的整数" in resp.content.decode()
    fu.refresh_from_db()
    assert not fu.is_done
