"""Reads for areas and sites. Areas and active service sites are public information (the
addresses, hours and phones of service centers are published for citizens), so these reads
are not limited by the scope rule; writes are (see services)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from bianmin.core.errors import Invalid, NotFound

from .models import Area, ServiceSite, Window


def normalize_area_code(code: str) -> str:
    """Accept 6-, 9- or 12-digit codes (350102, 350102001, 350102001000) and return 12 digits."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise NotFound(f"区划代码“{code}”不存在", field="code")
    return code.ljust(12, "0")


def area_get(*, code: str) -> Area:
    area = Area.objects.select_related("parent").filter(code=normalize_area_code(code)).first()
    if area is None:
        raise NotFound(f"区划代码“{code}”不存在", field="code")
    return area


def area_children(*, area: Area) -> QuerySet[Area]:
    """The areas directly below `area`; for a functional zone (高新区), the areas it administers."""
    if area.is_functional_zone:
        return area.administers.order_by("code")
    return Area.objects.filter(parent=area).order_by("code")


def area_top_city() -> Area | None:
    return Area.objects.filter(level=Area.Level.CITY).order_by("code").first()


def area_districts(*, city: Area) -> QuerySet[Area]:
    """County-level areas of a city, functional zones last."""
    return Area.objects.filter(parent=city, level=Area.Level.DISTRICT).order_by("is_functional_zone", "code")


# ---------------------------------------------------------------------------------------------
# Sites

def _public_sites() -> QuerySet[ServiceSite]:
    return ServiceSite.objects.filter(active=True).select_related("area", "parent_site")


def site_get(*, code: str) -> ServiceSite:
    site = (
        _public_sites()
        .select_related("area__parent", "area__parent__parent")
        .prefetch_related(Prefetch("windows", queryset=Window.objects.filter(active=True).order_by("number")))
        .filter(code=(code or "").strip())
        .first()
    )
    if site is None:
        raise NotFound(f"服务场所“{code}”不存在", field="code")
    return site


def sites_in_area(*, area: Area, kind: str | None = None) -> QuerySet[ServiceSite]:
    """Active sites in `area` and everything below it (for a functional zone: in the areas it
    administers), centers first."""
    qs = _public_sites()
    if area.is_functional_zone:
        paths = [a.path for a in area.administers.all()]
        if not paths:
            return qs.none()
        from django.db.models import Q

        q = Q()
        for p in paths:
            q |= Q(area__path__startswith=p)
        qs = qs.filter(q)
    else:
        qs = qs.filter(area__path__startswith=area.path)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind", "area__code", "code")


# The assumptions behind "within N minutes": straight-line (great-circle) distance times a
# detour factor gives the route length; the route length at an average speed gives the time.
# Walking 4.5 km/h is a common planning figure for adults (the 15-minute community circle
# assumes roughly 1 km of walking); 25 km/h is an urban driving average with lights and traffic.
SPEED_M_PER_MIN = {"walk": 4500 / 60, "drive": 25000 / 60}
MODE_NAMES = {"walk": "步行", "drive": "驾车"}
DETOUR_FACTOR = 1.3
EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG)
# The service region the API accepts: mainland China's extent, roughly.
LNG_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)
MINUTES_RANGE = (1, 120)
LIMIT_RANGE = (1, 100)


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def travel_minutes(distance_m: float, mode: str) -> float:
    return distance_m * DETOUR_FACTOR / SPEED_M_PER_MIN[mode]


def estimate_minutes(distance_m: float, mode: str) -> int:
    """Estimated travel time shown to people: whole minutes, rounded up, at least one."""
    return max(1, math.ceil(travel_minutes(distance_m, mode) - 1e-9))


@dataclass
class NearbySite:
    site: ServiceSite
    distance_m: int  # straight-line
    minutes: int  # estimated travel time, rounded up, at least 1


def validate_nearby_params(*, lng: float, lat: float, minutes: int, mode: str, kind: str | None, limit: int) -> None:
    def finite_between(value, low, high) -> bool:
        return value is not None and math.isfinite(value) and low <= value <= high

    if not finite_between(lng, *LNG_RANGE):
        raise Invalid(f"经度 lng 应在 {LNG_RANGE[0]:g} 至 {LNG_RANGE[1]:g} 之间（中国境内）", field="lng")
    if not finite_between(lat, *LAT_RANGE):
        raise Invalid(f"纬度 lat 应在 {LAT_RANGE[0]:g} 至 {LAT_RANGE[1]:g} 之间（中国境内）", field="lat")
    if not (MINUTES_RANGE[0] <= minutes <= MINUTES_RANGE[1]):
        raise Invalid(f"时间 minutes 应在 {MINUTES_RANGE[0]} 至 {MINUTES_RANGE[1]} 分钟之间", field="minutes")
    if mode not in SPEED_M_PER_MIN:
        raise Invalid("出行方式 mode 应为 walk（步行）或 drive（驾车）", field="mode")
    if kind is not None and kind not in ServiceSite.Kind.values:
        raise Invalid("场所类型 kind 应为 center（便民服务中心）、station（便民服务站）或 kiosk（自助服务终端点）", field="kind")
    if not (LIMIT_RANGE[0] <= limit <= LIMIT_RANGE[1]):
        raise Invalid(f"返回条数 limit 应在 {LIMIT_RANGE[0]} 至 {LIMIT_RANGE[1]} 之间", field="limit")


def sites_nearby(
    *, lng: float, lat: float, minutes: int = 15, mode: str = "walk", kind: str | None = None, limit: int = 20,
    exclude_pk: int | None = None,
) -> list[NearbySite]:
    """Active sites reachable from (lng, lat) within `minutes` by `mode`, nearest first.

    The database narrows the search to a latitude/longitude box on the indexed columns (cheap
    on both engines, no GIS extension needed); exact distances are then computed here for the
    few rows left."""
    validate_nearby_params(lng=lng, lat=lat, minutes=minutes, mode=mode, kind=kind, limit=limit)
    reach_m = minutes * SPEED_M_PER_MIN[mode] / DETOUR_FACTOR  # straight-line reach
    dlat = math.degrees(reach_m / EARTH_RADIUS_M)
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
    qs = _public_sites().filter(lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng)
    if kind:
        qs = qs.filter(kind=kind)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    found = []
    for site in qs:
        d = haversine_m(lng, lat, site.lng, site.lat)
        t = travel_minutes(d, mode)
        if t <= minutes:
            found.append(NearbySite(site=site, distance_m=round(d), minutes=estimate_minutes(d, mode)))
    found.sort(key=lambda n: (n.distance_m, n.site.code))
    return found[:limit]


def sites_nearest(*, lng: float, lat: float, kind: str | None = None, limit: int = 5, exclude_pk: int | None = None,
                  mode: str = "drive") -> list[NearbySite]:
    """The `limit` nearest active sites whatever the distance (for "the nearest centers" when
    nothing is within reach). Widens the box until enough are found or the whole table is read."""
    for minutes in (15, 30, 60, 120):
        found = sites_nearby(lng=lng, lat=lat, minutes=minutes, mode=mode, kind=kind, limit=limit, exclude_pk=exclude_pk)
        if len(found) >= limit:
            return found
    return found
