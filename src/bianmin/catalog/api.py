"""Catalog API: public guides and search (no log-in), staff editing (scoped), outside-code lookup."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from bianmin.accounts.auth import staff_auth, staff_or_key_auth
from bianmin.accounts.principals import principal_of
from bianmin.core import pagecache
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.regions.models import ServiceSite, Window
from bianmin.regions.selectors import area_get

from . import selectors, services, xlsx
from .extensions import guide_namespaces
from .models import Department, Item, ItemMapping, StandardItem, Stationing

router = Router(tags=["事项目录"])


# ---------------------------------------------------------------------------------------------
# Schemas


class MaterialOut(Schema):
    name: str
    trust_level: str
    required: bool
    original_copies: int
    copies: int
    source: str
    notes: str


class GuideOut(Schema):
    code: str
    implementation_code: str
    name: str
    aliases: list[str]
    item_type: str
    tier: str
    handling_kind: str
    parent_code: str
    competent_department: str
    implementing_body: str
    implementing_body_name: str
    legal_basis: str
    service_object: str
    acceptance_conditions: str
    materials: list[MaterialOut]
    flow: str
    special_steps: str
    legal_limit_days: int
    promised_limit_days: int
    fee: str
    result_name: str
    visits_needed: int
    promise_kind: str
    mode: str
    authorized_by: str
    transfer_to_site: str
    area_code: str
    area: str
    site_code: str
    site: str
    address: str
    window: str
    phone: str
    complaint_phone: str
    hours: str
    notes: str
    standard_version: int
    published_version: int
    url: str


class ImplementationOut(Schema):
    implementation_code: str
    area_code: str
    area: str
    site_code: str
    site: str
    promised_limit_days: int
    mode: str


class PlaceOut(ImplementationOut):
    address: str
    district_code: str
    district: str
    distance_m: int | None


class DistrictCountOut(Schema):
    code: str
    name: str
    count: int


class StandardGuideOut(Schema):
    code: str
    name: str
    aliases: list[str]
    item_type: str
    competent_department: str
    implementing_body: str
    legal_basis: str
    acceptance_conditions: str
    materials: list[MaterialOut]
    flow: str
    legal_limit_days: int
    fee: str
    version: int
    implementations: list[PlaceOut]
    implementations_count: int
    districts: list[DistrictCountOut]
    more: str | None


class SearchHitOut(Schema):
    code: str
    name: str
    aliases: list[str]
    competent_department: str
    item_type: str
    legal_limit_days: int
    fuzzy: bool
    where: list[ImplementationOut]


class SearchOut(Schema):
    q: str
    area_code: str | None
    count: int
    fuzzy: bool
    items: list[SearchHitOut]


class SiteListItemOut(Schema):
    code: str
    implementation_code: str
    name: str
    department: str
    item_type: str
    promise_kind: str
    mode: str
    legal_limit_days: int
    promised_limit_days: int
    visits_needed: int
    window: str
    url: str


class SiteListOut(Schema):
    site_code: str
    site: str
    area_code: str
    address: str
    phone: str
    hours: str
    count: int
    items: list[SiteListItemOut]


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None


def _impl_out(it: Item) -> dict:
    return {"implementation_code": it.implementation_code, "area_code": it.area.code, "area": it.area.name,
            "site_code": it.site.code if it.site_id else "", "site": it.site.name if it.site_id else "",
            "promised_limit_days": it.promised_limit_days, "mode": it.get_mode_display()}


def _guide_out(item: Item) -> dict:
    data = selectors.guide_elements(item)
    data["published_version"] = item.published_version
    data["url"] = f"/catalog/guide/{item.implementation_code}/"
    return data


def _standard_out(si: StandardItem, *, lng: float | None = None, lat: float | None = None, district: str = "",
                  offset: int = 0, limit: int = selectors.PLACES_SHOWN) -> dict:
    places = selectors.standard_places(standard_item=si, lng=lng, lat=lat, district=district, offset=offset,
                                       limit=limit)
    more = None
    if offset + len(places.rows) < places.total:
        query = {"offset": offset + len(places.rows), "limit": limit, "district": district, "lng": lng, "lat": lat}
        more = f"/api/v1/guides/{si.code}?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
    return {
        "code": si.code, "name": si.name, "aliases": si.alias_list, "item_type": si.get_item_type_display(),
        "competent_department": si.competent_department.name, "implementing_body": si.implementing_body,
        "legal_basis": si.legal_basis, "acceptance_conditions": si.acceptance_conditions,
        "materials": [MaterialOut.from_orm(m).dict() for m in si.materials.all()], "flow": si.flow,
        "legal_limit_days": si.legal_limit_days, "fee": si.fee, "version": si.version,
        "implementations": places.rows, "implementations_count": places.total, "districts": places.districts,
        "more": more,
    }


# ---------------------------------------------------------------------------------------------
# Public: search and guides

# What the public answers are read from (names, addresses and hours come from the regions).
# They are served from the page cache under these content versions (core/pagecache.py): a
# publish, a stationing change or an import bumps "catalog" in its transaction.
PUBLIC_NAMESPACES = (pagecache.CATALOG, pagecache.REGIONS)


def _cached(request, name: str, data, schema) -> HttpResponse:
    return pagecache.serve_json(request, key=f"catalog-api:{name}:{request.get_full_path()}",
                                namespaces=PUBLIC_NAMESPACES, data=data, schema=schema)


@router.get("/guides/search", response={200: SearchOut, 304: None, 404: ErrorOut, 422: ErrorOut}, summary="办事指南检索",
            description="中文全文检索（事项名称、别名、受理条件、申请材料），群众常用叫法可查到正式事项；"
                        "无结果时按错别字容错匹配（fuzzy=true）。area 为区划代码（6/9/12位），只返回该区划内可办的事项。")
def guides_search(request, q: str, area: str | None = None, limit: int = 20):
    return _cached(request, "search", lambda: _guides_search(q, area, limit), SearchOut)


def _guides_search(q: str, area: str | None, limit: int) -> dict:
    area_obj = area_get(code=area) if area else None
    results = selectors.catalog_search(q=q, area=area_obj, limit=limit)
    where = selectors.items_of(standard_items=[r.standard_item for r in results], area=area_obj)
    items = [{
        "code": r.standard_item.code, "name": r.standard_item.name, "aliases": r.standard_item.alias_list,
        "competent_department": r.standard_item.competent_department.name,
        "item_type": r.standard_item.get_item_type_display(), "legal_limit_days": r.standard_item.legal_limit_days,
        "fuzzy": r.fuzzy, "where": [_impl_out(it) for it in where.get(r.standard_item.pk, [])[:20]],
    } for r in results]
    return {"q": q, "area_code": area_obj.code if area_obj else None, "count": len(items),
            "fuzzy": any(r.fuzzy for r in results), "items": items}


@router.get("/guides/sites/{code}", response={200: SiteListOut, 304: None, 404: ErrorOut}, summary="服务场所可办事项清单")
def guides_site_list(request, code: str):
    return _cached(request, "site", lambda: _guides_site_list(code), SiteListOut)


def _guides_site_list(code: str) -> dict:
    site = selectors.site_public_get(code=code)
    items = selectors.site_item_rows(site=site)
    return {"site_code": site.code, "site": site.name, "area_code": site.area.code, "address": site.address,
            "phone": site.phone, "hours": site.hours, "count": len(items),
            "items": [_site_item_out(r) for r in items]}


def _site_item_out(r: dict) -> dict:
    return {"code": r["standard_item__code"], "implementation_code": r["implementation_code"],
            "name": r["standard_item__name"], "department": r["standard_item__competent_department__name"],
            "item_type": r["item_type_label"], "promise_kind": r["promise_kind_label"], "mode": r["mode_label"],
            "legal_limit_days": r["standard_item__legal_limit_days"], "promised_limit_days": r["promised_limit_days"],
            "visits_needed": r["visits_needed"],
            "window": f"{r['window__number']}号窗口 {r['window__name']}" if r["window_id"] else "",
            "url": f"/catalog/guide/{r['implementation_code']}/"}


@router.get("/guides/sites/{code}/export", response={200: dict, 404: ErrorOut}, summary="可办事项清单导出（省网上办事大厅格式）",
            description="格式见 src/bianmin/catalog/FORMATS.md：format=bianmin-site-items/1；每个事项含完整指南要素和事项映射编码。")
def guides_site_export(request, code: str):
    from .selectors import site_export

    return site_export(site=selectors.site_public_get(code=code))


@router.get("/guides/{code}", response={200: GuideOut | StandardGuideOut, 304: None, 404: ErrorOut}, summary="办事指南",
            description="code 为实施编码时返回该实施清单事项的指南；为事项编码时，带 site=场所编码 返回该场所的指南，"
                        "不带则返回共享要素和各地实施情况：implementations 每次最多 limit 处（默认 20），"
                        "带 lng、lat（经纬度）时由近及远（distance_m 为直线距离，米），否则按区划排列；"
                        "district=县（市）区代码 只列该区；districts 为各区可办场所数；more 为其余场所的地址（offset 续取）。")
def guide_detail(request, code: str, site: str | None = None, lng: float | None = None, lat: float | None = None,
                 district: str = "", offset: int = 0, limit: int = selectors.PLACES_SHOWN):
    def build() -> HttpResponse:
        try:
            return pagecache.json_response(_guide_out(selectors.guide_get(code=code, site_code=site)), GuideOut)
        except NotFound:
            if site:
                raise
        return pagecache.json_response(_standard_out(selectors.standard_guide_get(code=code), lng=lng, lat=lat,
                                                     district=district, offset=offset, limit=limit), StandardGuideOut)

    if lng is not None or lat is not None:
        return build()  # a reader's own location: not worth keeping
    return pagecache.serve(request, key=f"catalog-api:guide:{request.get_full_path()}",
                           namespaces=(*PUBLIC_NAMESPACES, *guide_namespaces()), build=build)


class VersionOut(Schema):
    number: int
    published_by: str
    published_at: datetime.datetime
    note: str


class DiffOut(Schema):
    field: str
    label: str
    old: Any
    new: Any


@router.get("/guides/{code}/versions", response={200: list[VersionOut], 404: ErrorOut}, summary="指南历史版本")
def guide_versions(request, code: str):
    item = selectors.guide_get(code=code)
    return list(selectors.guide_versions(item=item))


@router.get("/guides/{code}/compare", response={200: list[DiffOut], 404: ErrorOut, 422: ErrorOut},
            summary="指南版本比较", description="a、b 为版本号；b 省略时与当前内容比较。")
def guide_compare(request, code: str, a: int, b: int | None = None):
    item = selectors.guide_get(code=code)
    return selectors.guide_compare(item=item, a=a, b=b)


# ---------------------------------------------------------------------------------------------
# Outside systems: mapping lookup


class MappingOut(Schema):
    system: str
    external_code: str
    code: str
    name: str
    implementation_code: str | None


@router.get("/catalog/mappings/resolve", auth=staff_or_key_auth, response={200: MappingOut, 404: ErrorOut, 422: ErrorOut},
            summary="外部系统事项编码查询", description="找不到时返回 404 并记入“未映射编码”清单，绝不猜测。")
def mapping_resolve(request, system: str, code: str, name: str = ""):
    mapping = selectors.mapping_resolve(system=system, external_code=code)
    if mapping is None:
        services.mapping_report_unmapped(system=system, external_code=code.strip(), external_name=name)
        raise NotFound(f"外部编码“{code}”尚未映射到任何事项，已记录待处理", field="code", code="unmapped")
    si = mapping.standard_item or mapping.item.standard_item
    return {"system": mapping.system, "external_code": mapping.external_code, "code": si.code, "name": si.name,
            "implementation_code": mapping.item.implementation_code if mapping.item_id else None}


class MappingIn(Schema):
    system: str
    external_code: str
    code: str | None = None
    item_id: int | None = None
    external_name: str = ""


@router.post("/catalog/mappings", auth=staff_auth, response={201: MappingOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="新增事项映射")
def mapping_create(request, payload: MappingIn):
    principal = principal_of(request)
    if payload.system not in ItemMapping.System.values:
        raise Invalid("外部系统应为 provincial_hall、construction 或 hotline_12345", field="system")
    si = item = None
    if payload.item_id is not None:
        item = selectors.item_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=payload.item_id)
    elif payload.code:
        si = selectors.standard_item_get(code=payload.code)
    m = services.mapping_create(actor=principal, system=payload.system, external_code=payload.external_code,
                                standard_item=si, item=item, external_name=payload.external_name)
    target = m.standard_item or m.item.standard_item
    return Status(201, {"system": m.system, "external_code": m.external_code, "code": target.code, "name": target.name,
                        "implementation_code": m.item.implementation_code if m.item_id else None})


# ---------------------------------------------------------------------------------------------
# Staff: standard items


class MaterialIn(Schema):
    name: str
    trust_level: str = "C"
    required: bool = True
    original_copies: int = 1
    copies: int = 0
    source: str = ""
    notes: str = ""


class StandardItemIn(Schema):
    code: str
    name: str
    aliases: str = ""
    item_type: str
    tier: str = "main"
    parent_code: str | None = None
    handling_kind: str = ""
    department_code: str
    implementing_body: str
    legal_basis: str = ""
    service_object: str = ""
    acceptance_conditions: str = ""
    flow: str = ""
    special_steps: str = ""
    legal_limit_days: int
    fee: str = "不收费"
    result_name: str = ""
    is_classified: bool = False
    is_public_service: bool = False
    levels: str = "township"
    materials: list[MaterialIn] = []


class StandardItemPatch(Schema):
    changes: dict[str, Any] = {}
    materials: list[MaterialIn] | None = None


class StandardItemOut(Schema):
    code: str
    name: str
    version: int
    legal_limit_days: int


def _department(code: str) -> Department:
    dept = Department.objects.select_related("area").filter(code=code).first()
    if dept is None:
        raise NotFound(f"部门编码“{code}”不存在", field="department_code")
    return dept


@router.post("/catalog/standard-items", auth=staff_auth,
             response={201: StandardItemOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="新增标准化事项（共享要素）")
def standard_item_create(request, payload: StandardItemIn):
    data = payload.dict()
    dept = _department(data.pop("department_code"))
    parent_code = data.pop("parent_code")
    parent = selectors.standard_item_get(code=parent_code) if parent_code else None
    materials = data.pop("materials")
    si = services.standard_item_create(actor=principal_of(request), competent_department=dept, parent=parent,
                                       materials=materials, **data)
    return Status(201, si)


@router.patch("/catalog/standard-items/{code}", auth=staff_auth,
              response={200: StandardItemOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
              summary="修改标准化事项（共享要素，各级同步生效）")
def standard_item_update(request, code: str, payload: StandardItemPatch):
    si = selectors.standard_item_get(code=code)
    changes = dict(payload.changes)
    if "department_code" in changes:
        changes["competent_department"] = _department(str(changes.pop("department_code")))
    if "parent_code" in changes:
        pc = changes.pop("parent_code")
        changes["parent"] = selectors.standard_item_get(code=str(pc)) if pc else None
    materials = [m.dict() for m in payload.materials] if payload.materials is not None else None
    return services.standard_item_update(actor=principal_of(request), standard_item=si, changes=changes,
                                         materials=materials)


# ---------------------------------------------------------------------------------------------
# Staff: implementation lists


class ItemIn(Schema):
    code: str
    site_code: str
    implementing_body_name: str = ""
    implementing_body_credit_code: str = ""
    address: str = ""
    window_number: str | None = None
    phone: str = ""
    complaint_phone: str = ""
    hours: str = ""
    promised_limit_days: int | None = None
    visits_needed: int = 1
    notes: str = ""
    promise_kind: str = "promised"
    mode: str = "on_the_spot"
    authorized_by_code: str | None = None
    transfer_to_site_code: str | None = None
    stationed: bool = True


class ItemOut(Schema):
    id: int
    implementation_code: str
    code: str
    name: str
    site_code: str | None
    promised_limit_days: int
    legal_limit_days: int
    promise_kind: str
    mode: str
    stationed: bool
    active: bool


def _item_out(it: Item) -> dict:
    return {"id": it.pk, "implementation_code": it.implementation_code, "code": it.standard_item.code,
            "name": it.standard_item.name, "site_code": it.site.code if it.site_id else None,
            "promised_limit_days": it.promised_limit_days, "legal_limit_days": it.standard_item.legal_limit_days,
            "promise_kind": it.promise_kind, "mode": it.mode, "stationed": it.stationed, "active": it.active}


def _resolve_refs(principal, site: ServiceSite, data: dict) -> dict:
    if "window_number" in data:
        number = data.pop("window_number")
        data["window"] = None
        if number:
            data["window"] = Window.objects.filter(site=site, number=str(number)).first()
            if data["window"] is None:
                raise NotFound(f"“{site.name}”没有{number}号窗口", field="window_number")
    if "authorized_by_code" in data:
        code = data.pop("authorized_by_code")
        data["authorized_by"] = _department(code) if code else None
    if "transfer_to_site_code" in data:
        code = data.pop("transfer_to_site_code")
        data["transfer_to_site"] = None
        if code:
            data["transfer_to_site"] = ServiceSite.objects.select_related("area").filter(code=code).first()
            if data["transfer_to_site"] is None:
                raise NotFound(f"服务场所“{code}”不存在", field="transfer_to_site_code")
    return data


@router.get("/catalog/items", auth=staff_auth, response={200: list[ItemOut], 404: ErrorOut}, summary="实施清单（本辖区）")
def items_list(request, site: str | None = None, limit: int = 200, offset: int = 0):
    principal = principal_of(request)
    site_obj = selectors.site_get_scoped(principal=principal, capability=Cap.VIEW, code=site) if site else None
    qs = selectors.items_scoped(principal=principal, capability=Cap.VIEW, site=site_obj)
    if offset < 0:
        raise Invalid("offset 不能为负数", field="offset")
    if not (1 <= limit <= 1000):
        raise Invalid("返回条数 limit 应在 1 至 1000 之间", field="limit")
    return [_item_out(it) for it in qs.order_by("site__code", "standard_item__code")[offset:offset + limit]]


@router.post("/catalog/items", auth=staff_auth,
             response={201: ItemOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="新增实施清单事项（本地要素）")
def item_create(request, payload: ItemIn):
    principal = principal_of(request)
    data = payload.dict()
    site = selectors.site_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, code=data.pop("site_code"))
    si = selectors.standard_item_get(code=data.pop("code"))
    data = _resolve_refs(principal, site, data)
    item = services.item_create(actor=principal, standard_item=si, area=site.area, site=site, **data)
    return Status(201, _item_out(item))


class ItemPatch(Schema):
    changes: dict[str, Any]


@router.patch("/catalog/items/{item_id}", auth=staff_auth,
              response={200: ItemOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
              summary="修改实施清单事项（只能改本地要素；共享要素返回 422）")
def item_update(request, item_id: int, payload: ItemPatch):
    principal = principal_of(request)
    item = selectors.item_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=item_id)
    changes = _resolve_refs(principal, item.site, dict(payload.changes)) if item.site_id else dict(payload.changes)
    return _item_out(services.item_update(actor=principal, item=item, changes=changes))


class PublishIn(Schema):
    note: str = ""


@router.post("/catalog/items/{item_id}/publish", auth=staff_auth,
             response={201: VersionOut, 404: ErrorOut, 409: ErrorOut}, summary="发布办事指南（生成新版本）")
def item_publish(request, item_id: int, payload: PublishIn):
    principal = principal_of(request)
    item = selectors.item_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=item_id)
    return Status(201, services.item_publish(actor=principal, item=item, note=payload.note))


# ---------------------------------------------------------------------------------------------
# Staff: stationing and compliance


class StationingIn(Schema):
    department_code: str
    site_code: str
    window_number: str | None = None
    staff_count: int = 1
    staff_names: str = ""
    since: datetime.date | None = None
    keeps_separate_office: bool = False
    notes: str = ""


class StationingOut(Schema):
    id: int
    department_code: str
    department: str
    site_code: str
    staff_count: int
    since: datetime.date | None
    keeps_separate_office: bool
    active: bool


def _stationing_out(st: Stationing) -> dict:
    return {"id": st.pk, "department_code": st.department.code, "department": st.department.name,
            "site_code": st.site.code, "staff_count": st.staff_count, "since": st.since,
            "keeps_separate_office": st.keeps_separate_office, "active": st.active}


@router.post("/catalog/stationings", auth=staff_auth,
             response={201: StationingOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="部门进驻登记")
def stationing_create(request, payload: StationingIn):
    principal = principal_of(request)
    data = payload.dict()
    site = selectors.site_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, code=data.pop("site_code"))
    dept = _department(data.pop("department_code"))
    data = _resolve_refs(principal, site, data)
    st = services.stationing_create(actor=principal, department=dept, site=site, **data)
    return Status(201, _stationing_out(st))


class StationingPatch(Schema):
    changes: dict[str, Any]


@router.patch("/catalog/stationings/{stationing_id}", auth=staff_auth,
              response={200: StationingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}, summary="修改进驻情况")
def stationing_update(request, stationing_id: int, payload: StationingPatch):
    principal = principal_of(request)
    st = selectors.stationing_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=stationing_id)
    changes = _resolve_refs(principal, st.site, dict(payload.changes))
    return _stationing_out(services.stationing_update(actor=principal, stationing=st, changes=changes))


class ComplianceSiteOut(Schema):
    site_code: str
    site: str
    kind: str
    district: str
    missing_departments: list[str]
    separate_offices: list[str]
    missing_items: list[str]
    required_items: int
    stationed_items: int
    compliant: bool


class ComplianceRollupOut(Schema):
    area_code: str
    area: str
    sites: int
    compliant_sites: int
    missing_departments: int
    missing_items: int
    rate: float


class ComplianceOut(Schema):
    area_code: str
    mandatory_departments: list[str]
    total: ComplianceRollupOut
    districts: list[ComplianceRollupOut]
    sites: list[ComplianceSiteOut]


def _rollup_out(r) -> dict:
    return {"area_code": r.area.code, "area": r.area.name, "sites": r.sites, "compliant_sites": r.compliant_sites,
            "missing_departments": r.missing_departments, "missing_items": r.missing_items, "rate": r.rate}


@router.get("/catalog/compliance", auth=staff_auth, response={200: ComplianceOut, 404: ErrorOut},
            summary="“应进必进”落实情况")
def compliance(request, area: str | None = None):
    principal = principal_of(request)
    report = selectors.compliance_for(principal=principal, area_code=area)
    return {
        "area_code": report.area.code, "mandatory_departments": list(report.mandatory),
        "total": _rollup_out(report.total), "districts": [_rollup_out(d) for d in report.districts],
        "sites": [{"site_code": s.site.code, "site": s.site.name, "kind": s.site.get_kind_display(),
                   "district": s.district.name if s.district else "", "missing_departments": s.missing_departments,
                   "separate_offices": s.separate_offices, "missing_items": [m.name for m in s.missing_items],
                   "required_items": s.required_items, "stationed_items": s.stationed_items,
                   "compliant": s.compliant} for s in report.sites],
    }


# ---------------------------------------------------------------------------------------------
# Staff: xlsx


_REQUIRED_FILE = File(...)


class CatalogImportOut(Schema):
    id: int
    status: str = Field(..., description="pending 排队中 / validating 校验中 / importing 导入中 / done 已完成 / "
                                         "refused 已拒绝（有错误） / failed 失败")
    status_label: str
    filename: str
    total: int
    processed: int
    percent: int
    created: int
    updated: int
    unchanged: int
    errors: list[dict] = Field(..., description="整表退回时的错误：[{row, column, message}]")
    url: str = Field(..., description="查询进度的地址")


def _import_out(job) -> dict:
    from django.urls import reverse

    return {"id": job.pk, "status": job.status, "status_label": str(job.get_status_display()), "filename": job.filename,
            "total": job.total, "processed": job.processed, "percent": job.percent, "created": job.created_count,
            "updated": job.updated_count, "unchanged": job.unchanged_count, "errors": job.errors[:200],
            "url": reverse("api:catalog_import_job", args=[job.pk])}


@router.post("/catalog/import", auth=staff_auth,
             response={202: CatalogImportOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut},
             summary="导入事项目录（xlsx，后台任务；整表校验，有错整表退回）",
             description="文件先做大小、解压后大小和行数检查，通过后排队在后台导入，返回 202 和任务；"
                         "用 url 查询进度和结果（含整表退回的错误）。")
def catalog_import(request, file: UploadedFile = _REQUIRED_FILE):
    job = xlsx.import_job_create(actor=principal_of(request), upload=file)
    return Status(202, _import_out(job))


@router.get("/catalog/import-jobs/{job_id}", auth=staff_auth, response={200: CatalogImportOut, 404: ErrorOut},
            summary="事项目录导入进度", url_name="catalog_import_job")
def catalog_import_job(request, job_id: int):
    return _import_out(selectors.catalog_import_get(principal=principal_of(request), job_id=job_id))


@router.get("/catalog/export", auth=staff_auth, summary="导出事项目录（xlsx）")
def catalog_export(request):
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.VIEW) and not principal.area_paths_for(Cap.CATALOG_EDIT):
        raise NotFound("未找到该记录")
    return xlsx_response(xlsx.export_catalog(standard_items=_export_qs()), "事项目录.xlsx")


def _export_qs():
    return StandardItem.objects.select_related("competent_department", "parent").prefetch_related("materials").order_by("code")


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    from urllib.parse import quote

    resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp
