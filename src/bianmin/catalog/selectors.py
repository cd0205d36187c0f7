"""Every read of the catalog.

Published guides are public (no log-in): active, non-classified items at active sites. Staff reads
go through the scope rule (catalog.edit / stationing.edit / view at the record's area)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from bianmin.core import search
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.principal import Principal
from bianmin.core.scoping import get_scoped, home_area, scoped
from bianmin.regions.models import Area, ServiceSite

from .conf import ELEMENT_LABELS, LOCALLY_OVERRIDABLE, mandatory_departments, shared_elements
from .models import (
    Department,
    GuideVersion,
    Item,
    ItemMapping,
    Material,
    StandardItem,
    Stationing,
    split_aliases,
)
from .services import INDEX

# ---------------------------------------------------------------------------------------------
# Guides (public)


def _public_items() -> QuerySet[Item]:
    return (
        Item.objects.filter(active=True, standard_item__active=True, standard_item__is_classified=False)
        .filter(Q(site__isnull=True) | Q(site__active=True))
        .select_related("standard_item__competent_department", "standard_item__parent", "area", "site", "window",
                        "authorized_by", "transfer_to_site")
    )


def guide_elements(item: Item) -> dict[str, Any]:
    """Every element a guide shows, as plain JSON: shared elements from the standard item (or a
    local value where the city does not share that element), then the local elements."""
    si = item.standard_item
    shared = shared_elements()

    def element(name: str) -> Any:
        if name in LOCALLY_OVERRIDABLE and name not in shared and item.local_elements.get(name):
            return item.local_elements[name]
        return getattr(si, name)

    materials = [
        {"name": m.name, "trust_level": m.trust_level, "required": m.required,
         "original_copies": m.original_copies, "copies": m.copies, "source": m.source, "notes": m.notes}
        for m in si.materials.all()
    ]
    site = item.site
    return {
        "code": si.code,
        "implementation_code": item.implementation_code,
        "name": si.name,
        "aliases": si.alias_list,
        "item_type": si.get_item_type_display(),
        "tier": si.get_tier_display(),
        "handling_kind": si.get_handling_kind_display() if si.handling_kind else "",
        "parent_code": si.parent.code if si.parent_id else "",
        "competent_department": si.competent_department.name,
        "implementing_body": si.implementing_body,
        "implementing_body_name": item.implementing_body_name,
        "legal_basis": si.legal_basis,
        "service_object": element("service_object"),
        "acceptance_conditions": element("acceptance_conditions"),
        "materials": materials,
        "flow": element("flow"),
        "special_steps": element("special_steps"),
        "legal_limit_days": si.legal_limit_days,
        "promised_limit_days": item.promised_limit_days,
        "fee": element("fee"),
        "result_name": element("result_name"),
        "visits_needed": item.visits_needed,
        "promise_kind": item.get_promise_kind_display(),
        "mode": item.get_mode_display(),
        "authorized_by": item.authorized_by.name if item.authorized_by_id else "",
        "transfer_to_site": item.transfer_to_site.name if item.transfer_to_site_id else "",
        "area_code": item.area.code,
        "area": item.area.name,
        "site_code": site.code if site else "",
        "site": site.name if site else "",
        "address": item.address or (site.address if site else ""),
        "window": f"{item.window.number}号窗口 {item.window.name}" if item.window_id else "",
        "phone": item.phone or (site.phone if site else ""),
        "complaint_phone": item.complaint_phone or (site.complaint_phone if site else ""),
        "hours": item.hours or (site.hours if site else ""),
        "notes": item.notes,
        "standard_version": si.version,
    }


GUIDE_LABELS = {
    **ELEMENT_LABELS,
    "implementation_code": "实施编码", "implementing_body_name": "实施机构", "promised_limit_days": "承诺办结时限",
    "visits_needed": "到现场次数", "promise_kind": "办件类型", "mode": "办理方式", "authorized_by": "授权部门",
    "transfer_to_site": "转办至", "area_code": "区划代码", "area": "实施区划", "site_code": "场所编码",
    "site": "服务场所", "address": "办理地点", "window": "窗口", "phone": "咨询电话", "complaint_phone": "监督投诉电话",
    "hours": "办理时间", "notes": "备注", "standard_version": "标准化事项版本", "parent_code": "上级事项编码",
}


def guide_get(*, code: str, site_code: str | None = None) -> Item:
    """A published guide by its implementation code, or by item code at a site. Unknown → 404."""
    code = (code or "").strip()
    qs = _public_items().prefetch_related("standard_item__materials")
    item = qs.filter(implementation_code=code).first()
    if item is None and site_code:
        item = qs.filter(standard_item__code=code, site__code=site_code).first()
        if item is None:
            raise NotFound(f"服务场所“{site_code}”没有事项“{code}”", field="code")
    if item is None:
        raise NotFound(f"事项“{code}”不存在", field="code")
    return item


def standard_guide_get(*, code: str) -> StandardItem:
    si = (StandardItem.objects.filter(code=(code or "").strip(), active=True, is_classified=False)
          .select_related("competent_department").prefetch_related("materials").first())
    if si is None:
        raise NotFound(f"事项“{code}”不存在", field="code")
    return si


def standard_implementations(*, standard_item: StandardItem) -> QuerySet[Item]:
    return _public_items().filter(standard_item=standard_item).order_by("area__code", "site__code")


PLACES_SHOWN = 20  # places a standard guide lists at once (API); the rest through offset
PLACES_PER_DISTRICT = 6  # places a standard guide page shows under each district


@dataclass
class Places:
    """Where a standard item can be handled, cut to what is shown: `rows` (plain dicts, nearest
    first when a location was given, else by area and site code, i.e. grouped by district),
    `total` of the whole list, and every district with its count."""

    rows: list[dict[str, Any]]
    total: int
    districts: list[dict[str, Any]]
    offset: int = 0
    near: bool = False


def standard_places(*, standard_item: StandardItem, lng: float | None = None, lat: float | None = None,
                    district: str = "", offset: int = 0, limit: int = PLACES_SHOWN) -> Places:
    """The public implementations of a standard item, read as rows (no model instances: a demo
    item has 242 places and loading them as guide objects cost most of the request). With a
    location, the nearest first (great-circle distance to the site); `district` (a district's
    code) narrows to it; `offset`/`limit` cut the list where it is shown."""
    from bianmin.regions.selectors import haversine_m

    if (lng is None) != (lat is None):
        raise Invalid("经度 lng 和纬度 lat 须同时提供", field="lng" if lng is None else "lat")
    if lng is not None and not (73 <= lng <= 136 and 3 <= lat <= 54):
        raise Invalid("经纬度超出范围（经度 73~136，纬度 3~54）", field="lng")
    if offset < 0:
        raise Invalid("offset 不能为负数", field="offset")
    if not (1 <= limit <= 500):
        raise Invalid("返回条数 limit 应在 1 至 500 之间", field="limit")
    rows = list(
        Item.objects.filter(standard_item=standard_item, active=True)
        .filter(Q(site__isnull=True) | Q(site__active=True))
        .order_by("area__code", "site__code", "pk")
        .values("implementation_code", "promised_limit_days", "mode", "area__code", "area__name", "area__path",
                "site__code", "site__name", "site__address", "site__lng", "site__lat"))
    modes = dict(Item.Mode.choices)
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        parts = r["area__path"].split("/")
        r["district_code"] = parts[1] if len(parts) > 1 else parts[0]
        counts[r["district_code"]] += 1
    names = dict(Area.objects.filter(code__in=list(counts)).values_list("code", "name"))
    districts = [{"code": c, "name": names.get(c, c), "count": n} for c, n in sorted(counts.items())]
    if district:
        rows = [r for r in rows if r["district_code"] == district]
    near = lng is not None
    out = []
    for r in rows:
        d = None
        if near and r["site__lng"] is not None and r["site__lat"] is not None:
            d = round(haversine_m(lng, lat, r["site__lng"], r["site__lat"]))
        out.append({
            "implementation_code": r["implementation_code"], "area_code": r["area__code"], "area": r["area__name"],
            "site_code": r["site__code"] or "", "site": r["site__name"] or "", "address": r["site__address"] or "",
            "promised_limit_days": r["promised_limit_days"], "mode": str(modes.get(r["mode"], r["mode"])),
            "district_code": r["district_code"], "district": names.get(r["district_code"], ""), "distance_m": d,
        })
    if near:
        out.sort(key=lambda r: (r["distance_m"] is None, r["distance_m"] or 0))
    return Places(rows=out[offset:offset + limit], total=len(out), districts=districts, offset=offset, near=near)


def site_public_get(*, code: str) -> ServiceSite:
    site = ServiceSite.objects.filter(code=(code or "").strip(), active=True).select_related("area").first()
    if site is None:
        raise NotFound(f"服务场所“{code}”不存在", field="site")
    return site


def site_items(*, site: ServiceSite) -> QuerySet[Item]:
    """本中心可办事项清单: the site's active, public items, by department then code."""
    return (_public_items().filter(site=site)
            .order_by("standard_item__competent_department__category", "standard_item__code"))


