"""The 15-minute service circle (15分钟便民服务圈): which villages/communities are farther than 15
minutes from every service center or station, walking and driving, per district — the gaps a
district must close.

Distances as the nearest-site search assumes (regions.selectors): the straight line times the
detour factor 1.3, at 4.5 km/h walking or 25 km/h driving; kiosk sites do not count (a kiosk is
not a place where a case is handled). A village's place is its ``AreaPoint`` (the demo city's are
synthetic, figures/data/README.md); a village without one is listed as unknown, not as covered."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import require

from .models import AreaPoint

LIMIT_MINUTES = 15


@dataclass
class Village:
    area: object
    district: object | None
    lng: float | None
    lat: float | None
    nearest: object | None = None
    distance_m: float | None = None
    walk_min: float | None = None
    drive_min: float | None = None

    @property
    def walk_gap(self) -> bool:
        return self.walk_min is not None and self.walk_min > LIMIT_MINUTES

    @property
    def drive_gap(self) -> bool:
        return self.drive_min is not None and self.drive_min > LIMIT_MINUTES


def coverage(*, actor: Principal, area) -> list[Village]:
    from bianmin.regions.models import Area, ServiceSite
    from bianmin.regions.selectors import haversine_m, travel_minutes

    require(actor, Cap.VIEW, area)
    villages = list(Area.objects.filter(path__startswith=area.path, level="village").order_by("code"))
    points = {p.area_id: p for p in AreaPoint.objects.filter(area__in=villages)}
    districts = {a.path: a for a in Area.objects.filter(level="district")}
    sites = list(ServiceSite.objects.filter(kind__in=("center", "station"), active=True, lng__isnull=False,
                                            lat__isnull=False).only("pk", "name", "lng", "lat", "area_id"))
    # A coarse grid of the sites (about 11 km cells) so each village looks at its neighbourhood only.
    cell = 0.1
    grid: dict[tuple[int, int], list] = {}
    for s in sites:
        grid.setdefault((int(s.lng // cell), int(s.lat // cell)), []).append(s)
    out = []
    for v in villages:
        p = points.get(v.pk)
        district = districts.get(v.path[:26])
        row = Village(v, district, p.lng if p else None, p.lat if p else None)
        if p is not None and sites:
            gx, gy = int(p.lng // cell), int(p.lat // cell)
            best, best_d = None, math.inf
            for ring in range(0, 30):
                cand = [s for dx in range(-ring, ring + 1) for dy in range(-ring, ring + 1)
                        if max(abs(dx), abs(dy)) == ring for s in grid.get((gx + dx, gy + dy), ())]
                for s in cand:
                    d = haversine_m(p.lng, p.lat, s.lng, s.lat)
                    if d < best_d:
                        best, best_d = s, d
                if best is not None and best_d < ring * cell * 90_000:  # nothing nearer can lie further out
                    break
            row.nearest, row.distance_m = best, best_d
            row.walk_min, row.drive_min = travel_minutes(best_d, "walk"), travel_minutes(best_d, "drive")
        out.append(row)
    return out


def by_district(rows: list[Village]) -> list[dict]:
    acc: dict = {}
    for r in rows:
        key = r.district.code if r.district else ""
        d = acc.setdefault(key, {"district": r.district, "n": 0, "known": 0, "walk_gap": 0, "drive_gap": 0})
        d["n"] += 1
        d["known"] += r.walk_min is not None
        d["walk_gap"] += r.walk_gap
        d["drive_gap"] += r.drive_gap
    out = []
    for d in sorted(acc.values(), key=lambda d: d["district"].code if d["district"] else ""):
        d["walk_covered"] = "—" if not d["known"] else f"{(d['known'] - d['walk_gap']) * 100 / d['known']:.1f}%"
        d["drive_covered"] = "—" if not d["known"] else f"{(d['known'] - d['drive_gap']) * 100 / d['known']:.1f}%"
        out.append(d)
    return out


def load_points(rows, *, source: str) -> int:
    """Load (code, lng, lat) rows of villages; idempotent (a point is replaced)."""
    from bianmin.regions.models import Area

    ids = dict(Area.objects.filter(level="village").values_list("code", "pk"))
    n = 0
    for code, lng, lat in rows:
        area_id = ids.get(code)
        if area_id is None:
            continue
        AreaPoint.objects.update_or_create(area_id=area_id, defaults={"lng": float(lng), "lat": float(lat),
                                                                      "source": source[:100]})
        n += 1
    return n
