from ninja import Router, Schema

from bianmin.core import pagecache
from bianmin.core.errors import Invalid

from . import selectors
from .models import ServiceSite

router = Router(tags=["区划与服务场所"])


class AreaOut(Schema):
    code: str
    name: str
    level: str
    level_name: str
    parent_code: str | None
    is_functional_zone: bool


def _area_out(area) -> dict:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "level_name": area.get_level_display(),
        "parent_code": area.parent.code if area.parent_id else None,
        "is_functional_zone": area.is_functional_zone,
    }


class WindowOut(Schema):
    number: str
    name: str


class SiteOut(Schema):
    code: str
    name: str
    kind: str
    kind_name: str
    venue: str
    venue_name: str
    area_code: str
    area_name: str
    parent_site_code: str | None
    address: str
    lng: float | None
    lat: float | None
    phone: str
    complaint_phone: str
    email: str
    hours: str


class SiteDetailOut(SiteOut):
    windows: list[WindowOut]


class NearbySiteOut(SiteOut):
    distance_m: int
    minutes: int


class NearbyOut(Schema):
    mode: str
    mode_name: str
    minutes: int
    speed_m_per_min: float
    detour_factor: float
    reach_m: int
    count: int
    items: list[NearbySiteOut]


class SitePageOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[SiteOut]


def _site_out(site) -> dict:
    return {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "kind_name": site.get_kind_display(),
        "venue": site.venue,
        "venue_name": site.get_venue_display(),
        "area_code": site.area.code,
        "area_name": site.area.name,
        "parent_site_code": site.parent_site.code if site.parent_site_id else None,
        "address": site.address,
        "lng": site.lng,
        "lat": site.lat,
        "phone": site.phone,
        "complaint_phone": site.complaint_phone,
        "email": site.email,
        "hours": site.hours,
    }


def _cached(request, name: str, data, schema):
    # Areas and sites change a few times a year: answers come from the page cache, keyed by the
    # regions' content version (core/pagecache.py), so an edit shows on the next request.
    return pagecache.serve_json(request, key=f"regions-api:{name}:{request.get_full_path()}",
                                namespaces=(pagecache.REGIONS,), data=data, schema=schema)


@router.get("areas/{code}", response=AreaOut, summary="查询行政区划",
            description="区划代码可为 6 位（县级）、9 位（乡级）或 12 位（统计用区划代码）。不存在时返回 404。")
def area_detail(request, code: str):
    return _cached(request, "area", lambda: _area_out(selectors.area_get(code=code)), AreaOut)


@router.get("areas/{code}/children", response=list[AreaOut], summary="下级行政区划",
            description="直接下级区划；功能区（如高新区）返回其托管的乡镇（街道）。")
def area_children(request, code: str):
    def data():
        area = selectors.area_get(code=code)
        return [_area_out(a) for a in selectors.area_children(area=area)]

    return _cached(request, "area-children", data, list[AreaOut])


@router.get("areas/{code}/sites", response=SitePageOut, summary="区划内的服务场所",
            description="该区划及其全部下级区划内运行中的服务场所（便民服务中心在前），分页。kind 可选 center / station / kiosk。")
def area_sites(request, code: str, kind: str | None = None, page: int = 1, page_size: int = 50):
    return _cached(request, "area-sites", lambda: _area_sites(code, kind, page, page_size), SitePageOut)


def _area_sites(code: str, kind: str | None, page: int, page_size: int) -> dict:
    area = selectors.area_get(code=code)
    if kind is not None and kind not in ServiceSite.Kind.values:
        raise Invalid("场所类型 kind 应为 center（便民服务中心）、station（便民服务站）或 kiosk（自助服务终端点）", field="kind")
    if page < 1:
        raise Invalid("页码 page 应从 1 开始", field="page")
    if not 1 <= page_size <= 200:
        raise Invalid("每页条数 page_size 应在 1 至 200 之间", field="page_size")
    qs = selectors.sites_in_area(area=area, kind=kind)
    start = (page - 1) * page_size
    return {"count": qs.count(), "page": page, "page_size": page_size,
            "items": [_site_out(s) for s in qs[start:start + page_size]]}


NEARBY_DESCRIPTION = (
    "查找从给定位置出发、在指定时间内可到达的运行中服务场所，由近及远排列（“15分钟便民服务圈”）。\n\n"
    f"估算方法：两点间球面直线距离 × 绕行系数 {selectors.DETOUR_FACTOR}，按平均速度换算时间——"
    "步行（walk）4.5 公里/小时（75 米/分钟），驾车（drive）25 公里/小时（城市平均，约 417 米/分钟）。"
    "因此步行 15 分钟约覆盖直线 865 米，驾车 15 分钟约覆盖直线 4.8 公里。"
    "返回的 distance_m 为直线距离（米），minutes 为估算用时（分钟，向上取整）。\n\n"
    "参数：lng 经度（73~136）、lat 纬度（3~54），均为十进制度；minutes 1~120，默认 15；"
    "mode 为 walk 或 drive，默认 walk；kind 可选 center / station / kiosk；limit 1~100，默认 20。"
    "参数不合规时返回 422，message 指明字段。"
)


@router.get("sites/nearby", response=NearbyOut, summary="附近的服务场所", description=NEARBY_DESCRIPTION)
def sites_nearby(request, lng: float, lat: float, minutes: int = 15, mode: str = "walk", kind: str | None = None,
                 limit: int = 20):
    found = selectors.sites_nearby(lng=lng, lat=lat, minutes=minutes, mode=mode, kind=kind or None, limit=limit)
    speed = selectors.SPEED_M_PER_MIN[mode]
    return {
        "mode": mode,
        "mode_name": selectors.MODE_NAMES[mode],
        "minutes": minutes,
        "speed_m_per_min": round(speed, 1),
        "detour_factor": selectors.DETOUR_FACTOR,
        "reach_m": round(minutes * speed / selectors.DETOUR_FACTOR),
        "count": len(found),
        "items": [_site_out(n.site) | {"distance_m": n.distance_m, "minutes": n.minutes} for n in found],
    }


@router.get("sites/{code}", response=SiteDetailOut, summary="服务场所详情",
            description="服务场所的地址、办公时间、联系电话和窗口。不存在或已停用时返回 404。")
def site_detail(request, code: str):
    def data():
        site = selectors.site_get(code=code)
        return _site_out(site) | {"windows": [{"number": w.number, "name": w.name} for w in site.windows.all()]}

    return _cached(request, "site", data, SiteDetailOut)
