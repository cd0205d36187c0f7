"""Demo catalog for the demo city: departments, ~155 standard items, their implementation at every
township center and village station, stationing with some gaps, mappings, published guides.

Departments and standard items go through the services (their rules matter); the ~30,000 local
items, stationings and guide snapshots are written in bulk (the same validation, one audit row),
so the whole load stays within seconds."""

from __future__ import annotations

import datetime
import math

from django.db import connection, transaction
from django.utils import timezone

from bianmin.core.audit import audit
from bianmin.core.models import AuditEntry
from bianmin.core.pagecache import CATALOG, bump
from bianmin.core.validators import make_credit_code
from bianmin.regions.models import Area, ServiceSite, Window

from . import services
from .demo_data import BLOCKS, DEPARTMENTS, HANDLING_SPLIT, VILLAGE_MODES, parse_blocks
from .models import Department, GuideVersion, Item, ItemMapping, StandardItem, Stationing

WINDOW_FOR = {"劳动保障": "社保医保", "医保": "社保医保", "民政": "民政残联", "残联": "民政残联", "退役军人": "民政残联",
              "计生": "计生卫健", "国土": "不动产", "住房": "不动产", "村建": "不动产", "司法": "司法调解", "工商": "市场监管"}
CATEGORY_ORDER = [c for c, *_ in BLOCKS]
KIND_SUFFIX = {"new": "001", "change": "002", "renew": "003", "cancel": "004"}

# Where the demo leaves "应进必进" gaps (deterministic, so the report always shows the same ones).
GAP_DEPARTMENT_EVERY = 9  # every 9th center misses a mandatory department
SEPARATE_OFFICE_EVERY = 13  # every 13th center has a department keeping its own office
GAP_ITEM_MODULUS = 41  # in every 4th center, items where (center index * 7 + item index) % 41 == 0 are not stationed


def _item_code(cat_index: int, seq: int) -> str:
    return f"3501{cat_index:02d}{seq:03d}000"


def _body_name(area: Area) -> str:
    return f"{area.name}办事处" if area.name.endswith("街道") else f"{area.name}人民政府"


def _window_for(windows: list[Window], category: str) -> Window | None:
    key = WINDOW_FOR.get(category, "综合受理")
    for w in windows:
        if key in w.name:
            return w
    return windows[0] if windows else None


def _fast_insert(items: list[Item]) -> None:
    """bulk_create spends most of its time preparing each of 30,000 × 25 values; the values here
    are plain (ints, strings, booleans), so prepare only the JSON and timestamp columns."""
    now = timezone.now()
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    slow = {f.attname: f for f in fields if f.get_internal_type() in ("JSONField", "DateTimeField")}
    for it in items:
        it.created_at = it.updated_at = now
    prepared_slow = {name: f.get_db_prep_save(getattr(items[0], name), connection) for name, f in slow.items()}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(Item._meta.db_table)} ({columns}) VALUES ({marks})"
    rows = [[prepared_slow[f.attname] if f.attname in slow else getattr(it, f.attname) for f in fields] for it in items]
    with connection.cursor() as cur:
        for start in range(0, len(rows), 5000):
            cur.executemany(sql, rows[start:start + 5000])