def site_departments_public(*, site: ServiceSite) -> list[dict[str, Any]]:
    """进驻部门: the departments stationed at a site (active stationing), with their window, for
    the public item list. Plain rows: only what the page shows."""
    return list(Stationing.objects.filter(site=site, active=True, department__active=True)
                .order_by("department__category", "department__code")
                .values("department__name", "window__number", "window__name"))


def site_item_rows(*, site: ServiceSite) -> list[dict[str, Any]]:
    """The site's public item list (as site_items) as plain rows with the labels filled in: the
    JSON list reads them without building an item, its standard item, department and window."""
    item_types, kinds, modes = (dict(StandardItem.ItemType.choices), dict(Item.PromiseKind.choices),
                                dict(Item.Mode.choices))
    rows = list(site_items(site=site).select_related(None).values(
        "implementation_code", "promise_kind", "mode", "promised_limit_days", "visits_needed", "window_id",
        "window__number", "window__name", "standard_item__code", "standard_item__name", "standard_item__item_type",
        "standard_item__legal_limit_days", "standard_item__competent_department__name"))
    for r in rows:
        r["item_type_label"] = str(item_types.get(r["standard_item__item_type"], r["standard_item__item_type"]))
        r["promise_kind_label"] = str(kinds.get(r["promise_kind"], r["promise_kind"]))
        r["mode_label"] = str(modes.get(r["mode"], r["mode"]))
    return rows


