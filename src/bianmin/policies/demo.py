"""The demo city's policy library: 558 guides across the city's and the districts' departments,
made from the kinds in demo_data.py (city-wide editions of several years, the districts' own
editions), some with forms to download, linked to the catalog's items; plus a few enterprises
that subscribed. Loaded through the services' bulk path (the same checks, one transaction, the
index written once), so the load takes seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bianmin.catalog.models import Department, StandardItem
from bianmin.core.validators import make_credit_code
from bianmin.regions.models import Area

from . import services
from .demo_data import CITY_KINDS, DEMO_ENTERPRISES, DEPARTMENTS, DISTRICT_DOC, DISTRICT_KINDS
from .models import Policy

TOTAL = 558
DEFAULT_A = [20, 30, 50, 80, 100, 150, 200, 300]
DEFAULT_B = [5, 10, 15, 20]
DEFAULT_P = [10, 15, 20, 30]
CATEGORY_OF = {"gxj": "工信", "kjj": "科技", "swj": "商务", "fgw": "发改", "jrj": "金融", "tax": "税务", "wlj": "文旅",
               "sjj": "数据", "jtj": "交通", "sthj": "生态环境", "rsj": "劳动保障", "scjg": "工商", "nync": "农业",
               "cxjs": "村建", "hyyy": "渔业", "cl": "残联", "tyjr": "退役军人"}
FORMS = {"技术改造项目设备购置补助": "技术改造项目设备购置补助申报表", "一次性吸纳就业补贴": "一次性吸纳就业补贴申请表",
         "小微企业社会保险补贴": "社会保险补贴申请表", "创业担保贷款": "创业担保贷款申请审批表",
         "企业参加境内外展会补助": "参展补助申请表", "个体工商户转型升级": "个转企奖励申请表"}


def _h(*parts) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def _pick(values, *parts):
    return values[_h(*parts) % len(values)]


_departments: dict[str, Department] = {}


def _department(key: str, area: Area, city: Area) -> Department:
    code, name, suffix, _stem, phone = DEPARTMENTS[key]
    if area.pk != city.pk:
        code, name = f"{code}-{area.code[:6]}", f"{area.name}{suffix}"
    dept = _departments.get(code) or Department.objects.select_related("area").filter(code=code).first()
    if dept is None:
        from bianmin.catalog.services import department_create

        dept = department_create(actor=None, code=code, name=name, category=CATEGORY_OF[key], area=area, phone=phone,
                                 credit_code=make_credit_code(area.code[:6], 3000 + _h(code) % 5000, authority="1",
                                                              category="1"))
    _departments[code] = dept
    return dept


def _terms(kind: dict, index: int, today: dt.date, *, district: bool) -> list[tuple[int, dt.date, dt.date | None]]:
    """(year, from, until) of the editions of a kind: three declaration years; a multi-year
    policy's current term (and the previous one in the city); a standing one."""
    y = today.year
    if kind["term"] == "long":
        return [(y - 2 - index % 3, dt.date(y - 2 - index % 3, 1 + index % 12, 1), None)]
    if kind["term"] == "multi":
        start = y - 1 - index % 2
        current = (start, dt.date(start, 1, 1), dt.date(start + 2, 12, 31))
        return [current] if district else [(start - 3, dt.date(start - 3, 1, 1), dt.date(start - 1, 12, 31)), current]
    years = [y - 2, y - 1, y]
    if index % 2:  # declaration years from March to February
        return [(yr, dt.date(yr, 3, 1), dt.date(yr + 1, 2, 28)) for yr in years]
    return [(yr, dt.date(yr, 1, 1), dt.date(yr, 12, 31)) for yr in years]


def _fill(text: str, kind: dict, *key) -> str:
    return text.format(a=_pick(kind.get("a", DEFAULT_A), "a", *key), b=_pick(DEFAULT_B, "b", *key),
                       p=_pick(DEFAULT_P, "p", *key), y=_pick([1, 2, 3], "y", *key), office=kind["office"],
                       place=key[0], year=key[1])


@dataclass(frozen=True)
class Edition:
    scope: str  # "city" or "district"
    kind: dict
    area: Area
    year: int
    start: dt.date
    until: dt.date | None


def _editions(city: Area, districts: list[Area], today: dt.date) -> list[Edition]:
    """Every edition the demo could load, in the order it keeps them: the current ones first,
    then the earlier ones, mixed evenly over kinds and districts."""
    out = []
    for scope, kinds in (("city", CITY_KINDS), ("district", DISTRICT_KINDS)):
        for index, kind in enumerate(kinds):
            for area in ([city] if scope == "city" else districts):
                for year, start, until in _terms(kind, index, today, district=scope == "district"):
                    out.append(Edition(scope, kind, area, year, start, until))
    out.sort(key=lambda e: (e.until is not None and e.until < today, _h(e.kind["title"], e.area.code, e.year)))
    return out