@transaction.atomic
def load_demo_catalog(*, publish_district: str = "350102000000") -> dict[str, int]:
    """Load the demo catalog. Idempotent: a second run changes nothing."""
    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    if city is None:
        raise RuntimeError("请先载入区划（load_areas）")
    if StandardItem.objects.exists():
        return {"standard_items": StandardItem.objects.count(), "items": Item.objects.count(), "skipped": 1}

    # Departments: the city's competent departments, and each district's, which station at centers.
    city_depts: dict[str, Department] = {}
    for category, code, name, _suffix in DEPARTMENTS:
        city_depts[category] = services.department_create(actor=None, code=code, name=name, category=category, area=city,
                                                          credit_code=make_credit_code("350100", 1000 + len(city_depts),
                                                                                       authority="1", category="1"))
    districts = list(Area.objects.filter(parent=city, level=Area.Level.DISTRICT).order_by("code"))
    district_depts: dict[tuple[int, str], Department] = {}
    new_depts = []
    for d in districts:
        for n, (category, code, _name, suffix) in enumerate(DEPARTMENTS):
            new_depts.append(Department(code=f"{code}-{d.code[:6]}", name=f"{d.name}{suffix}", short_name=category,
                                        category=category, area=d,
                                        credit_code=make_credit_code(d.code[:6], 2000 + n, authority="1", category="1")))
    for dept in Department.objects.bulk_create(new_depts):
        district_depts[(dept.area_id, dept.category)] = dept

    # Standard items through the service (codes unique, materials checked), indexed once at the end.
    standard: list[tuple[StandardItem, str]] = []
    seq: dict[str, int] = {}
    for spec in parse_blocks():
        category = spec.pop("category")
        cat_index = CATEGORY_ORDER.index(category) + 1
        seq[category] = seq.get(category, 0) + 1
        materials = spec.pop("materials")
        si = services.standard_item_create(
            actor=None, code=_item_code(cat_index, seq[category]), competent_department=city_depts[category],
            implementing_body="乡镇人民政府（街道办事处）", materials=materials, index=False,
            flow="申请 → 受理 → 审查 → 决定 → 送达" if spec["legal_limit_days"] else "申请 → 当场核验 → 当场出具",
            service_object="自然人" if category not in ("工商",) else "自然人、法人",
            **spec)
        standard.append((si, category))
        for kind, label in HANDLING_SPLIT.get(si.name, []):
            child = services.standard_item_create(
                actor=None, code=si.code[:-3] + KIND_SUFFIX[kind], competent_department=city_depts[category],
                implementing_body=si.implementing_body, materials=materials, index=False, name=f"{si.name}（{label}）",
                item_type=si.item_type, legal_limit_days=si.legal_limit_days, legal_basis=si.legal_basis,
                acceptance_conditions=si.acceptance_conditions, flow=si.flow, tier=StandardItem.Tier.HANDLING,
                parent=si, handling_kind=kind, levels=si.levels, service_object=si.service_object)
            standard.append((child, category))
    services.search_reindex()

    # Implementation lists at every township center and village station (bulk).
    centers = list(ServiceSite.objects.filter(kind=ServiceSite.Kind.CENTER, active=True).select_related("area")
                   .order_by("code"))
    stations = list(ServiceSite.objects.filter(kind=ServiceSite.Kind.STATION, active=True)
                    .select_related("area", "parent_site").order_by("code"))
    windows: dict[int, list[Window]] = {}
    for w in Window.objects.filter(site__in=centers + stations, active=True).order_by("number"):
        windows.setdefault(w.site_id, []).append(w)
    area_district = {}
    for a in Area.objects.filter(level__in=[Area.Level.TOWNSHIP, Area.Level.VILLAGE]).only("id", "path"):
        district_code = a.path.split("/")[1] if a.path.count("/") > 2 else ""
        area_district[a.pk] = district_code
    district_by_code = {d.code: d for d in districts}

    items: list[Item] = []
    for ci, site in enumerate(centers):
        credit = make_credit_code(site.area.code[:6], int(site.area.code[6:9] or 1), authority="1", category="1")
        for ii, (si, category) in enumerate(standard):
            if "township" not in si.level_list:
                continue
            promised = math.ceil(si.legal_limit_days / 2) if si.legal_limit_days > 1 else si.legal_limit_days
            items.append(Item(
                standard_item=si, area=site.area, site=site, implementing_body_name=_body_name(site.area),
                implementing_body_credit_code=credit, address=site.address, window=_window_for(windows.get(site.pk, []), category),
                phone=site.phone, complaint_phone=site.complaint_phone, hours=site.hours, promised_limit_days=promised,
                visits_needed=0 if promised == 0 else 1,
                promise_kind=Item.PromiseKind.IMMEDIATE if promised == 0 else Item.PromiseKind.PROMISED,
                stationed=not (ci % 4 == 1 and (ci * 7 + ii) % GAP_ITEM_MODULUS == 0),
            ))
    for si_index, site in enumerate(stations):
        district = district_by_code.get(area_district.get(site.area_id, ""))
        credit = make_credit_code(site.area.code[:6], int(site.area.code[6:12]) % 10**8, authority="5", category="4")
        for ii, (si, category) in enumerate(standard):
            if "village" not in si.level_list or si.tier != StandardItem.Tier.MAIN:
                continue
            mode = VILLAGE_MODES.get(si.name, Item.Mode.ON_THE_SPOT)
            authorized_by = district_depts.get((district.pk, category)) if (mode == "authorized" and district) else None
            if mode == "authorized" and authorized_by is None:
                mode = Item.Mode.ON_THE_SPOT
            transfer_to = site.parent_site if mode == "transfer" else None
            if mode == "transfer" and transfer_to is None:
                mode = Item.Mode.ON_THE_SPOT
            promised = 0 if si.legal_limit_days == 0 else min(si.legal_limit_days, max(1, math.ceil(si.legal_limit_days / 2)))
            items.append(Item(
                standard_item=si, area=site.area, site=site, implementing_body_name=f"{site.area.name}村（居）民委员会",
                implementing_body_credit_code=credit, address=site.address, phone=site.phone, hours=site.hours,
                promised_limit_days=promised, visits_needed=0 if promised == 0 else 1,
                promise_kind=Item.PromiseKind.IMMEDIATE if promised == 0 else Item.PromiseKind.PROMISED,
                mode=mode, authorized_by=authorized_by, transfer_to_site=transfer_to,
                stationed=not (si_index % 3 == 0 and (si_index * 5 + ii) % 23 == 0),
                notes={"delegated": "直接下放至村（社区）便民服务站办理",
                       "authorized": "经授权由村（社区）便民服务站受理办理",
                       "transfer": "村（社区）便民服务站受理后转乡镇（街道）便民服务中心办理"}.get(mode, ""),
            ))
    for it in items:
        it.implementation_code = it.make_implementation_code()
    # Spot-check the rules on a sample (promised ≤ legal, modes) before the bulk write.
    for it in items[:: max(1, len(items) // 40)]:
        it.full_clean(exclude=["implementation_code", "window"], validate_constraints=False)
    _fast_insert(items)

    # Stationing of the districts' departments at each center, with deliberate gaps.
    stationings = []
    mandatory_cats = [c for c, *_ in DEPARTMENTS if c not in ("公安", "住房")]
    for ci, site in enumerate(centers):
        district = district_by_code.get(area_district.get(site.area_id, ""))
        if district is None:
            continue
        skip = mandatory_cats[ci % len(mandatory_cats)] if ci % GAP_DEPARTMENT_EVERY == 0 else None
        separate = mandatory_cats[(ci // SEPARATE_OFFICE_EVERY) % len(mandatory_cats)] if ci % SEPARATE_OFFICE_EVERY == 5 else None
        for category in mandatory_cats:
            if category == skip:
                continue
            dept = district_depts[(district.pk, category)]
            stationings.append(Stationing(
                department=dept, site=site, window=_window_for(windows.get(site.pk, []), category),
                staff_count=1 + (ci + len(category)) % 3, staff_names="", since=datetime.date(2021, 3, 1),
                keeps_separate_office=(category == separate)))
    Stationing.objects.bulk_create(stationings, batch_size=2000)

    # Mappings: every standard item's code in the provincial online hall; 12345 categories.
    mappings = [ItemMapping(system=ItemMapping.System.PROVINCIAL_HALL, external_code=f"FJ{si.code}", standard_item=si,
                            external_name=si.name) for si, _ in standard]
    for n, (si, category) in enumerate(s for s in standard if s[0].tier == StandardItem.Tier.MAIN):
        mappings.append(ItemMapping(system=ItemMapping.System.HOTLINE_12345, external_code=f"12345-{n + 1:04d}",
                                    standard_item=si, external_name=f"{category}/{si.name}"))
    ItemMapping.objects.bulk_create(mappings, batch_size=2000)

    # Published guides for one district's centers (version 1), so the public pages show versions.
    from .selectors import guide_elements

    versions = []
    published = (Item.objects.filter(site__kind=ServiceSite.Kind.CENTER, area__path__startswith=f"{city.code}/{publish_district}/")
                 .select_related("standard_item__competent_department", "standard_item__parent", "area", "site", "window",
                                 "authorized_by", "transfer_to_site").prefetch_related("standard_item__materials"))
    for it in published:
        versions.append(GuideVersion(item=it, number=1, elements=guide_elements(it), published_by="system",
                                     note="首次发布"))
    GuideVersion.objects.bulk_create(versions, batch_size=1000)
    Item.objects.filter(pk__in=[v.item_id for v in versions]).update(published_version=1)

    counts = {"departments": Department.objects.count(), "standard_items": len(standard), "items": len(items),
              "stationings": len(stationings), "mappings": len(mappings), "guide_versions": len(versions)}
    audit(actor=None, action=AuditEntry.Action.IMPORT, target_type="catalog.item", label="演示事项目录载入",
          changes=counts)
    bump(CATALOG)
    return counts