def guide_versions(*, item: Item) -> QuerySet[GuideVersion]:
    return item.guide_versions.order_by("-number")


def guide_diff(*, older: dict[str, Any], newer: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field differences between two guide snapshots, in display order."""
    out = []
    for key in list(dict.fromkeys([*older.keys(), *newer.keys()])):
        a, b = older.get(key), newer.get(key)
        if a != b:
            if key == "materials":
                a = "；".join(f"{m['name']}（{m['trust_level']}）" for m in (a or []))
                b = "；".join(f"{m['name']}（{m['trust_level']}）" for m in (b or []))
            out.append({"field": key, "label": GUIDE_LABELS.get(key, key), "old": a, "new": b})
    return out


# ---------------------------------------------------------------------------------------------
# Search


@dataclass
class SearchResult:
    standard_item: StandardItem
    fuzzy: bool = False
    items: list[Item] = field(default_factory=list)


CANDIDATE_LIMIT = 300
MAX_QUERY_LENGTH = 100


def _candidates(ids: list[int], area: Area | None, phrases: frozenset[str] | None = None, *,
                with_text: bool = True) -> list[search.Candidate]:
    """The rows to rank: the index's candidates plus any item named exactly as the query (an
    indexed lookup, so an exact name is never lost to the candidate limit). When every candidate
    matched every term group (with_text=False), the full text adds nothing to the ranking and is
    not read."""
    ids = list(ids)
    if phrases:
        ids += StandardItem.objects.filter(name__in=list(phrases)).values_list("id", flat=True)
    if not ids:
        return []
    ids = set(ids)
    if area is not None:
        # Area ids first: a LIKE prefix on the joined path cannot use an index in SQLite, so
        # filtering items by it scanned every item; the areas table is small.
        # (as a subquery: one statement, and no list of ids to pass through the ORM each time)
        area_ids = Area.objects.filter(path__startswith=area.path).values("id")
        ids = set(Item.objects.filter(standard_item_id__in=ids, area_id__in=area_ids, active=True)
                  .values_list("standard_item_id", flat=True))
        if not ids:
            return []
    qs = StandardItem.objects.filter(pk__in=ids, active=True, is_classified=False)
    if not with_text:
        return [search.Candidate(id=i, code=code, name=name, aliases=tuple(split_aliases(aliases)) if aliases else (),
                                 text_tokens=_ALL_TERMS)
                for i, code, name, aliases in qs.values_list("id", "code", "name", "aliases")]
    return [
        search.Candidate(id=i, code=code, name=name, aliases=tuple(split_aliases(aliases)) if aliases else (),
                         text_tokens=search.TokenText(text))
        for i, code, name, aliases, text in qs.values_list("id", "code", "name", "aliases", "search_text")
    ]


class _AllTerms:
    """Stands for the full text of a candidate that matched every term group."""

    def __contains__(self, token: str) -> bool:
        return True


_ALL_TERMS = _AllTerms()


def catalog_search(*, q: str, area: Area | None = None, limit: int = 20) -> list[SearchResult]:
    """Chinese search over names, aliases, conditions and materials; the same on every engine.
    Exact name, then alias, then term hits; a typo-tolerant fallback when nothing matches."""
    q = (q or "").strip()
    if not q:
        raise Invalid("请输入要查找的事项名称或关键词", field="q")
    if len(q) > MAX_QUERY_LENGTH:
        raise Invalid(f"关键词不能超过{MAX_QUERY_LENGTH}个字", field="q")
    if not (1 <= limit <= 100):
        raise Invalid("返回条数 limit 应在 1 至 100 之间", field="limit")
    _ensure_words()
    query = search.parse_query(q)
    ranked: list[search.Candidate] = []
    fuzzy: list[search.Candidate] = []
    if query.groups:
        ids = INDEX.match(query.groups, require_all=True, limit=CANDIDATE_LIMIT)
        if ids:
            ranked = search.rank(query, _candidates(ids, area, query.phrases, with_text=False))
        else:
            ranked = search.rank(query, _candidates([], area, query.phrases))
    elif query.phrases:
        ranked = search.rank(query, _candidates([], area, query.phrases))
    if not ranked:
        # Nothing has every word: first what looks like a mistyped name, then items having some
        # of the words.
        grams = search.query_grams(query)
        ids = INDEX.match([[g] for g in grams], column="grams", require_all=False, limit=CANDIDATE_LIMIT)
        fuzzy = search.fuzzy_rank(query, _candidates(ids, area))
        if len(query.groups) > 1:
            ids = INDEX.match(query.groups, require_all=False, limit=CANDIDATE_LIMIT)
            seen = {c.id for c in fuzzy}
            ranked = [c for c in search.rank(query, _candidates(ids, area)) if c.id not in seen]
    fuzzy_ids = {c.id for c in fuzzy}
    ordered = (fuzzy + ranked)[:limit]
    by_id = StandardItem.objects.select_related("competent_department").in_bulk([c.id for c in ordered])
    return [SearchResult(standard_item=by_id[c.id], fuzzy=c.id in fuzzy_ids) for c in ordered if c.id in by_id]


_words_loaded = False


def _ensure_words() -> None:
    """Teach this process's segmenter the catalog's names once (queries must be cut the way the
    index was). Names added later by this process's writes are taught by the services."""
    global _words_loaded
    if not _words_loaded:
        names = StandardItem.objects.values_list("name", "aliases")
        search.add_words(w for name, aliases in names for w in [name, *split_aliases(aliases)])
        _words_loaded = True


