"""Demo data of inspections, through the services: the recommended checklist, the city's schedule,
leadership lists, two past cycles (closed) and the running one, with findings and notices in
every state — waiting, overdue and reported, answered, sent back, accepted on time and late — an
on-site visit with photos, a mystery visit still hidden and one published, a phone check, and the
year's assessment. Dates are relative to today, so the demo looks the same whenever it is loaded."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Grant, Principal

CITY = "350100000000"
DISTRICTS = ("350102000000", "350103000000", "350104000000", "350111000000")  # 鼓楼 台江 仓山 晋安
REMARKS = {
    1: "功能分区标识不统一，自助区无引导标识", 2: "意见箱未公开监督投诉电话", 3: "司法所仍保留单独办事场所",
    5: "综合受理窗口未公示工作人员信息", 6: "评价器未启用", 7: "一次性告知单未留存", 8: "一名工作人员未佩戴工作牌",
    9: "AB角制度未上墙", 10: "一份卷宗缺少受理通知书", 11: "事项清单未在大厅公示", 12: "两项办事指南收费标准与实施清单不一致",
}


def _png(width: int = 64, height: int = 48, rgb=(180, 200, 220)) -> bytes:
    """A small solid-colour PNG standing in for a photo taken on site (demo only)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _at(d: date, hour: int = 10) -> datetime:
    """That hour of day ``d``, never later than now (a step "today" has not happened later today)."""
    return min(datetime.combine(d, time(hour), tzinfo=timezone.get_current_timezone()), timezone.now())


def _user_principal(username: str):
    from bianmin.accounts.models import User
    from bianmin.accounts.principals import principal_for_user

    user = User.objects.filter(username=username).first()
    return principal_for_user(user) if user else None


def _respondent(area) -> Principal:
    """The district office answering for its area (most demo districts have no log-in)."""
    return Principal(label=f"演示：{area.name}行政服务中心", grants=[Grant(area.path, frozenset({Cap.VIEW,
                                                                                                  Cap.INSPECTION_RESPOND}))])


