"""Demo appeals for the demo city, through the services: a year of 12345 work orders (imported as
the hotline would send them), appeals taken by phone, at the reception room and from the
suggestion box, at every stage of the loop; some overdue and escalated. What they say comes from
demo_texts.py, in the city's mix of subjects month by month (so the analysis has trends to show);
their content class is the rule classifier's, never handed out."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from bianmin.core.validators import make_credit_code

from .demo_texts import GROUP_WEIGHTS, SEASONAL, TEXTS

OWNERS = {"350102001000": "gudong_clerk", "350102002000": "guxi_clerk"}


RECENT_DAYS = 60  # orders younger than this are left at every stage of the loop; older ones are closed


def _weights(month: int) -> list[float]:
    """Each text's weight in a month: its group's share of the city's appeals, split among the
    group's texts, times the month's seasonal factor of its class."""
    per_group: dict[str, int] = {}
    for code, *_rest in TEXTS:
        per_group[code[:2]] = per_group.get(code[:2], 0) + 1
    return [GROUP_WEIGHTS[code[:2]] / per_group[code[:2]] * SEASONAL.get(code, {}).get(month, 1.0)
            for code, *_rest in TEXTS]


def load_demo_appeals(*, seed: int = 12345, work_orders: int = 360) -> dict[str, int]:
    from bianmin.accounts.models import User
    from bianmin.accounts.principals import principal_for_user
    from bianmin.catalog.models import Department, ItemMapping
    from bianmin.regions.models import Area

    from . import importer, services
    from .models import Appeal

    if Appeal.objects.exists():
        return {"appeals": Appeal.objects.count()}
    rng = random.Random(seed)
    gulou = Area.objects.get(code="350102000000")
    townships = [Area.objects.get(code=c) for c in OWNERS]
    users = {u.username: u for u in User.objects.filter(username__in=[*OWNERS.values(), "gudong_manager", "gulou_agent",
                                                                       "gulou_admin"])}
    if len(users) < 5:
        return {"appeals": 0}  # the demo accounts are not there: nothing to hand appeals to
    codes = list(ItemMapping.objects.filter(system="hotline_12345").order_by("external_code")
                 .values_list("external_code", flat=True)[:12])

    # 1. 12345 work orders over the last year, as the hotline platform sends them.
    now = timezone.localtime()
    orders = work_orders_for(rng, now, townships, codes, work_orders)
    cleaned = importer.validate_records(orders, gulou)
    importer.upsert(cleaned, actor=None)

    # 2. Each township's clerk works its orders: assigned, called, coordinated, replied, followed up.
    manager = principal_for_user(users["gulou_admin"])
    agent = principal_for_user(users["gulou_agent"])
    departments = {a.code: list(Department.objects.filter(area__path__startswith=a.path)[:3]) for a in townships}
    recent = now - dt.timedelta(days=RECENT_DAYS)
    k = 0
    for appeal in Appeal.objects.filter(channel="hotline12345").order_by("registered_at"):
        owner = users[OWNERS[appeal.area.code]]
        me = principal_for_user(owner)
        if appeal.registered_at >= recent:
            stage, k = k % 7, k + 1
        else:
            stage = 0  # the year before: worked to the end
        if stage == 6:
            continue  # left waiting for assignment
        appeal = services.appeal_assign(actor=manager, appeal=appeal, owner=owner,
                                        co_departments=departments[appeal.area.code][:1] if appeal.pk % 3 == 0 else [])
        if stage == 5:
            continue
        if appeal.party_type != "anonymous":
            appeal = services.appeal_log_contact(actor=me, appeal=appeal, text="已电话联系诉求人，核实诉求内容并告知办理时限。")
        if stage == 4:
            continue
        dep = departments[appeal.area.code][0] if departments[appeal.area.code] else None
        appeal = services.appeal_add_note(actor=me, appeal=appeal, text="已与相关站所协调，明确办理责任和时间。", department=dep)
        if stage == 3:
            continue
        appeal = services.appeal_reply(actor=me, appeal=appeal, reply="经核实，已协调相关站所处理，并将办理结果告知诉求人。")
        if appeal.party_type == "anonymous":
            services.appeal_close(actor=me, appeal=appeal)
            continue
        satisfaction = "unsatisfied" if stage == 2 else ("basic" if stage == 1 else "satisfied")
        appeal = services.appeal_follow_up(actor=agent, appeal=appeal, satisfaction=satisfaction,
                                           resolved=satisfaction != "unsatisfied")
        if stage == 0:
            services.appeal_close(actor=me, appeal=appeal)

    # 3. Today's appeals from the other channels, taken by the 鼓东 clerk (first receiver).
    clerk = principal_for_user(users["gudong_clerk"])
    gudong = townships[0]
    services.appeal_register(actor=clerk, kind="complaint", channel="phone", area=gudong, title="取号机故障无人处理",
                             content="中心取号机上午故障，现场没有工作人员引导。", name="林女士", mobile="13905910001")
    services.appeal_register(actor=clerk, kind="help", channel="reception", area=gudong, title="残疾人证办理求助",
                             content="孩子需要办理残疾人证，不清楚流程，来诉求接待室求助。", name="陈先生", mobile="13905910002")
    services.appeal_register(actor=clerk, kind="suggestion", channel="suggestion_box", area=gudong,
                             title="建议增加母婴室", content="中心没有母婴室，带孩子办事不方便。", party_type="anonymous")
    services.appeal_register(actor=clerk, kind="consult", channel="phone", area=gudong, title="企业诉求：开办涉及多个部门",
                             content="企业开办涉及市场监管和税务，希望一次办好。", party_type="enterprise",
                             name="黄经理", mobile="13905910003", enterprise_name="福州鼓东某某贸易有限公司",
                             credit_code=make_credit_code("350102", 900))

    # 4. The daily sweep: due-soon warnings and escalation of the overdue ones.
    result = services.appeals_check_deadlines()
    return {"appeals": Appeal.objects.count(), **result}


def work_orders_for(rng: random.Random, now: dt.datetime, townships: list, codes: list[str], count: int) -> list[dict]:
    """The demo's 12345 work orders as the hotline platform pushes them. A report (举报) may come
    without a name; an enterprise's order always names its contact (the importer refuses it
    otherwise), so reports are never the enterprise's."""
    orders = []
    for n in range(count):
        # a third in the last two months (left at every stage), the rest over the year
        when = now - dt.timedelta(days=rng.randrange(0, RECENT_DAYS if n % 3 == 0 else 365), hours=rng.randrange(0, 8))
        _code, kind, title, content = rng.choices(TEXTS, weights=_weights(when.month))[0]
        area = townships[n % 2]
        enterprise = n % 6 == 0 and kind != "report"
        orders.append({
            "work_order_no": f"FZ12345{now:%Y}{n + 1:05d}", "kind": kind, "title": title, "content": content,
            "area_code": area.code, "category_code": codes[n % len(codes)] if codes and n % 5 else "12345-9999",
            "registered_at": when.strftime("%Y-%m-%d %H:%M"),
            "name": "" if kind == "report" else f"{'张王李陈林黄'[n % 6]}先生", "mobile": "" if kind == "report" else f"138{n:08d}",
            "enterprise_name": f"福州鼓楼某某科技有限公司{n}" if enterprise else "",
            "credit_code": make_credit_code("350102", 100 + n) if enterprise else "",
        })
    return orders