def warm_search() -> None:
    """Load the segmenter and the catalog's words now (in gunicorn's master, before it forks),
    then close the database connections so no worker inherits one."""
    from django.db import connections

    search.segment("办事")
    try:
        _ensure_words()
    finally:
        connections.close_all()


WHERE_PER_ITEM = 20


def _where_items(standard_item_ids: list[int], area: Area | None) -> QuerySet[Item]:
    """Public implementations of the given standard items (in the area), reading only what a
    search hit shows: a demo catalog has 200+ implementations of each item, and loading them
    as full guide rows (seven joined tables) cost far more than the search itself."""
    qs = (Item.objects.filter(standard_item_id__in=standard_item_ids, active=True, standard_item__active=True,
                              standard_item__is_classified=False)
          .filter(Q(site__isnull=True) | Q(site__active=True)))
    if area is not None:
        # Area ids first: a LIKE prefix on the joined path cannot use an index in SQLite.
        qs = qs.filter(area_id__in=list(Area.objects.filter(path__startswith=area.path).values_list("id", flat=True)))
    return qs


def items_of(*, standard_items: list[StandardItem], area: Area | None,
             per_item: int = WHERE_PER_ITEM) -> dict[int, list[Item]]:
    """Where each found item can be handled (public items in the area, sites first): at most
    `per_item` implementations of each, ordered by area code then site code (no site first, on
    every engine). The cut is made in the database, one window per standard item."""
    ids = [si.pk for si in standard_items]
    if not ids:
        return {}
    qs = (_where_items(ids, area).select_related("area", "site")
          .only("id", "standard_item_id", "implementation_code", "promised_limit_days", "mode", "area_id", "site_id",
                "area__code", "area__name", "site__code", "site__name")
          .annotate(where_rank=Window(RowNumber(), partition_by=[F("standard_item_id")],
                                      order_by=[F("area__code").asc(), F("site__code").asc(nulls_first=True),
                                                F("pk").asc()]))
          .filter(where_rank__lte=per_item)
          .order_by("standard_item_id", "where_rank"))
    out: dict[int, list[Item]] = defaultdict(list)
    for it in qs:
        out[it.standard_item_id].append(it)
    return out


def items_count_of(*, standard_items: list[StandardItem], area: Area | None) -> dict[int, int]:
    """How many public implementations each found item has in the area (for "等 N 处")."""
    ids = [si.pk for si in standard_items]
    if not ids:
        return {}
    rows = _where_items(ids, area).order_by().values("standard_item_id").annotate(n=Count("id"))
    return {r["standard_item_id"]: r["n"] for r in rows}


# ---------------------------------------------------------------------------------------------
# Mappings


def mapping_resolve(*, system: str, external_code: str) -> ItemMapping | None:
    """The mapping of an outside code, or None (the caller reports it with
    services.mapping_report_unmapped; a code is never guessed)."""
    if system not in ItemMapping.System.values:
        raise Invalid("外部系统应为 provincial_hall、construction 或 hotline_12345", field="system")
    return (ItemMapping.objects.select_related("standard_item", "item__standard_item", "item__site")
            .filter(system=system, external_code=(external_code or "").strip()).first())


# ---------------------------------------------------------------------------------------------
# Staff reads (scoped)


def standard_item_get(*, code: str) -> StandardItem:
    si = (StandardItem.objects.select_related("competent_department__area", "parent")
          .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("position", "id")))
          .filter(code=(code or "").strip()).first())
    if si is None:
        raise NotFound(f"事项“{code}”不存在", field="code")
    return si


def items_scoped(*, principal: Principal, capability: str, site: ServiceSite | None = None) -> QuerySet[Item]:
    qs = scoped(Item.objects.select_related("standard_item__competent_department", "area", "site", "window"),
                principal, capability)
    if site is not None:
        qs = qs.filter(site=site)
    return qs


def item_get_scoped(*, principal: Principal, capability: str, pk: int) -> Item:
    return get_scoped(Item.objects.select_related("standard_item__competent_department", "area", "site"),
                      principal, capability, pk=pk)


def site_get_scoped(*, principal: Principal, capability: str, code: str) -> ServiceSite:
    return get_scoped(ServiceSite.objects.select_related("area"), principal, capability, code=code)


