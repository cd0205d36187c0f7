"""Demo data of the follow-up desk, through the services: handling records for the bad reviews
(those of 鼓楼区 and 台江区 worked through to the end or left at a realistic step, others open),
a few appeals of bad reviews, the daily lists of 鼓楼区 for the last working days with calls
recorded, home visits, and a questionnaire with answers."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError

WORKED_DISTRICTS = ("350102000000", "350103000000")  # 鼓楼区, 台江区
GULOU = "350102000000"

MEASURES = [("窗口人员服务规范专题培训并考核", "中心主任"), ("高峰时段增开综合受理窗口", "中心副主任"),
            ("更新办事指南，实行一次性告知", "业务科长"), ("增设等候区座椅和叫号屏", "综合办主任"),
            ("系统故障报修并设置应急受理流程", "信息员")]


def _principal(username: str):
    from bianmin.accounts.models import User
    from bianmin.accounts.principals import principal_for_user

    user = User.objects.filter(username=username).first()
    return principal_for_user(user) if user else None


def load_demo_followups(*, seed: int = 2026) -> dict[str, int]:
    from bianmin.followups import services
    from bianmin.followups.models import BadReviewHandling, FollowUpList
    from bianmin.regions.models import Area

    if FollowUpList.objects.exists():
        return {"skipped": 1}
    rng = random.Random(seed)
    counts = {"handlings": 0, "closed": 0, "lists": 0, "calls": 0}
    while services.handlings_open_missing():
        pass
    admin = _principal("city_admin")
    if admin is None:
        return counts
    township = _principal("gudong_manager")
    now = timezone.now()
    handlings = (BadReviewHandling.objects.filter(area__path__contains=WORKED_DISTRICTS[0])
                 | BadReviewHandling.objects.filter(area__path__contains=WORKED_DISTRICTS[1]))
    counts["handlings"] = BadReviewHandling.objects.count()
    appeals = 0
    for h in handlings.select_related("evaluation").order_by("opened_at", "id"):
        age = (now - h.evaluation.evaluated_at).days
        r = rng.random()
        try:
            if age <= 1:
                continue
            if appeals < 3 and r < 0.3 and township is not None and township.can(Cap.BADREVIEW_HANDLE, h.area):
                # filed by the township's center; the city (the level above) decides it on the 申诉 page
                services.handling_appeal(actor=township, handling_id=h.pk, reason="经调取监控核实，群众评价与实际办理情况不符",
                                         evidence="窗口监控录像、办件材料签收记录")
                appeals += 1
                continue
            if r < 0.7:
                measure, owner = rng.choice(MEASURES)
                h = services.handling_verify(actor=admin, handling_id=h.pk, verdict="confirmed",
                                             verification="经核实，群众反映情况属实", measure=measure, owner_name=owner)
            else:
                h = services.handling_verify(actor=admin, handling_id=h.pk, verdict="no_basis",
                                             verification="群众诉求超出政策规定", explanation="已电话向群众解释相关政策规定")
            if age <= 4 and rng.random() < 0.5:
                continue  # still rectifying
            if h.rectification_id:
                services.rectification_complete(actor=admin, rectification_id=h.rectification_id,
                                                result="已按整改措施落实到位")
            if rng.random() < 0.93:
                services.handling_follow_up(actor=admin, handling_id=h.pk, satisfied=rng.random() < 0.85,
                                            result="电话回访，群众对整改情况表示认可")
                services.handling_close(actor=admin, handling_id=h.pk)
                counts["closed"] += 1
        except DomainError:
            continue
    # The daily lists of 鼓楼区 for the last five days, worked by the district's agent.
    gulou = Area.objects.filter(code=GULOU).first()
    agent = _principal("gulou_agent") or admin
    today = timezone.localdate()
    if gulou is not None:
        for back in range(5, -1, -1):
            day = today - timedelta(days=back)
            fl = services.followup_list_build(day=day, area=gulou, sample_rate=Decimal("0.10"),
                                              seed=20260000 + day.toordinal() % 10000)
            counts["lists"] += 1
            if back == 0:
                continue  # today's list is the agent's work
            for f in fl.items.filter(outcome="").order_by("id"):
                x = rng.random()
                try:
                    if x < 0.15:
                        services.followup_record(actor=agent, followup_id=f.pk, outcome="unreached")
                    elif x < 0.18:
                        services.followup_record(actor=agent, followup_id=f.pk, outcome="refused")
                    else:
                        problem = "群众反映材料清单与网上指南不一致" if (f.reason == "multi_trip" and rng.random() < 0.4) else ""
                        services.followup_record(
                            actor=agent, followup_id=f.pk, outcome="reached",
                            satisfaction=rng.choice(["satisfied", "satisfied", "satisfied", "basic", "unsatisfied"]),
                            notes="电话回访，了解办事体验", problem=problem,
                            measure="核对并统一网上指南与窗口材料清单" if problem else "", owner_name="业务科长" if problem else "")
                    counts["calls"] += 1
                except DomainError:
                    continue
        for name, phone, notes in [("陈大爷", "13600001111", "上门了解老年人办事需求，希望增加帮办代办服务"),
                                   ("林女士", "13600002222", "对社区便民服务站服务满意"),
                                   ("黄先生", "13600003333", "反映停车不便")]:
            try:
                services.followup_log(actor=agent, area=gulou, method="visit", contact_name=name, contact_phone=phone,
                                      address="鼓楼区", satisfaction="satisfied" if "满意" in notes else "basic",
                                      notes=notes, problem="中心周边停车位不足" if "停车" in notes else "",
                                      measure="协调周边单位开放停车位" if "停车" in notes else "",
                                      owner_name="综合办主任" if "停车" in notes else "")
            except DomainError:
                pass
        q = services.questionnaire_create(actor=agent, area=gulou, title="便民服务中心群众满意度问卷", intro="了解您对办事环境、服务态度、服务时效和服务质量的评价。",
                                          questions=[
                                              {"kind": "scale", "text": "您对办事环境的满意程度"},
                                              {"kind": "single", "text": "工作人员服务态度", "options": ["满意", "基本满意", "不满意"]},
                                              {"kind": "multiple", "text": "您希望改进的方面", "options": ["办事效率", "办事指南", "排队等候", "网上办理"]},
                                              {"kind": "text", "text": "其他意见和建议", "required": False},
                                          ])
        phones = [f"1350000{i:04d}" for i in range(1, 9)]
        services.survey_send(actor=agent, questionnaire_id=q.pk, phones=phones)
        for inv in q.invitations.order_by("id")[:5]:
            services.survey_answer(token=inv.token, answers={
                "1": rng.choice([3, 4, 5, 5]), "2": rng.choice(["满意", "满意", "基本满意"]),
                "3": rng.sample(["办事效率", "办事指南", "排队等候", "网上办理"], 2), "4": ""})
    services.rectifications_from_appeal_requests()
    return counts
