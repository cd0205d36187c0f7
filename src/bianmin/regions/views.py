"""Public pages: the "15-minute service circle" finder (the site's home page) and a site's page.
Work without JavaScript: the district → township choice is a plain GET form."""

from __future__ import annotations

from django.shortcuts import render

from bianmin.core import pagecache
from bianmin.core.errors import NotFound

from . import selectors
from .models import Area, ServiceSite


def _with_estimates(found: list[selectors.NearbySite]) -> list[dict]:
    return [
        {"site": n.site, "distance_m": n.distance_m,
         "walk_minutes": selectors.estimate_minutes(n.distance_m, "walk"),
         "drive_minutes": selectors.estimate_minutes(n.distance_m, "drive")}
        for n in found
    ]


def _pick(areas: list[Area], code: str) -> Area | None:
    code = (code or "").strip()
    return next((a for a in areas if a.code == code), None)


def _cached(request, name: str, build):
    # Read from areas and sites only; see core/pagecache.py.
    return pagecache.serve(request, key=f"regions:{name}:{request.get_full_path()}", namespaces=(pagecache.REGIONS,),
                           build=build, personal_vary=True)


def public_home(request):
    return _cached(request, "home", lambda: _public_home(request))


def _public_home(request):
    """Choose a district, then a township: the township's center, its stations, kiosks within a
    15-minute walk of the center, and the nearest other centers. Or, with JavaScript, the
    browser's location (see static/bianmin/nearby.js, which calls the nearby API)."""
    city = selectors.area_top_city()
    districts = list(selectors.area_districts(city=city)) if city else []
    district = _pick(districts, request.GET.get("district", ""))
    townships = list(selectors.area_children(area=district)) if district else []
    township = _pick(townships, request.GET.get("township", ""))
    context = {
        "city": city, "districts": districts, "district": district, "townships": townships, "township": township,
        "walk_speed": round(selectors.SPEED_M_PER_MIN["walk"]), "drive_kmh": round(selectors.SPEED_M_PER_MIN["drive"] * 60 / 1000),
        "detour": selectors.DETOUR_FACTOR,
    }
    if township is not None:
        centers = list(selectors.sites_in_area(area=township, kind=ServiceSite.Kind.CENTER))
        context["centers"] = centers
        context["stations"] = list(selectors.sites_in_area(area=township, kind=ServiceSite.Kind.STATION))
        origin = next((c for c in centers if c.has_location), None)
        if origin is not None:
            context["kiosks"] = _with_estimates(selectors.sites_nearby(
                lng=origin.lng, lat=origin.lat, minutes=15, mode="walk", kind=ServiceSite.Kind.KIOSK, limit=10))
            context["other_centers"] = _with_estimates(selectors.sites_nearest(
                lng=origin.lng, lat=origin.lat, kind=ServiceSite.Kind.CENTER, limit=5, exclude_pk=origin.pk))
        else:
            # No center of its own (a farm, an overseas-Chinese zone…): show the district's.
            context["district_centers"] = list(selectors.sites_in_area(area=district, kind=ServiceSite.Kind.CENTER)[:20])
    elif district is not None:
        context["district_centers"] = list(selectors.sites_in_area(area=district, kind=ServiceSite.Kind.CENTER))
    return render(request, "public_home.html", context)


def site_detail(request, code: str):
    return _cached(request, "site", lambda: _site_detail(request, code))


def _site_detail(request, code: str):
    try:
        site = selectors.site_get(code=code)
    except NotFound:
        return render(request, "regions/site_not_found.html", {"code": code}, status=404)
    context = {"site": site, "windows": list(site.windows.all())}
    if site.has_location:
        context["nearby"] = _with_estimates(selectors.sites_nearby(
            lng=site.lng, lat=site.lat, minutes=15, mode="walk", limit=8, exclude_pk=site.pk))
    context["child_sites"] = list(site.child_sites.filter(active=True).order_by("kind", "code")[:50]) if site.kind == ServiceSite.Kind.CENTER else []
    return render(request, "regions/site_detail.html", context)