def stationings_scoped(*, principal: Principal, capability: str, site: ServiceSite | None = None) -> QuerySet[Stationing]:
    qs = scoped(Stationing.objects.select_related("department", "site__area", "window"), principal, capability,
                area_field="site__area")
    if site is not None:
        qs = qs.filter(site=site)
    return qs


def stationing_get_scoped(*, principal: Principal, capability: str, pk: int) -> Stationing:
    return get_scoped(Stationing.objects.select_related("department", "site__area", "window"), principal, capability,
                      area_field="site__area", pk=pk)


def departments_for_site(*, site: ServiceSite) -> QuerySet[Department]:
    """Departments that may station at a site: those of the site's area and the areas above it."""
    paths = []
    area = site.area
    while area is not None:
        paths.append(area.pk)
        area = area.parent
    return Department.objects.filter(area_id__in=paths, active=True).order_by("category", "code")


# ---------------------------------------------------------------------------------------------
# "应进必进" compliance


@dataclass
class SiteCompliance:
    site: ServiceSite
    district: Area | None
    missing_departments: list[str]
    separate_offices: list[str]
    missing_items: list[StandardItem]
    required_items: int
    stationed_items: int

    @property
    def compliant(self) -> bool:
        return not (self.missing_departments or self.separate_offices or self.missing_items)


@dataclass
class ComplianceRollup:
    area: Area
    sites: int = 0
    compliant_sites: int = 0
    missing_departments: int = 0
    missing_items: int = 0
    required_items: int = 0
    stationed_items: int = 0

    @property
    def rate(self) -> float:
        return round(100.0 * self.stationed_items / self.required_items, 1) if self.required_items else 100.0


@dataclass
class ComplianceReport:
    area: Area
    sites: list[SiteCompliance]
    districts: list[ComplianceRollup]
    total: ComplianceRollup
    mandatory: tuple[str, ...]


def _district_of(area: Area) -> Area | None:
    a = area
    while a is not None and a.level not in (Area.Level.DISTRICT, Area.Level.CITY):
        a = a.parent
    return a if a is not None and a.level == Area.Level.DISTRICT else None


def compliance_report(*, area: Area, principal: Principal | None = None, capability: str = Cap.VIEW) -> ComplianceReport:
    """For each township center: mandatory departments not stationed (or still keeping a separate
    office) and non-classified township items not stationed; for each village station: village
    items not stationed. Rolled up by district and in total. Scoped when a principal is given."""
    sites_qs = ServiceSite.objects.filter(active=True, kind__in=[ServiceSite.Kind.CENTER, ServiceSite.Kind.STATION],
                                          area__path__startswith=area.path).select_related("area__parent__parent")
    if principal is not None:
        sites_qs = scoped(sites_qs, principal, capability)
    sites = list(sites_qs.order_by("area__code", "code"))
    mandatory = mandatory_departments()
    required: dict[str, list[StandardItem]] = {"township": [], "village": []}
    for si in StandardItem.objects.filter(active=True, is_classified=False).order_by("code"):
        for level in ("township", "village"):
            if level in si.level_list:
                required[level].append(si)
    site_ids = [s.pk for s in sites]
    stationed: dict[int, set[int]] = defaultdict(set)
    for site_id, si_id in Item.objects.filter(site_id__in=site_ids, active=True, stationed=True).values_list(
            "site_id", "standard_item_id"):
        stationed[site_id].add(si_id)
    present: dict[int, set[str]] = defaultdict(set)
    separate: dict[int, list[str]] = defaultdict(list)
    for st in Stationing.objects.filter(site_id__in=site_ids, active=True).select_related("department"):
        present[st.site_id].add(st.department.category)
        if st.keeps_separate_office:
            separate[st.site_id].append(st.department.name)
    rows = []
    for site in sites:
        is_center = site.kind == ServiceSite.Kind.CENTER
        needed = required["township" if is_center else "village"]
        missing = [si for si in needed if si.pk not in stationed[site.pk]]
        rows.append(SiteCompliance(
            site=site, district=_district_of(site.area),
            missing_departments=[d for d in mandatory if d not in present[site.pk]] if is_center else [],
            separate_offices=sorted(separate[site.pk]) if is_center else [],
            missing_items=missing, required_items=len(needed), stationed_items=len(needed) - len(missing),
        ))
    districts: dict[int, ComplianceRollup] = {}
    total = ComplianceRollup(area=area)
    for row in rows:
        targets = [total]
        if row.district is not None:
            targets.append(districts.setdefault(row.district.pk, ComplianceRollup(area=row.district)))
        for t in targets:
            t.sites += 1
            t.compliant_sites += int(row.compliant)
            t.missing_departments += len(row.missing_departments)
            t.missing_items += len(row.missing_items)
            t.required_items += row.required_items
            t.stationed_items += row.stationed_items
    return ComplianceReport(area=area, sites=rows, districts=sorted(districts.values(), key=lambda d: d.area.code),
                            total=total, mandatory=mandatory)


