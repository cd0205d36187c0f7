"""The demo city's kiosks: the 107-item list, a terminal at each of the 230 kiosk sites (through
the register service), synthetic registries for the certificates, a year of usage (bulk), outages
and maintenance, and a few certificates issued and one revoked through the services."""

from __future__ import annotations

import random
import time as _time
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from bianmin.catalog.models import StandardItem
from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Grant, Principal
from bianmin.core.validators import make_id_number
from bianmin.regions.models import Area, ServiceSite

from . import scale, services
from .models import KioskItem, Maintenance, Outage, Terminal

# (catalog item, certificate title, data source, validity days): the certificates printed.
CERTIFICATES = [
    ("社保缴交证明开具", "社会保险缴费证明", "social_insurance", 90),
    ("临时身份证明开具", "临时身份证明", "household", 90),
    ("无住房证明开具", "无房证明", "property", 30),
    ("医保参保缴费证明开具", "医疗保险参保缴费证明", "medical_insurance", 90),
    ("婚姻状况证明（婚姻登记记录查询）", "婚姻登记记录证明", "marriage", 30),
    ("职工基本养老保险个人权益记录查询", "社会保险个人权益记录", "social_insurance", 90),
]
CITY_LIST_SIZE = 107  # the seed: 107 high-frequency items on the terminals
EXTRA_OPTIONAL = 3  # on the list but not offered by default: areas enable them where they fit
MODELS = ["e福州 ZZ-2000 立式", "e福州 ZZ-2000 立式", "e福州 ZZ-1500 壁挂式", "政通 KS-860 立式"]
OPERATORS = ["福州市大数据发展有限公司", "中国电信福州分公司", "福建省数字福建建设运营有限公司"]
SURNAMES = "陈林黄张吴王李郑刘杨许蔡郭何翁游叶江罗潘"
GIVEN = ["建华", "丽清", "志强", "秀英", "文斌", "雅婷", "国庆", "美玲", "海峰", "晓燕", "振宇", "淑芬", "明辉", "婉婷",
         "德明", "春梅", "立新", "思远", "佳慧", "伟"]
UNITS = ["福州市鼓楼区某科技有限公司", "福建某建设集团有限公司", "福州某商贸有限公司", "灵活就业人员", "福州某医院"]


def _demo_actor(city: Area) -> Principal:
    return Principal(label="demo", grants=[Grant(city.path, frozenset({Cap.KIOSK_MANAGE, Cap.KEYS_MANAGE, Cap.UNMASK,
                                                                       Cap.VIEW}))])


def load_demo_items() -> list[KioskItem]:
    """The city list: the certificates first, then the items citizens ask about most at a kiosk
    (the catalog's main items for individuals, by department), 107 offered plus a few optional."""
    if KioskItem.objects.exists():
        return list(KioskItem.objects.all())
    by_name = {s.name: s for s in StandardItem.objects.select_related("competent_department")
               .filter(tier=StandardItem.Tier.MAIN, active=True, is_classified=False)}
    chosen: list[tuple[StandardItem, dict]] = []
    for name, title, source, days in CERTIFICATES:
        if name in by_name:
            chosen.append((by_name.pop(name), {"service": KioskItem.Service.CERTIFICATE, "certificate_title": title,
                                               "source": source, "validity_days": days}))
    rest = sorted(by_name.values(), key=lambda s: ("village" not in s.levels, s.service_object != "自然人", s.code))
    for s in rest[:CITY_LIST_SIZE + EXTRA_OPTIONAL - len(chosen)]:
        chosen.append((s, {"service": KioskItem.Service.GUIDE}))
    items = []
    for n, (s, spec) in enumerate(chosen):
        item = KioskItem(standard_item=s, position=n + 1, default_offered=n < CITY_LIST_SIZE, **spec)
        item.full_clean()
        items.append(item)
    KioskItem.objects.bulk_create(items)
    audit(actor=None, action=AuditEntry.Action.IMPORT, target_type="kiosks.kioskitem", label="自助终端事项清单（演示数据）",
          changes={"items": len(items), "default_offered": min(len(items), CITY_LIST_SIZE)})
    return list(KioskItem.objects.select_related("standard_item").order_by("position"))


