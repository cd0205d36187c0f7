"""Demo data of engagement, through the services: the seed's proposal 214036 from intake to its
signed class-B reply and the member's rating, a suggestion in handling with a 会办 unit, the year's
quarterly symposiums of the city and 鼓楼区 with representatives, a held one with its opinions (one
answered, one in the rectification ledger), a training for the switch to the 工程建设项目审批管理系统
with registrations and feedback, and a 民意诉求征集 campaign over 鼓楼区's centers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from . import seed_proposal as SEED

CITY = "350100000000"
GULOU = "350102000000"


def _principal(username: str):
    from bianmin.accounts.models import User
    from bianmin.accounts.principals import principal_for_user

    user = User.objects.filter(username=username).first()
    return principal_for_user(user) if user else None


def enter_seed_proposal(*, handler, leader, area, rate: bool = True):
    """The seed's proposal entered as a handler would: intake, 主办 assignment, the reply with its
    adoption table, 签发 by the leader, then the member's rating. Returns the reply."""
    from . import services

    p = services.proposal_intake(actor=handler, area=area, **SEED.PROPOSAL)
    (a,) = services.proposal_assign(actor=handler, proposal_id=p.pk, assigned_on=SEED.ASSIGNED_ON,
                                    units=[{"role": "lead", "area": area, "unit_name": SEED.UNIT_NAME}])
    reply = services.reply_draft(actor=handler, assignment_id=a.pk, result_class=SEED.RESULT_CLASS, body=SEED.BODY,
                                 suggestions=SEED.SUGGESTIONS, plan_items=[{**it, "suggestion": 1} for it in SEED.PLAN_ITEMS],
                                 **SEED.REPLY)
    reply = services.reply_sign(actor=leader, reply_id=reply.pk)
    if rate:
        services.member_rate(actor=handler, reply_id=reply.pk, attitude="satisfied", result="satisfied",
                             rated_on=date(2021, 5, 20))
    return reply


def load_demo_engagement() -> dict[str, int]:
    from bianmin.regions.models import Area

    from .models import Proposal

    if Proposal.objects.exists():
        return {"skipped": 1}
    admin, leader = _principal("city_admin"), _principal("city_leader")
    if admin is None or leader is None:
        return {"skipped": 1}
    city = Area.objects.get(code=CITY)
    counts = {"proposals": 0}
    enter_seed_proposal(handler=admin, leader=leader, area=city)
    counts["proposals"] += 1
    counts.update(_demo_suggestion(admin, city))
    counts.update(_demo_symposiums(admin, city))
    counts.update(_demo_training(admin, city))
    counts.update(_demo_campaign(admin, city))
    return counts


def _demo_suggestion(admin, city) -> dict[str, int]:
    """An NPC suggestion of this year, assigned to the committee with 鼓楼区 as 会办, its draft waiting
    for the 会签."""
    from bianmin.regions.models import Area

    from . import services

    today = timezone.localdate()
    gulou = Area.objects.get(code=GULOU)
    p = services.proposal_intake(actor=admin, area=city, kind="suggestion", session=f"市十六届人大{today.year - 2021}次会议",
                                 number=f"{today.year % 100}1057", title="关于推进村居（社区）便民服务代办点规范化建设的建议",
                                 proposer="林晓", received_on=today - timedelta(days=40),
                                 content="建议统一代办点标识、事项清单和代办流程，推动高频事项就近可办。")
    lead, joint = services.proposal_assign(
        actor=admin, proposal_id=p.pk, assigned_on=today - timedelta(days=35),
        units=[{"role": "lead", "area": city, "unit_name": "福州市行政（市民）服务中心管委会"},
               {"role": "joint", "area": gulou, "unit_name": "鼓楼区行政服务中心管委会"}])
    services.joint_opinion(actor=admin, assignment_id=joint.pk,
                           opinion="鼓楼区已在 12 个社区试点代办点标准化，建议答复中吸收试点做法。")
    services.reply_draft(actor=admin, assignment_id=lead.pk, result_class="A",
                         body="《关于推进村居（社区）便民服务代办点规范化建设的建议》收悉。现答复如下：\n一、工作情况\n"
                              "我委已制定村居（社区）便民服务代办点建设规范，统一标识和事项清单。\n二、下一步工作安排\n"
                              "1. 推广鼓楼区代办点标准化试点做法。",
                         suggestions=[{"content": "建议1：统一代办点标识和事项清单", "adoption": "adopted"},
                                      {"content": "建议2：代办员纳入编制管理", "adoption": "rejected",
                                       "reason": "代办员编制不属本单位职权，已转有关部门研究"}],
                         plan_items=[{"title": "推广代办点标准化试点做法", "content": "在全市村居（社区）推广。",
                                      "deadline_text": f"{today.year}年12月31日前", "due_on": date(today.year, 12, 31),
                                      "suggestion": 1}],
                         doc_number=f"榕行政〔{today.year}〕9号", leader_name="林蔡仁", contact_name="陈伟宏",
                         contact_phone="87526763", written_on=today, quality_rating="good")
    return {"proposals": 2}