def compliance_for(*, principal: Principal, area_code: str | None = None) -> ComplianceReport:
    """The report for an area in the principal's scope (default: the top of their scope)."""
    from bianmin.regions.selectors import area_get

    if area_code:
        area = area_get(code=area_code)
        if not principal.can(Cap.VIEW, area):
            raise NotFound("未找到该记录")
    else:
        area = home_area(Area.objects.all(), principal, Cap.VIEW, message="未找到该记录")
    return compliance_report(area=area, principal=principal, capability=Cap.VIEW)


def guide_compare(*, item: Item, a: int, b: int | None = None) -> list[dict[str, Any]]:
    """Differences from version `a` to version `b` (or to the current, unpublished content)."""
    versions = {v.number: v for v in item.guide_versions.filter(number__in=[n for n in (a, b) if n is not None])}
    if a not in versions:
        raise NotFound(f"没有第{a}版", field="a")
    if b is not None and b not in versions:
        raise NotFound(f"没有第{b}版", field="b")
    newer = versions[b].elements if b is not None else guide_elements(
        Item.objects.select_related("standard_item__competent_department", "standard_item__parent", "area", "site",
                                    "window", "authorized_by", "transfer_to_site").get(pk=item.pk))
    return guide_diff(older=versions[a].elements, newer=newer)


EXPORT_FORMAT = "bianmin-site-items/1"


def site_export(*, site: ServiceSite) -> dict[str, Any]:
    """A site's item list for publishing to the provincial online hall (format in src/bianmin/catalog/FORMATS.md)."""
    from django.utils import timezone

    items = list(site_items(site=site).prefetch_related("standard_item__materials", "standard_item__mappings"))
    out = []
    for it in items:
        el = guide_elements(it)
        el["mappings"] = {m.system: m.external_code for m in it.standard_item.mappings.all()}
        el["published_version"] = it.published_version
        out.append(el)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now().isoformat(),
        "site": {"code": site.code, "name": site.name, "kind": site.kind, "area_code": site.area.code,
                 "address": site.address, "phone": site.phone, "hours": site.hours},
        "count": len(out),
        "items": out,
    }


def sites_scoped(*, principal: Principal, capability: str) -> QuerySet[ServiceSite]:
    return scoped(ServiceSite.objects.filter(active=True).select_related("area"), principal, capability).order_by(
        "area__code", "kind", "code")


def catalog_import_get(*, principal: Principal, job_id: int):
    """An import job of the catalog, for those who may import it (CATALOG_EDIT at the city);
    anyone else is told it does not exist."""
    from bianmin.regions.selectors import area_top_city

    from .models import CatalogImport

    city = area_top_city()
    job = CatalogImport.objects.filter(pk=job_id).first() if city is not None and principal.can(
        Cap.CATALOG_EDIT, city) else None
    if job is None:
        raise NotFound("未找到该导入任务")
    return job


def catalog_imports_recent(*, principal: Principal, limit: int = 20):
    from bianmin.regions.selectors import area_top_city

    from .models import CatalogImport

    city = area_top_city()
    if city is None or not principal.can(Cap.CATALOG_EDIT, city):
        return CatalogImport.objects.none()
    return CatalogImport.objects.select_related("created_by")[:limit]
