"""Campaigns (民意诉求征集): QR answers, staff entries after home visits or calls (a 回访 in the one
回访台账), findings in the shared rectification ledger, results per site, the three ledgers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import GULOU
from django.utils import timezone

from bianmin.core.errors import Conflict, Invalid
from bianmin.engagement import selectors, services
from bianmin.engagement.models import CampaignEntry

GOOD = {"1": "满意", "2": "满意", "3": "满意", "4": "满意", "5": ""}


@pytest.fixture
def campaign(people, areas, sites):
    today = timezone.localdate()
    return services.campaign_create(actor=people["gulou"], area=areas[GULOU], title="鼓楼区民意诉求征集",
                                    starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=10),
                                    sites=[sites["gudong"], sites["guxi"]])


def test_the_default_questionnaire_has_the_four_dimensions(campaign):
    texts = [q.text for q in campaign.questionnaire.questions.all()]
    assert [t for t in texts if "是否满意" in t] == [f"您对便民服务中心{d}是否满意？" for d in
                                                  ("办事环境", "服务态度", "服务时效", "服务质量")]


def test_questions_are_configurable(people, areas, sites):
    today = timezone.localdate()
    c = services.campaign_create(actor=people["gulou"], area=areas[GULOU], title="专项征集", starts_on=today,
                                 ends_on=today, sites=[sites["gudong"]],
                                 questions=[{"kind": "scale", "text": "窗口服务打分"}])
    assert [q.text for q in c.questionnaire.questions.all()] == ["窗口服务打分"]


def test_a_qr_answer_counts_for_its_site_and_bad_answers_write_nothing(campaign, client, sites):
    from bianmin.followups.models import SurveyInvitation

    token = campaign.sites.get(site=sites["gudong"]).token
    r = client.post(f"/api/v1/engagement/campaigns/answer/{token}", data=json.dumps({"answers": {"1": "很好"}}),
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["message"] == "第 1 题选项无效"
    assert not SurveyInvitation.objects.exists() and not CampaignEntry.objects.exists()
    r = client.post(f"/engagement/c/{token}/", {"q1": "满意", "q2": "基本满意", "q3": "不满意", "q4": "满意",
                                                "q5": "排队太久"})
    assert r.status_code == 200 and "提交成功" in r.content.decode()
    e = CampaignEntry.objects.get()
    assert e.site == sites["gudong"] and e.channel == "qr" and e.problem == "排队太久"
    assert e.response.invitation.channel == "qr" and e.response.invitation.phone == ""


def test_a_home_visit_is_a_followup_and_its_problem_reaches_the_ledger(people, campaign, sites):
    from bianmin.followups import selectors as fsel
    from bianmin.followups.models import Rectification

    e = services.campaign_entry_record(actor=people["agent"], campaign_id=campaign.pk, site=sites["gudong"],
                                       channel="visit", contact_name="张秀英", contact_phone="13905910007",
                                       answers={**GOOD, "3": "基本满意"}, notes="上门回访",
                                       problem="无障碍坡道破损", measure="修复坡道", owner_name="主任")
    fu = e.followup
    assert fu.method == "visit" and fu.site == sites["gudong"] and fu.satisfaction == "basic" and fu.outcome == "reached"
    assert fu in fsel.followup_ledger(actor=people["gulou"])
    rect = e.finding.rectification
    assert rect.source == Rectification.Source.CAMPAIGN and rect.site == sites["gudong"]
    assert list(fsel.rectification_ledger(actor=people["gulou"], source="campaign")) == [rect]
    assert not fsel.rectification_ledger(actor=people["gulou"], source="symposium").exists()


def test_a_township_agent_cannot_enter_for_another_township(people, campaign, sites, make_user):
    from bianmin.core.errors import NotFound

    from .conftest import principal

    agent = principal(make_user("followup_agent", "350102001000"))
    with pytest.raises(NotFound):
        services.campaign_entry_record(actor=agent, campaign_id=campaign.pk, site=sites["guxi"], channel="call",
                                       contact_name="某", answers=GOOD)


def test_results_per_site_and_findings(people, campaign, sites):
    for answers in (GOOD, {**GOOD, "3": "不满意"}):
        services.campaign_answer_qr(token=campaign.sites.get(site=sites["gudong"]).token, answers=answers)
    services.campaign_entry_record(actor=people["agent"], campaign_id=campaign.pk, site=sites["guxi"], channel="call",
                                   contact_name="吴伟", answers=GOOD)
    results = {r.site.code: r for r in selectors.campaign_results(actor=people["gulou"], campaign=campaign)}
    assert results["C-GUDONG"].entries == 2 and results["C-GUDONG"].rates[2][1] == "50.0%"
    assert results["C-GUXI"].by_channel == {"扫码填写": 0, "上门回访": 0, "电话回访": 1}
    f = services.campaign_finding_raise(actor=people["gulou"], campaign_id=campaign.pk, site=sites["gudong"],
                                        problem="服务时效满意率偏低", measure="高峰增开窗口", owner_name="主任")
    assert f.rectification.problem.startswith("【鼓楼区民意诉求征集】服务时效满意率偏低")
    # the township sees its own site only
    assert [r.site.code for r in selectors.campaign_results(actor=people["gudong"], campaign=campaign)] == ["C-GUDONG"]


def test_a_closed_campaign_takes_no_more_answers(people, campaign, sites):
    services.campaign_close(actor=people["gulou"], campaign_id=campaign.pk, summary="共收集问卷 3 份")
    with pytest.raises(Conflict):
        services.campaign_answer_qr(token=campaign.sites.first().token, answers=GOOD)
    with pytest.raises(Invalid):
        services.campaign_close(actor=people["gulou"], campaign_id=campaign.pk, summary="")


def test_campaign_page_and_its_ledgers(people, campaign, sites, client, login):
    from openpyxl import load_workbook

    services.campaign_entry_record(actor=people["agent"], campaign_id=campaign.pk, site=sites["gudong"], channel="call",
                                   contact_name="张秀英", contact_phone="13905910007", answers=GOOD, problem="门口坡道破损")
    c = login(people["users"]["gulou"])
    r = c.get(f"/engagement/campaigns/{campaign.pk}/")
    assert r.status_code == 200 and "139****0007" in r.content.decode() and "13905910007" not in r.content.decode()
    import io

    for ledger, title, cell in (("followups", "回访台账", "张**"), ("problems", "问题清单", "门口坡道破损"),
                                ("plan", "整改计划", "门口坡道破损")):
        r = c.get(f"/engagement/campaigns/{campaign.pk}/?ledger={ledger}&format=xlsx")
        ws = load_workbook(io.BytesIO(r.content))[title]
        values = [v for row in ws.iter_rows(values_only=True) for v in row]
        assert cell in values, ledger
    assert c.get(f"/engagement/campaigns/{campaign.pk}/?ledger=x&format=xlsx").status_code == 422