REPRESENTATIVES = [
    ("npc", "林晓", "福州市人大代表", "13905910001"),
    ("npc", "郑永华", "鼓楼区人大代表", "13905910002"),
    ("cppcc", "黄文真", "福州市政协委员", "13905910003"),
    ("cppcc", "陈美玲", "福州市政协委员", ""),
    ("enterprise", "王建国", "福州榕城建设工程有限公司", "13905910005"),
    ("enterprise", "刘芳", "福建闽江数字科技有限公司", "13905910006"),
    ("citizen", "张秀英", "鼓东街道居民", "13905910007"),
    ("citizen", "吴伟", "鼓西街道居民", "13905910008"),
]


def _demo_symposiums(admin, city) -> dict[str, int]:
    from bianmin.regions.models import Area, ServiceSite

    from . import services

    today = timezone.localdate()
    gulou = Area.objects.get(code=GULOU)
    reps = [services.representative_create(actor=admin, area=city, kind=k, name=n, organisation=o, phone=ph)
            for k, n, o, ph in REPRESENTATIVES]
    year = today.year
    made = services.symposium_schedule(actor=admin, area=city, year=year, venue="市民服务中心 3 楼会议室")
    services.symposium_schedule(actor=admin, area=gulou, year=year, venue="鼓楼区行政服务中心会议室")
    past = [s for s in made if s.planned_on < today] or made[:1]
    s = past[-1]
    services.symposium_invite(actor=admin, symposium_id=s.pk, representative_ids=[r.pk for r in reps])
    invitations = list(s.invitations.order_by("id"))
    services.symposium_attendance(actor=admin, symposium_id=s.pk, attended_ids=[i.pk for i in invitations[:6]])
    held = min(s.planned_on, today)
    services.symposium_minutes(actor=admin, symposium_id=s.pk, held_on=held,
                               minutes="会议通报了本季度便民服务中心建设和好差评工作情况，与会代表围绕办事环境、"
                                       "企业开办、窗口服务提出意见建议，管委会逐条记录并明确办理时限。")
    o1 = services.opinion_record(actor=admin, symposium_id=s.pk, invitation_id=invitations[4].pk,
                                 content="企业开办“一件事”在乡镇中心还要跑两次，希望实现一次办结。")
    services.opinion_answer(actor=admin, opinion_id=o1.pk,
                            answer="已将企业开办“一件事”纳入乡镇中心综合窗口，材料齐全当场办结。")
    o2 = services.opinion_record(actor=admin, symposium_id=s.pk, invitation_id=invitations[6].pk,
                                 content="鼓东街道便民服务中心等候区座位少，老年人排队时间长。")
    site = ServiceSite.objects.filter(area__code="350102001000", kind="center").first()
    services.opinion_rectify(actor=admin, opinion_id=o2.pk, site=site, measure="增设等候座椅和老年人优先窗口",
                             owner_name="中心主任")
    return {"representatives": len(reps), "symposiums": 8, "opinions": 2}