def load_demo_inspections(*, seed: int = 2026, today: date | None = None) -> dict[str, int]:
    from bianmin.regions.models import Area, ServiceSite

    from . import services
    from .defaults import DEFAULT_CODE, DEFAULT_ITEMS, DEFAULT_NAME
    from .models import Cycle, Notice

    if Cycle.objects.exists():
        return {"skipped": 1}
    city = Area.objects.filter(code=CITY).first()
    inspector = _user_principal("city_inspector")
    if city is None or inspector is None:
        return {"cycles": 0}
    rng = random.Random(seed)
    today = today or timezone.localdate()
    template = services.template_version_create(actor=inspector, area=city, code=DEFAULT_CODE, name=DEFAULT_NAME,
                                                items=DEFAULT_ITEMS, note="推荐模板")
    services.schedule_set(actor=inspector, area=city, template_code=DEFAULT_CODE, site_kinds=["center"],
                          sites_per_district=2, cases_per_site=2)
    districts = {a.code: a for a in Area.objects.filter(code__in=DISTRICTS)}
    for code, name, title, mobile in (("350102000000", "陈立新", "鼓楼区分管副区长", "13905910001"),
                                      ("350103000000", "林海", "台江区分管副区长", "13905910002")):
        if code in districts:
            services.leader_add(actor=inspector, area=districts[code], name=name, title=title, mobile=mobile)
    gulou_admin = _user_principal("gulou_admin")
    if gulou_admin is not None and "350102000000" in districts:
        services.leader_add(actor=inspector, area=districts["350102000000"], name="鼓楼区行政服务中心主任", title="中心主任",
                            user=gulou_admin.user)

    start, end, _n = services.period_of(today, 2)
    periods = []
    for _ in range(3):
        periods.append((start, end))
        end = start - timedelta(days=1)
        start = services.period_of(end, 2)[0]
    periods.reverse()  # oldest first: two past cycles, then the running one
    counts = {"cycles": 0, "notices": 0, "checks": 0}
    items = list(template.items.all())

    def respondent_for(cycle, site):
        area = services.addressee_of(cycle.area, site.area)
        if gulou_admin is not None and gulou_admin.can(Cap.INSPECTION_RESPOND, area):
            return gulou_admin
        return _respondent(area)

    for index, (p_start, p_end) in enumerate(periods):
        running = index == len(periods) - 1
        n = (p_start.month - 1) // 2 + 1
        cycle = services.cycle_create(
            actor=None, area=city, title=f"福州市{p_start.year}年第{n}期督查（{p_start.month}—{p_end.month}月）",
            period_start=p_start, period_end=p_end, template_id=template.pk, district_codes=list(districts),
            site_kinds=["center", "station"], sites_per_district=2, cases_per_site=2, seed=seed + index, scheduled=True)
        counts["cycles"] += 1
        sample_at = _at(min(p_start + timedelta(days=1), today), 8)
        services.cycle_sample(actor=None, cycle_id=cycle.pk, now=sample_at)
        # A running cycle's reviews happened a few days ago (its notices are not yet due); a past
        # cycle's soon after its start (its notices ran their course).
        submit_day = min(p_start + timedelta(days=(today - p_start).days // 2 if running else 8), today)
        review_day = max(submit_day, today - timedelta(days=3)) if running else min(p_start + timedelta(days=12), today)
        for k, ss in enumerate(cycle.sites.select_related("site__area").order_by("district__code", "rank")):
            who = respondent_for(cycle, ss.site)
            if running and k % 4 == 3:
                continue  # still waiting for its materials
            if k % 3 == 0:
                services.material_upload(actor=who, sampled_site_id=ss.pk, title="场所照片",
                                         files=[(f"场所照片_{ss.site.code}.png", _png(rgb=(200, 190 + k, 170)))])
            services.sampled_site_submit(actor=who, sampled_site_id=ss.pk, now=_at(submit_day, 16))
            if running and k % 4 == 2:
                continue  # submitted, waiting for review
            deductions = rng.sample(sorted(REMARKS), k=1 + k % 3)
            scores = []
            for item in items:
                if item.position in deductions:
                    lost = min(item.max_score, 1 + rng.randrange(int(item.max_score) // 2 + 1))
                    scores.append({"item_id": item.pk, "score": str(item.max_score - lost), "remark": REMARKS[item.position]})
                else:
                    scores.append({"item_id": item.pk, "score": str(item.max_score)})
            services.review_score(actor=inspector, sampled_site_id=ss.pk, scores=scores)
            services.review_finish(actor=inspector, sampled_site_id=ss.pk, now=_at(review_day, 15))
        if index == 1:
            counts["checks"] += _field_checks(cycle, inspector, p_start, today)
        _answer_notices(cycle, respondent_for, inspector, rng, today=today, past=not running)
        if not running:
            services.cycle_close(actor=inspector, cycle_id=cycle.pk, now=_at(min(p_end, today), 17))
        counts["notices"] += Notice.objects.filter(cycle=cycle).count()
    counts["checks"] += _field_checks(None, inspector, periods[-1][0], today, running=True)
    counts["escalated"] = services.notices_check_overdue(today=today)
    for year in sorted({today.year, periods[0][0].year}):
        services.assessment_compute(actor=inspector, area=city, year=year, today=today)
    counts["sites"] = ServiceSite.objects.filter(pk__in=Cycle.objects.values("sites__site")).count()
    return counts


def _answer_notices(cycle, respondent_for, inspector, rng, *, today: date, past: bool) -> None:
    """Walk the cycle's notices to a spread of states (a past cycle's mostly done)."""
    from . import services
    from .models import Notice

    for i, notice in enumerate(Notice.objects.filter(cycle=cycle).select_related("site__area").order_by("number")):
        who = respondent_for(cycle, notice.site)
        state = i % 6 if past else (0, 0, 1, 5)[i % 4]
        if state == 0:
            continue  # waiting (overdue in a past cycle: reported to the leaders)
        on_time = state != 4
        answered_on = notice.deadline - timedelta(days=2) if on_time else notice.deadline + timedelta(days=3)
        answered_on = min(max(answered_on, notice.issued_on), today)
        evidence = [(f"整改佐证_{notice.number}.png", _png(rgb=(150 + i % 90, 200, 160)))]
        services.notice_answer(actor=who, notice_id=notice.pk, answer=f"已按要求整改：{notice.problem[:30]}……",
                               files=evidence, now=_at(answered_on, 11))
        if state == 1:
            continue  # answered, waiting for acceptance
        if state == 2:
            services.notice_decide(actor=inspector, notice_id=notice.pk, accept=False, note="佐证材料不足，请补充整改后照片",
                                   now=_at(answered_on, 16))
            continue  # sent back
        if state == 5:
            services.notice_decide(actor=inspector, notice_id=notice.pk, accept=False, note="整改不到位",
                                   now=_at(answered_on, 16))
            services.notice_answer(actor=who, notice_id=notice.pk, answer="已重新整改并补充照片",
                                   files=[(f"补充佐证_{notice.number}.png", _png(rgb=(120, 180, 200)))],
                                   now=_at(min(answered_on + timedelta(days=1), today), 10))
            if not past:
                continue  # answered again, waiting
        services.notice_decide(actor=inspector, notice_id=notice.pk, accept=True, note="整改到位，同意销号",
                               now=_at(min(answered_on + timedelta(days=1), today), 17))


def _field_checks(cycle, inspector, start: date, today: date, *, running: bool = False) -> int:
    from bianmin.regions.models import ServiceSite

    from . import services

    centers = {s.area.code: s for s in ServiceSite.objects.filter(kind="center", active=True, area__code__in=(
        "350102001000", "350102002000", "350103001000")).select_related("area")}
    made = 0
    if running:
        site = centers.get("350102002000")
        if site is not None:  # a mystery visit not yet published: 鼓西 cannot see it
            c = services.check_create(actor=inspector, method="mystery", site=site, at=_at(today - timedelta(days=1), 10),
                                      place=f"{site.name}办事大厅", summary="工作日上午暗访：取号后等候约 35 分钟，导办台无人。")
            services.check_finding_add(actor=inspector, check_id=c.pk, category="daily", description="导办台无人值守，群众等候时间过长")
            services.check_finish(actor=inspector, check_id=c.pk)
            made += 1
        return made
    day = start + timedelta(days=20)
    gudong = centers.get("350102001000")
    if gudong is not None:
        c = services.check_create(actor=inspector, method="onsite", site=gudong, at=_at(day, 9), cycle_id=cycle.pk,
                                  place=f"{gudong.name}一楼大厅", lat=26.0898, lng=119.2967,
                                  summary="“互联网+政务服务”考核实地查访：场所整洁，窗口设置规范。")
        for i, caption in enumerate(("大厅全景", "综合受理窗口", "自助服务区")):
            services.check_photo_add(actor=inspector, check_id=c.pk, caption=caption,
                                     files=[(f"查访照片{i + 1}.png", _png(rgb=(90 + 40 * i, 150, 200)))])
        scores = [{"item_id": it.pk, "score": str(it.max_score)} for it in cycle.template.items.all()]
        scores[7] = {"item_id": scores[7]["item_id"], "score": "8", "remark": "一名工作人员离岗未挂暂停服务牌"}
        services.check_score(actor=inspector, check_id=c.pk, scores=scores)
        services.check_finish(actor=inspector, check_id=c.pk, now=_at(day, 11))
        m = services.check_create(actor=inspector, method="mystery", site=gudong, at=_at(day + timedelta(days=3), 14),
                                  place=f"{gudong.name}办事大厅", cycle_id=None,
                                  summary="以办事群众身份咨询低保申请：工作人员一次性告知材料，服务规范。")
        services.check_finding_add(actor=inspector, check_id=m.pk, category="guides", description="大厅公示的低保办事指南为旧版本")
        services.check_finish(actor=inspector, check_id=m.pk)
        services.check_publish(actor=inspector, check_id=m.pk, now=_at(day + timedelta(days=5), 9))
        made += 2
    taijiang = centers.get("350103001000")
    if taijiang is not None:
        p = services.check_create(actor=inspector, method="phone", site=taijiang, at=_at(day + timedelta(days=1), 15),
                                  line="complaint", phone_number=taijiang.complaint_phone or "0591-83000000",
                                  answered=False, summary="工作时间连续拨打三次，无人接听。")
        services.check_finding_add(actor=inspector, check_id=p.pk, category="daily", description="监督投诉电话工作时间无人接听")
        services.check_finish(actor=inspector, check_id=p.pk, now=_at(day + timedelta(days=1), 16))
        made += 1
    return made
