"""Demo cases: about four months of 办件 across every center and village station of the demo city.

Distributions: item popularity follows a Zipf curve (the same few items — 社保, 低保, 居住证明… —
lead everywhere); ~70% of applications come to a window, ~25% online, ~5% from the provincial hall;
~13% of window cases need a second trip (跑多趟), ~10% a correction (补正), ~2% are refused, ~1.5%
withdrawn, ~4% finish late, and some open cases are overdue today.

Two paths, one set of rules:
- The demo log-ins' centers (鼓东, 鼓西) and some of their stations get their recent weeks through
  the services themselves (every check, event, audit row, acceptance counter), so the workbench
  shows live, consistent cases, transfers included.
- Everything else is written in bulk, computed with the same rule functions the services use
  (`validate_applicant`, `item_offered_at`, `due_dates`, `paused_working_days`, the acceptance
  number format and counters), with one audit row for the import. The whole load stays well
  under a minute on SQLite.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from bianmin.accounts.roles import CAPABILITIES, Role
from bianmin.catalog.models import Item
from bianmin.core.audit import audit
from bianmin.core.calendar import add_working_days, is_working_day
from bianmin.core.errors import DomainError
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Grant, Principal
from bianmin.core.validators import make_credit_code, make_id_number
from bianmin.regions.models import Area, ServiceSite

from . import services
from .deadlines import due_dates, paused_working_days
from .models import AcceptanceCounter, Case, CaseEvent, CaseMaterial, State, Suspension, Transfer, Visit
from .services import Applicant, item_offered_at, validate_applicant

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文斌辉鹏宇浩晨欣怡子涵梓轩雨桐俊熙一诺"
COMPANIES = ["福州{}科技有限公司", "福建{}贸易有限公司", "福州市{}餐饮店", "福州{}物业管理有限公司", "{}建材商行", "福州{}文化传媒有限公司"]
FIRMS = "榕城 闽江 三坊 鼓山 东街 乌山 屏山 西湖 温泉 茶亭 南门 五一 冶山 华林 北峰 新港".split()
CORRECTION_MATERIALS = ["户口簿", "结婚证", "收入证明", "房屋租赁合同", "营业执照副本", "委托书", "照片"]
REFUSALS = ["申请人不符合受理条件", "不属于本中心受理范围，已告知向区级部门申请", "申请材料与事项不符"]
DENIALS = ["经核查，家庭人均收入高于当地标准", "经核实，不符合办理条件", "信息核验未通过"]
LIVE_TOWNSHIPS = ("350102001000", "350102002000")  # 鼓东, 鼓西: the demo log-ins


def _tz_at(d: date, rng: random.Random) -> datetime:
    minutes = rng.randint(8 * 60 + 30, 17 * 60 + 15)
    return timezone.make_aware(datetime.combine(d, time(minutes // 60, minutes % 60)))


def _working_days(start: date, end: date) -> list[date]:
    out, d = [], start
    while d <= end:
        if is_working_day(d):
            out.append(d)
        d += timedelta(days=1)
    return out


def _person(rng: random.Random, n: int) -> Applicant:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    birth = date(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28))
    return Applicant(kind="person", name=name, id_number=make_id_number("350102", birth, n % 1000),
                     mobile=f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}")


def _enterprise(rng: random.Random, n: int) -> Applicant:
    contact = _person(rng, n)
    return Applicant(kind="enterprise", name=rng.choice(COMPANIES).format(rng.choice(FIRMS)),
                     credit_code=make_credit_code("350100", 10000 + n), contact_name=contact.name,
                     mobile=contact.mobile)


class _Popularity:
    """Zipf weights by standard item, the same ranking everywhere (popular items are popular
    city-wide), applied to each site's own list."""

    def __init__(self, rng: random.Random, items_by_site: dict[int, list[Item]]):
        codes = sorted({i.standard_item.code for its in items_by_site.values() for i in its})
        rng.shuffle(codes)
        rank = {c: r for r, c in enumerate(codes)}
        self.table = {}
        for site_id, its in items_by_site.items():
            weights = [1.0 / (rank[i.standard_item.code] + 1) ** 1.1 for i in its]
            self.table[site_id] = (its, weights)

    def pick(self, rng: random.Random, site_id: int) -> Item:
        its, weights = self.table[site_id]
        return rng.choices(its, weights)[0]