def load_demo_registries(*, people: int = 400, cards: int = 60, seed: int = 2021) -> list[tuple[str, str]]:
    """Synthetic registries (户籍, 社保缴费, 不动产, 婚姻) and the demo reader's deck of cards.
    Some people of the deck have no insurance or own property: the kiosk then refuses, as it must."""
    rng = random.Random(seed)
    districts = ["350102", "350103", "350104", "350105", "350111", "350121", "350181"]
    deck = []
    today = timezone.localdate()
    for n in range(people):
        birth = date(1955 + rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28))
        id_number = make_id_number(rng.choice(districts), birth, 100 + n)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        sex = "男" if int(id_number[16]) % 2 else "女"
        services.registry_put(registry="household", id_number=id_number, name=name, data={
            "sex": sex, "birth": birth.isoformat(), "address": f"福建省福州市{rng.choice(['鼓楼区', '台江区', '仓山区', '晋安区'])}"
            f"{rng.choice(['东街', '五一北路', '杨桥中路', '福新路', '六一中路'])}{rng.randrange(1, 300)}号",
            "police": rng.choice(["福州市公安局鼓楼分局东街派出所", "福州市公安局台江分局茶亭派出所", "福州市公安局仓山分局仓前派出所"])})
        if rng.random() < 0.8:
            since = date(2005 + rng.randrange(15), 1 + rng.randrange(12), 1)
            months = []
            m = today.replace(day=1) - timedelta(days=1)
            for _ in range(24):
                base = rng.choice([4000, 5200, 6800, 8000])
                months.append({"month": m.strftime("%Y-%m"), "base": base, "personal": round(base * 0.105, 2)})
                m = m.replace(day=1) - timedelta(days=1)
            months.reverse()
            paid = (today.year - since.year) * 12 + today.month - since.month
            services.registry_put(registry="social_insurance", id_number=id_number, name=name, data={
                "unit": rng.choice(UNITS), "kinds": ["养老保险", "医疗保险", "失业保险", "工伤保险"][: rng.randrange(2, 5)],
                "since": since.strftime("%Y-%m"), "paid_months": paid, "months": months})
        if rng.random() < 0.3:
            services.registry_put(registry="property", id_number=id_number, name=name, data={
                "properties": [{"certificate": f"闽（{today.year - rng.randrange(10)}）福州市不动产权第{rng.randrange(10**7):07d}号"}]})
        if rng.random() < 0.6:
            services.registry_put(registry="marriage", id_number=id_number, name=name, data={
                "status": rng.choice(["已婚（结婚登记）", "无婚姻登记记录", "离婚（离婚登记）"]), "office": "福州市民政局婚姻登记处",
                "registered_on": f"{rng.randrange(1985, 2022)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}"})
        if n < cards:
            services.registry_put(registry="demo_card", id_number=id_number, name=name, data={"id_number": id_number})
            deck.append((id_number, name))
    return deck


def load_demo_terminals(*, seed: int = 2019) -> list[Terminal]:
    """A terminal at every kiosk site, through the register (each with its device key)."""
    if Terminal.objects.exists():
        return list(Terminal.objects.select_related("site", "area"))
    rng = random.Random(seed)
    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    actor = _demo_actor(city)
    sites = list(ServiceSite.objects.filter(kind=ServiceSite.Kind.KIOSK, active=True)
                 .select_related("area", "parent_site__area").order_by("code"))
    first = date(2019, 9, 1)  # the seed: the special campaign started in September 2019
    terminals = []
    for n, site in enumerate(sites):
        installed = first + timedelta(days=rng.randrange(480))
        terminal, _raw = services.terminal_register(
            actor=actor, site=site, code="T" + site.code[1:], serial=f"EFZ{installed:%y}{n + 1:05d}",
            model=rng.choice(MODELS), operator=rng.choice(OPERATORS), installed_on=installed)
        terminals.append(terminal)
    return terminals