def load_demo_policies(*, total: int = TOTAL) -> dict[str, int]:
    """Load the demo library. Idempotent: a second run changes nothing."""
    if Policy.objects.exists():
        return {"policies": Policy.objects.count(), "skipped": 1}
    _departments.clear()
    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    if city is None:
        raise RuntimeError("请先载入区划（load_areas）")
    today = timezone.localdate()
    districts = list(Area.objects.filter(parent=city, level=Area.Level.DISTRICT, is_functional_zone=False).order_by("code"))
    forms = _forms()
    items = {si.name: si for si in StandardItem.objects.filter(active=True, tier=StandardItem.Tier.MAIN)}
    townships: dict[int, list[Area]] = {}
    for a in Area.objects.filter(level=Area.Level.TOWNSHIP).order_by("code"):
        townships.setdefault(a.parent_id, []).append(a)
    rows, files, seen = [], [], set()
    for e in _editions(city, districts, today):
        if len(rows) >= total:
            break
        scope, kind, area, place, year, start, until = e.scope, e.kind, e.area, e.area.name, e.year, e.start, e.until
        towns = townships.get(area.pk, [])
        title = kind["title"].format(year=year, place=place)
        if title in seen:
            continue
        seen.add(title)
        lead = _department(kind["dept"], area if scope == "district" and DEPARTMENTS[kind["dept"]][2] else city, city)
        stem = DEPARTMENTS[kind["dept"]][3] if scope == "city" else DISTRICT_DOC.get(area.code[:6], "政")
        number = kind.get("doc", 1) + _h(title) % 20 if scope == "city" else 1 + _h(title) % 40
        # A few district policies apply to part of the district only (its first townships).
        listed = towns[:2] if scope == "district" and kind["dept"] == "wlj" and area.code[:6] in ("350102", "350103") else []
        data = services.PolicyData(
            title=title, aliases=kind["aliases"], category=kind["category"], lead_department=lead,
            handling_office=kind["office"], handling_phone=lead.phone or f"0591-8{_h(title) % 10**7:07d}",
            valid_from=start, valid_until=until,
            benefits=_fill(kind["benefits"], kind, place, year), conditions=_fill(kind["conditions"], kind, place, year),
            materials=kind["materials"], procedure=_fill(kind["flow"], kind, place, year),
            document_number=f"{stem}〔{start.year}〕{number}号",
            issuing_body=lead.name if _h(title, "body") % 3 else (f"{place}人民政府办公室" if scope == "district"
                                                                 else "福州市人民政府办公厅"),
            source_url=f"https://zwgk.fuzhou.example/zcwj/{area.code[:6]}/{start.year}/{_h(title) % 100000:05d}.htm",
            industries=kind.get("industries", []), sizes=kind.get("sizes", []), areas=listed, tags=kind.get("tags", []),
            required_tags=kind.get("required", []), min_age_years=kind.get("min_age"), max_age_years=kind.get("max_age"),
            no_application=kind.get("free", False), items=[items[n] for n in kind.get("items", []) if n in items])
        rows.append(("", data))
        files.append([(f"{forms_name}.pdf", stored) for key, (forms_name, stored) in forms.items() if key in title])
    # Codes by the issuing area and the year the edition was first published.
    coded = []
    counters: dict[str, int] = {}
    for _code, data in rows:
        prefix = f"{data.lead_department.area.code[:6]}-{data.valid_from.year}-"
        counters[prefix] = counters.get(prefix, 0) + 1
        coded.append((f"{prefix}{counters[prefix]:04d}", data))
    created = services.policies_load(actor=None, rows=coded, publish=True, files=files, note="演示数据载入")
    subscribed = _demo_subscribers(city)
    return {"policies": len(created), "in_force": sum(1 for p in created if p.in_force_on(today)),
            "expired": sum(1 for p in created if p.state == "expired"), "subscriptions": subscribed}


def _forms() -> dict[str, tuple[str, object]]:
    """The demo's downloadable forms (申报表格), one small PDF each, stored once by content."""
    from bianmin.cases.services import store_file
    from bianmin.cases.uploads import atomic_with_uploads
    from bianmin.core.pdf import key_values, para, simple_pdf

    out = {}
    with atomic_with_uploads():
        for key, name in FORMS.items():
            rows = [("申报单位（盖章）", ""), ("统一社会信用代码", ""), ("法定代表人", ""), ("联系人及电话", ""),
                    ("申报事项", key), ("申报金额（万元）", ""), ("开户银行及账号", "")]
            data = simple_pdf(name, [key_values(rows), para("本单位承诺所填信息及所附材料真实、准确、完整，如有虚假，愿承担相应法律责任。"),
                                     para("申报单位（盖章）：　　　　　　　　　　年　　月　　日")],
                              subtitle="福州市惠企政策申报", footer="便民 政务服务平台 · 演示表格")
            out[key] = (name, store_file(data=data, name=f"{name}.pdf"))
    return out


def _demo_subscribers(city: Area) -> int:
    """A few enterprises that subscribed and confirmed (their confirmation messages go through
    the outbox like anyone's)."""
    n = 0
    for i, (name, industry, size, area_code, founded, tags, channel, contact) in enumerate(DEMO_ENTERPRISES, start=1):
        area = Area.objects.filter(code=area_code).first()
        if area is None:
            continue
        with transaction.atomic():
            sub = services.subscription_create(
                data=services.ProfileData(credit_code=make_credit_code(area.code[:6], 70000 + i), name=name,
                                          industry=industry, size=size, area=area, founded_on=dt.date.fromisoformat(founded),
                                          tags=tags),
                channel=channel, contact=contact)
            services.subscription_confirm(subscription_id=sub.pk)
        n += 1
    return n