def _demo_training(admin, city) -> dict[str, int]:
    from bianmin.core.validators import make_credit_code
    from bianmin.followups import services as followups

    from . import services

    today = timezone.localdate()
    t = services.training_create(
        actor=admin, area=city, title="工程建设项目审批管理系统切换企业培训会",
        topic="系统切换、人员权限配置、审批流程及办事指南维护、业务数据报送",
        starts_at=timezone.make_aware(datetime.combine(today - timedelta(days=7), time(14, 30))),
        venue="市民服务中心 2 楼培训室", capacity=60)
    enterprises = [("福州榕城建设工程有限公司", make_credit_code("350102", 101), "王建国", "13905910005", 2),
                   ("福建闽江数字科技有限公司", make_credit_code("350103", 202), "刘芳", "13905910006", 1),
                   ("福州三坊七巷文旅发展有限公司", make_credit_code("350102", 303), "陈晨", "13905910009", 3)]
    regs = [services.training_register(actor=None, token=t.token, enterprise_name=n, credit_code=c, contact_name=cn,
                                       contact_phone=ph, attendees=k) for n, c, cn, ph, k in enterprises]
    # an early Fujian pilot code (its check character does not verify), confirmed by staff
    pilot = make_credit_code("350100", 404)
    pilot = pilot[:17] + ("0" if pilot[17] != "0" else "1")
    regs.append(services.training_register(actor=admin, training_id=t.pk, enterprise_name="福州老字号茶业有限公司",
                                           credit_code=pilot, contact_name="林茶", contact_phone="13905910010",
                                           pilot_override=True))
    services.training_attendance(actor=admin, training_id=t.pk, attended_ids=[r.pk for r in regs[:3]])
    services.training_feedback_send(actor=admin, training_id=t.pk)
    t.refresh_from_db()
    inv = t.questionnaire.invitations.order_by("id").first()
    followups.survey_answer(token=inv.token, answers={"1": 5, "2": 4, "3": "满意", "4": "希望多安排上机实操"})
    return {"trainings": 1, "registrations": len(regs)}


def _demo_campaign(admin, city) -> dict[str, int]:
    from bianmin.regions.models import Area, ServiceSite

    from . import services

    today = timezone.localdate()
    gulou = Area.objects.get(code=GULOU)
    sites = list(ServiceSite.objects.filter(area__path__startswith=gulou.path, kind="center").order_by("code")[:3])
    if not sites:
        return {"campaigns": 0}
    c = services.campaign_create(actor=admin, area=gulou, title=f"{today.year}年鼓楼区便民服务中心民意诉求征集",
                                 starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=20), sites=sites)
    answers = [("满意", "满意", "满意", "满意", ""), ("满意", "基本满意", "不满意", "基本满意", "办理不动产登记等了一个多小时"),
               ("基本满意", "满意", "满意", "满意", "")]
    for cs in c.sites.all():
        for a in answers:
            services.campaign_answer_qr(token=cs.token, answers={str(i + 1): v for i, v in enumerate(a)})
    agent = _principal("gulou_agent") or admin
    services.campaign_entry_record(actor=agent, campaign_id=c.pk, site=sites[0], channel="visit", contact_name="张秀英",
                                   contact_phone="13905910007",
                                   answers={"1": "满意", "2": "满意", "3": "基本满意", "4": "满意", "5": ""},
                                   notes="上门回访，居民对窗口服务总体满意。")
    services.campaign_entry_record(actor=agent, campaign_id=c.pk, site=sites[-1], channel="call", contact_name="吴伟",
                                   contact_phone="13905910008",
                                   answers={"1": "不满意", "2": "基本满意", "3": "基本满意", "4": "基本满意", "5": ""},
                                   notes="电话回访", problem="中心门口无障碍坡道破损，轮椅进出不便。",
                                   measure="修复无障碍坡道", owner_name="中心负责人")
    services.campaign_finding_raise(actor=admin, campaign_id=c.pk, site=sites[0],
                                    problem="服务时效满意率偏低：群众反映高峰时段排队时间长。",
                                    measure="高峰时段增开综合窗口，推行预约办理", owner_name="中心主任")
    return {"campaigns": 1}