def _health(terminals: list[Terminal], rng: random.Random, now: datetime) -> dict:
    """A year of outages and maintenance, and today's state: most online, a few silent or faulty."""
    outages, records = [], []
    tz = timezone.get_current_timezone()
    year_ago = now - timedelta(days=365)
    for t in terminals:
        activated = max(timezone.make_aware(datetime.combine(t.installed_on, time(9)), tz), year_ago - timedelta(days=30))
        for _ in range(rng.randrange(0, 7)):
            start = year_ago + timedelta(minutes=rng.randrange(365 * 24 * 60 - 3000))
            kind = rng.choice([Outage.Kind.OFFLINE, Outage.Kind.OFFLINE, Outage.Kind.FAULT, Outage.Kind.MAINTENANCE])
            hours = rng.choice([0.5, 1, 2, 4, 8, 20, 48])
            outages.append(Outage(terminal=t, kind=kind, started_at=start, ended_at=start + timedelta(hours=hours),
                                  detail={"offline": "网络中断", "fault": "打印机卡纸", "maintenance": "计划维护"}[kind]))
        for q in range(4):
            day = (now - timedelta(days=30 + 91 * q)).date()
            if day >= t.installed_on:
                records.append(Maintenance(terminal=t, kind=Maintenance.Kind.INSPECTION, performed_on=day,
                                           performed_by=rng.choice(["陈工", "林工", "黄工", "王工"]),
                                           description="季度巡检：清洁屏幕、检查打印机和读卡器、核对软件版本"))
        if rng.random() < 0.25:
            records.append(Maintenance(terminal=t, kind=Maintenance.Kind.REPAIR,
                                       performed_on=(now - timedelta(days=rng.randrange(10, 300))).date(),
                                       performed_by="运维工程师", description="更换打印头"))
        t.activated_at = activated
        t.state, t.last_seen_at, t.state_changed_at = Terminal.State.ONLINE, now - timedelta(seconds=rng.randrange(240)), activated
        t.software_version = rng.choice(["3.2.1", "3.2.1", "3.3.0"])
    # A few silent terminals (offline since this morning) and a few reporting a fault.
    for t in rng.sample(terminals, min(6, len(terminals))):
        seen = now - timedelta(hours=rng.randrange(2, 20))
        t.state, t.last_seen_at, t.state_changed_at = Terminal.State.OFFLINE, seen, seen + timedelta(minutes=10)
        outages.append(Outage(terminal=t, kind=Outage.Kind.OFFLINE, started_at=seen, detail="超过10分钟无心跳"))
    for t in rng.sample([t for t in terminals if t.state == Terminal.State.ONLINE], min(3, len(terminals))):
        t.status, t.printer = Terminal.Status.FAULT, Terminal.Part.FAULT
        outages.append(Outage(terminal=t, kind=Outage.Kind.FAULT, started_at=now - timedelta(hours=3), detail="终端上报故障"))
    # Open spells first in time order per terminal is irrelevant here; closed ones never overlap
    # the open one (they are in the past year, the open one started today).
    with transaction.atomic():
        Terminal.objects.bulk_update(terminals, ["activated_at", "state", "last_seen_at", "state_changed_at",
                                                 "software_version", "status", "printer"])
        Outage.objects.bulk_create(outages)
        Maintenance.objects.bulk_create(records)
        audit(actor=None, action=AuditEntry.Action.IMPORT, target_type="kiosks.terminal", label="终端运行记录（演示数据）",
              changes={"outages": len(outages), "maintenance": len(records)})
    return {"outages": len(outages), "maintenance": len(records)}


def _certificates(terminals: list[Terminal], deck: list[tuple[str, str]], actor: Principal) -> dict:
    """A few certificates through the service (their PDFs, numbers and cases), one revoked."""
    issued, refused = [], 0
    items = [i for i in KioskItem.objects.select_related("standard_item").filter(service=KioskItem.Service.CERTIFICATE)]
    gudong = [t for t in terminals if t.area.code.startswith("350102001")] or terminals[:1]
    for n, (id_number, name) in enumerate(deck[:12]):
        terminal = gudong[n % len(gudong)] if n < 8 else terminals[(n * 37) % len(terminals)]
        item = items[n % len(items)]
        try:
            issued.append(services.certificate_issue(
                actor=services.terminal_principal(terminal, frozenset({services.DEVICE}), terminal.area),
                terminal=terminal, item_code=item.code, id_number=id_number, name=name, mobile=f"1385{n:07d}"))
        except Exception:  # a refusal of the registry (no insurance, property on record): realistic
            refused += 1
    if issued:
        services.certificate_revoke(actor=actor, certificate=issued[-1], reason="演示：数据源更正了缴费记录，原证明作废")
    return {"certificates": len(issued), "refused": refused}


def load_demo_kiosks(*, uses: int = 780_000, today: date | None = None, seed: int = 2020) -> dict:
    """The whole kiosk demo. Idempotent: nothing is added when terminals exist."""
    if Terminal.objects.exists():
        return {"terminals": Terminal.objects.count(), "skipped": 1}
    started = _time.monotonic()
    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    if city is None:
        return {"terminals": 0}
    items = load_demo_items()
    deck = load_demo_registries()
    terminals = load_demo_terminals()
    rng = random.Random(seed)
    now = timezone.now()
    today = today or timezone.localdate()
    health = _health(terminals, rng, now)
    offered = [i for i in items if i.default_offered]
    # Coastal districts offer the optional (fisheries…) items; one pharmacy withdraws the 无房证明.
    actor = _demo_actor(city)
    for code in ("350122000000", "350123000000"):
        area = Area.objects.filter(code=code).first()
        if area is not None:
            for item in items[CITY_LIST_SIZE:]:
                services.item_override_set(actor=actor, item=item, area=area, offered=True, note="沿海县开通")
    pharmacy = next((t for t in terminals if t.location_kind == "pharmacy"), None)
    no_house = next((i for i in items if i.source == "property"), None)
    if pharmacy and no_house:
        services.item_override_set(actor=actor, item=no_house, terminal=pharmacy, offered=False, note="药店场所暂不提供")
    rows = scale.generate(terminals=terminals, items=offered, start=today - timedelta(days=365), end=today,
                          total=uses, seed=seed)
    count = scale.insert(r for r in rows if r[5] <= now)
    rolled = services.usage_rollup(today=today)
    certificates = _certificates(terminals, deck, actor)
    return {"items": len(items), "terminals": len(terminals), "uses": count, **health, **rolled, **certificates,
            "seconds": round(_time.monotonic() - started, 1)}