def _demo_actor(city: Area) -> Principal:
    return Principal(label="演示数据", grants=[Grant(city.path, CAPABILITIES[Role.CITY_ADMIN])])


def load_demo_cases(*, days: int = 120, per_center: float = 1.2, per_station: float = 0.4, live_rate: float = 5.0,
                    today: date | None = None, seed: int = 2026) -> dict[str, int]:
    """Load the demo cases. Idempotent: does nothing when cases exist."""
    if Case.objects.exists():
        return {"cases": Case.objects.count(), "skipped": 1}
    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    if city is None:
        return {"cases": 0}
    rng = random.Random(seed)
    today = today or timezone.localdate()
    days_list = _working_days(today - timedelta(days=days), today)
    sites = list(ServiceSite.objects.filter(active=True, kind__in=("center", "station")).select_related("area"))
    items_by_site: dict[int, list[Item]] = defaultdict(list)
    for item in (Item.objects.filter(active=True, site__isnull=False, standard_item__is_classified=False,
                                     standard_item__active=True)
                 .select_related("standard_item", "window", "transfer_to_site").prefetch_related("standard_item__materials")):
        items_by_site[item.site_id].append(item)
    sites = [s for s in sites if items_by_site.get(s.pk)]
    if not sites:
        return {"cases": 0}
    popularity = _Popularity(rng, items_by_site)
    live_sites = {s.pk for s in sites if s.area.path.startswith(tuple(f"{city.code}/350102000000/{t}/" for t in LIVE_TOWNSHIPS))
                  or any(s.area.code == t for t in LIVE_TOWNSHIPS)}
    live_from = days_list[-15] if len(days_list) >= 15 else days_list[0]

    import time

    t0 = time.monotonic()
    bulk = _Bulk(rng, today)
    n = 0
    for site in sites:
        rate = per_center if site.kind == "center" else per_station
        for d in days_list:
            if site.pk in live_sites and d >= live_from:
                continue  # the services path below
            for _ in range(_poisson(rng, rate)):
                n += 1
                bulk.add(site, popularity.pick(rng, site.pk), d, n)
    t1 = time.monotonic()
    counts = bulk.flush()
    t2 = time.monotonic()
    counts["live"] = _load_live(rng, [s for s in sites if s.pk in live_sites], popularity, days_list, live_from,
                                today, city, n, live_rate)
    t3 = time.monotonic()
    counts["overdue_marked"] = services.cases_mark_overdue(today=today)
    counts["cases"] = Case.objects.count()
    counts["seconds"] = {"compute": round(t1 - t0, 1), "insert": round(t2 - t1, 1), "live": round(t3 - t2, 1),
                         "overdue": round(time.monotonic() - t3, 1)}
    return counts


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: small rates only.
    import math

    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class _Bulk:
    """Cases computed in memory with the services' rule functions, then inserted in batches."""

    def __init__(self, rng: random.Random, today: date):
        self.rng = rng
        self.today = today
        self.rows: list[tuple[Case, list[CaseEvent], list[Visit], list[Suspension]]] = []
        self.counters: dict[tuple[int, date], int] = defaultdict(int)
        self.transfers: list[tuple[Case, Transfer]] = []

    def add(self, site: ServiceSite, item: Item, day: date, n: int) -> None:
        rng = self.rng
        if not item_offered_at(item, site):
            return
        applicant = validate_applicant(_enterprise(rng, n) if rng.random() < 0.15 else _person(rng, n))
        r = rng.random()
        channel = Case.Channel.WINDOW if r < 0.70 else Case.Channel.ONLINE if r < 0.95 else Case.Channel.API
        standard = item.standard_item
        submitted_at = _tz_at(day, rng)
        case = Case(
            item=item, site=site, received_site=site, window=item.window if item.window_id else None, channel=channel,
            external_source="fj_online_hall" if channel == Case.Channel.API else "",
            external_id=f"FJ{day:%Y%m%d}{n:07d}" if channel == Case.Channel.API else "",
            external_area_id=site.area_id if channel == Case.Channel.API else None,
            applicant_kind=applicant.kind, applicant_name=applicant.name, id_number=applicant.id_number,
            credit_code=applicant.credit_code, contact_name=applicant.contact_name, mobile=applicant.mobile,
            mode=item.mode, authorized_by_id=item.authorized_by_id, legal_limit_days=standard.legal_limit_days,
            promised_limit_days=item.promised_limit_days, submitted_at=submitted_at, state=State.SUBMITTED,
        )
        events: list[CaseEvent] = [CaseEvent(type="submitted", at=submitted_at, actor_label="演示数据",
                                             data={"channel": channel})]
        visits: list[Visit] = []
        suspensions: list[Suspension] = []
        trips = 0
        if channel == Case.Channel.WINDOW:
            trips = 1 + (rng.random() < 0.13) + (rng.random() < 0.03)
        elif rng.random() < 0.3:
            trips = 1  # came to collect the result
        self.rows.append((case, events, visits, suspensions))
        if item.mode == Case.Mode.TRANSFER and item.transfer_to_site_id:
            # 业务转办: the station forwards it at once; the higher site accepts and handles it.
            target = item.transfer_to_site
            moved = submitted_at + timedelta(minutes=rng.randint(10, 90))
            self.transfers.append((case, Transfer(from_site=site, to_site=target, at=moved, by_label="演示数据",
                                                  note="材料已初审，转街道中心受理")))
            events.append(CaseEvent(type="transferred", at=moved, actor_label="演示数据",
                                    data={"from_site": site.name, "to_site": target.name}))
            case.site = target
        day_of = [day]

        def step(type_, d, **data):
            at = _tz_at(d, rng) if d != day else submitted_at + timedelta(minutes=rng.randint(3, 40))
            events.append(CaseEvent(type=type_, at=at, actor_label="演示数据", data=data))
            return at

        def visit(d, purpose):
            at = _tz_at(d, rng) if d != day else submitted_at
            visits.append(Visit(site=site, at=at, purpose=purpose, recorded_by="演示数据"))
            events.append(CaseEvent(type="visit", at=at, actor_label="演示数据",
                                    data={"site": site.name, "purpose": purpose, "count": len(visits)}))

        if trips:
            visit(day, "递交申请")
        r = rng.random()
        if r < 0.02:
            case.state, case.reason = State.NOT_ACCEPTED, rng.choice(REFUSALS)
            case.completed_at, case.completed_on = step("not_accepted", day, reason=case.reason), day
            return self._trips(case, trips, visit, day_of)
        accept_day = day
        if r < 0.07:  # 补正 before acceptance: no clock yet
            back = add_working_days(day, rng.randint(1, 4))
            if back > self.today:
                case.state = State.CORRECTION
                case.state_before_correction = State.SUBMITTED
                mats = rng.sample(CORRECTION_MATERIALS, 1)
                step("correction_requested", day, materials=mats, clock_running=False)
                suspensions.append(Suspension(reason="补正材料", missing_materials=mats, started_on=day,
                                              clock_running=False))
                return self._trips(case, trips, visit, day_of)
            mats = rng.sample(CORRECTION_MATERIALS, 1)
            step("correction_requested", day, materials=mats, clock_running=False)
            suspensions.append(Suspension(reason="补正材料", missing_materials=mats, started_on=day, ended_on=back,
                                          clock_running=False))
            step("correction_received", back, paused_days=0)
            accept_day = back
            if channel == Case.Channel.WINDOW:
                visit(back, "补交材料")
        if accept_day > self.today:
            return self._trips(case, trips, visit, day_of)
        handling = case.site
        self.counters[(handling.pk, accept_day)] += 1
        case.acceptance_number = f"{handling.code}-{accept_day:%Y%m%d}-{self.counters[(handling.pk, accept_day)]:04d}"
        case.state = State.ACCEPTED
        case.accepted_on = accept_day
        case.promised_due_on, case.legal_due_on = due_dates(
            accepted_on=accept_day, legal_limit_days=case.legal_limit_days, promised_limit_days=case.promised_limit_days)
        case.accepted_at = step("accepted", accept_day, number=case.acceptance_number,
                                promised_due_on=case.promised_due_on.isoformat(),
                                legal_due_on=case.legal_due_on.isoformat())
        if rng.random() < 0.015:
            wd = add_working_days(accept_day, rng.randint(0, 3))
            if wd <= self.today:
                case.state, case.reason = State.WITHDRAWN, "申请人主动撤回"
                case.completed_at, case.completed_on = step("withdrawn", wd, reason=case.reason), wd
                return self._trips(case, trips, visit, day_of)
        limit = case.promised_limit_days
        if limit == 0:
            finish = accept_day
        else:
            finish = add_working_days(accept_day, rng.randint(max(1, limit // 3), limit)
                                      if rng.random() > 0.04 else limit + rng.randint(1, 3))
        start_day = accept_day if limit == 0 else add_working_days(accept_day, min(1, limit))
        if start_day <= self.today and limit:
            case.state = State.IN_PROGRESS
            step("started", start_day)
        if limit and rng.random() < 0.05 and start_day <= self.today:  # 补正 while handling: the clock pauses
            ask = start_day
            back = add_working_days(ask, rng.randint(1, 5))
            mats = rng.sample(CORRECTION_MATERIALS, rng.choice((1, 2)))
            step("correction_requested", ask, materials=mats, clock_running=True)
            if back > self.today:
                case.state_before_correction, case.state = case.state, State.CORRECTION
                case.suspended_since = ask
                suspensions.append(Suspension(reason="补正材料", missing_materials=mats, started_on=ask))
                return self._trips(case, trips, visit, day_of)
            paused = paused_working_days(ask, back)
            suspensions.append(Suspension(reason="补正材料", missing_materials=mats, started_on=ask, ended_on=back,
                                          working_days=paused))
            step("correction_received", back, paused_days=paused)
            case.suspended_days += paused
            case.promised_due_on, case.legal_due_on = due_dates(
                accepted_on=accept_day, legal_limit_days=case.legal_limit_days,
                promised_limit_days=limit, paused_days=case.suspended_days)
            finish = add_working_days(finish, paused)
            if channel == Case.Channel.WINDOW:
                visit(back, "补交材料")
        if finish <= self.today:
            denied = rng.random() < 0.03
            case.state = State.COMPLETED
            case.result = Case.Result.DENIED if denied else Case.Result.APPROVED
            case.reason = rng.choice(DENIALS) if denied else ""
            case.completed_at = step("completed", finish, result=case.result, reason=case.reason,
                                     on_time=finish <= case.promised_due_on)
            case.completed_on = finish
            day_of[0] = finish
        return self._trips(case, trips, visit, day_of)

    def _trips(self, case, trips, visit, day_of):
        # Extra trips beyond those already recorded: 跑多趟 (a later day, up to the last step).
        while len([e for e in self.rows[-1][1] if e.type == "visit"]) < trips:
            visit(min(self.today, add_working_days(case.submitted_at.date(), self.rng.randint(1, 5))),
                  self.rng.choice(("补充说明情况", "领取结果", "补交材料")))

    @transaction.atomic
    def flush(self) -> dict[str, int]:
        cases = [r[0] for r in self.rows]
        for case, events, visits, _s in self.rows:
            case.visit_count = len(visits)
            events.sort(key=lambda e: e.at)
        Case.objects.bulk_create(cases, batch_size=1000)
        events, visits, suspensions, materials = [], [], [], []
        for case, evs, vis, sus in self.rows:
            for e in evs:
                e.case_id = case.pk
            for v in vis:
                v.case_id = case.pk
            for s in sus:
                s.case_id = case.pk
            events += evs
            visits += vis
            suspensions += sus
            received = case.state not in (State.SUBMITTED, State.NOT_ACCEPTED, State.CORRECTION)
            for i, m in enumerate(case.item.standard_item.materials.all()):
                materials.append(CaseMaterial(case_id=case.pk, name=m.name, required=m.required,
                                              trust_level=m.trust_level, position=i, received=received))
        CaseEvent.objects.bulk_create(events, batch_size=2000)
        Visit.objects.bulk_create(visits, batch_size=2000)
        Suspension.objects.bulk_create(suspensions, batch_size=2000)
        CaseMaterial.objects.bulk_create(materials, batch_size=2000)
        for case, transfer in self.transfers:
            transfer.case_id = case.pk
        Transfer.objects.bulk_create([t for _c, t in self.transfers], batch_size=2000)
        AcceptanceCounter.objects.bulk_create(
            [AcceptanceCounter(site_id=s, day=d, last=v) for (s, d), v in self.counters.items()], batch_size=2000)
        audit(actor=None, action=AuditEntry.Action.IMPORT, target_type="cases.case", label="演示办件",
              changes={"cases": len(cases), "events": len(events), "visits": len(visits)})
        return {"bulk": len(cases), "events": len(events), "visits": len(visits), "materials": len(materials)}


def _load_live(rng, sites, popularity, days_list, live_from, today, city, n, live_rate) -> int:
    """Recent weeks of the demo log-ins' centers and stations, through the services."""
    from bianmin.accounts.models import User

    actor = _demo_actor(city)
    owners = {u.username: u for u in User.objects.filter(username__in=["gudong_clerk", "guxi_clerk"])}
    created = 0
    for site in sites:
        owner = None
        if site.kind == "center":
            owner = owners.get("gudong_clerk" if site.area.code == LIVE_TOWNSHIPS[0] else "guxi_clerk")
        rate = live_rate if site.kind == "center" else live_rate / 10
        for d in [x for x in days_list if x >= live_from]:
            for _ in range(_poisson(rng, rate)):
                n += 1
                item = popularity.pick(rng, site.pk)
                try:
                    _live_case(rng, actor, owner, site, item, d, today, n)
                    created += 1
                except DomainError:  # a rule said no: the demo skips that case
                    continue
    return created


def _live_case(rng, actor, owner, site, item, day, today, n):
    applicant = _enterprise(rng, n) if rng.random() < 0.15 else _person(rng, n)
    channel = Case.Channel.WINDOW if rng.random() < 0.75 else Case.Channel.ONLINE
    t = _tz_at(day, rng)
    case = services.case_submit(actor=actor, site=site, item=item, applicant=applicant, channel=channel, now=t)
    if owner is not None:
        services.case_assign(actor=actor, case_id=case.pk, owner=owner, now=t + timedelta(minutes=1))
    step = t

    def later(days=0, minutes=20):
        nonlocal step
        d = add_working_days(step.date(), days) if days else step.date()
        step = max(step + timedelta(minutes=minutes), _tz_at(d, rng)) if days else step + timedelta(minutes=minutes)
        return step

    if item.mode == Case.Mode.TRANSFER:
        services.case_transfer(actor=actor, case_id=case.pk, note="材料已初审，转街道中心受理", now=later())
    r = rng.random()
    if r < 0.03:
        services.case_reject(actor=actor, case_id=case.pk, reason=rng.choice(REFUSALS), now=later())
        return
    if r < 0.12:
        services.case_request_correction(actor=actor, case_id=case.pk, materials=rng.sample(CORRECTION_MATERIALS, 1),
                                         now=later())
        back = later(rng.randint(1, 4))
        if back.date() > today:
            return
        services.case_receive_correction(actor=actor, case_id=case.pk, now=back)
        if channel == Case.Channel.WINDOW:
            services.case_visit_record(actor=actor, case_id=case.pk, purpose="补交材料", now=back)
    if step.date() > today or rng.random() < 0.06:
        return  # waiting to be accepted
    for material in case.materials.filter(required=True):
        services.case_material_attach(actor=actor, case_id=case.pk, material_id=material.pk, now=later(minutes=2))
    services.case_accept(actor=actor, case_id=case.pk, now=later())
    limit = item.promised_limit_days
    if limit == 0:
        services.case_complete(actor=actor, case_id=case.pk, result="approved", now=later())
        return
    start = later(1)
    if start.date() > today:
        return
    services.case_start(actor=actor, case_id=case.pk, now=start)
    if rng.random() < 0.08:
        services.case_request_correction(actor=actor, case_id=case.pk,
                                         materials=rng.sample(CORRECTION_MATERIALS, 2), now=later())
        back = later(rng.randint(1, 5))
        if back.date() > today:
            return
        services.case_receive_correction(actor=actor, case_id=case.pk, now=back)
        if channel == Case.Channel.WINDOW:
            services.case_visit_record(actor=actor, case_id=case.pk, purpose="补交材料", now=back)
    span = rng.randint(max(1, limit // 3), limit) if rng.random() > 0.06 else limit + rng.randint(1, 3)
    finish = later(span)
    if finish.date() > today:
        if channel == Case.Channel.WINDOW and rng.random() < 0.1:
            services.case_visit_record(actor=actor, case_id=case.pk, purpose="补充说明情况", now=later())
        return
    services.case_complete(actor=actor, case_id=case.pk, result="approved", now=finish)
    if channel == Case.Channel.WINDOW and rng.random() < 0.12:
        services.case_visit_record(actor=actor, case_id=case.pk, purpose="领取结果", now=finish)
