"""Make the demo city's synthetic geography (deterministic; run from the repository root):

    uv run python src/bianmin/figures/data/make_demo_geo.py

1. ``350100-village-points.csv``: a point for every village/community of the area file, placed
   around its township's service center (the demo site file's coordinates): communities of a
   街道 within 0.3–1.6 km, villages of a 镇/乡 0.6–9 km away, in a direction and distance drawn
   from a hash of the code. Townships without a center take the mean of their district's centers.
2. ``../static/figures/350100-districts.geojson``: district outlines for the cockpit's map. A grid
   of 0.015° cells around the points (a cell is kept within 0.09° of a point) is given to the
   district of the nearest township center, and each district's cells are traced into polygons.

Both are SYNTHETIC: plausible for a demonstration, not surveyed, not official boundaries. A real
deployment loads the city's own village coordinates (``bianmin manage load_area_points FILE``) and
its official district outlines (same file name, GeoJSON with ``properties.name`` and ``code``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGIONS = HERE.parent.parent / "regions" / "data"
STATIC = HERE.parent / "static" / "figures"


def _rows(path: Path):
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def _unit(code: str, salt: str) -> float:
    h = hashlib.sha256(f"{salt}:{code}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def main() -> None:
    areas = _rows(REGIONS / "350100-2023.csv")
    sites = _rows(REGIONS / "350100-sites.csv")
    by_code = {a["code"]: a for a in areas}
    centers = {s["area_code"]: (float(s["lng"]), float(s["lat"])) for s in sites if s["kind"] == "center" and s["lng"]}
    district_of = {}
    for a in areas:
        if a["level"] == "township":
            district_of[a["code"]] = a["parent_code"]
    by_district = defaultdict(list)
    for town, point in centers.items():
        if town in district_of:
            by_district[district_of[town]].append(point)
    seat = {d: (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)) for d, pts in by_district.items()}
    town_point = {t: centers.get(t) or seat.get(d) for t, d in district_of.items()}

    out = []
    for a in areas:
        if a["level"] != "village":
            continue
        town = by_code[a["parent_code"]]
        base = town_point.get(town["code"])
        if base is None:
            continue
        urban = town["name"].endswith("街道")
        lo, hi = (0.3, 1.6) if urban else (0.6, 9.0)
        dist_km = lo + (hi - lo) * _unit(a["code"], "r") ** 0.8
        angle = 2 * math.pi * _unit(a["code"], "a")
        dlat = dist_km / 111.0 * math.sin(angle)
        dlng = dist_km / (111.0 * math.cos(math.radians(base[1]))) * math.cos(angle)
        out.append((a["code"], round(base[0] + dlng, 5), round(base[1] + dlat, 5)))
    with (HERE / "350100-village-points.csv").open("w", encoding="utf-8", newline="") as f:
        f.write("# 福州市村（社区）位置（演示数据，合成）\n")
        f.write("# 来源：由 make_demo_geo.py 根据演示场所文件中各乡镇（街道）便民服务中心坐标加确定性偏移生成；非实测，仅供演示15分钟便民服务圈分析\n")
        f.write("# 版本：2023-demo-1\n")
        w = csv.writer(f)
        w.writerow(["code", "lng", "lat"])
        w.writerows(out)

    # --- district outlines from a grid ---------------------------------------------------------
    step = 0.015
    points = [(lng, lat) for _c, lng, lat in out] + list(centers.values())
    towns = [(p, district_of[t]) for t, p in town_point.items() if p is not None]
    min_lng, max_lng = min(p[0] for p in points) - 0.1, max(p[0] for p in points) + 0.1
    min_lat, max_lat = min(p[1] for p in points) - 0.1, max(p[1] for p in points) + 0.1
    nx, ny = int((max_lng - min_lng) / step) + 1, int((max_lat - min_lat) / step) + 1
    near = set()
    reach = int(0.09 / step) + 1
    for lng, lat in points:
        i0, j0 = int((lng - min_lng) / step), int((lat - min_lat) / step)
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                if di * di + dj * dj <= reach * reach:
                    near.add((i0 + di, j0 + dj))
    owner = {}
    for i, j in near:
        if not (0 <= i < nx and 0 <= j < ny):
            continue
        cx, cy = min_lng + (i + 0.5) * step, min_lat + (j + 0.5) * step
        best = min(towns, key=lambda t: (t[0][0] - cx) ** 2 + (t[0][1] - cy) ** 2)
        owner[(i, j)] = best[1]
    features = []
    for d in sorted(set(owner.values())):
        cells = {c for c, o in owner.items() if o == d}
        rings = _trace(cells)
        polys = [[[[round(min_lng + x * step, 4), round(min_lat + y * step, 4)] for x, y in ring]] for ring in rings]
        features.append({"type": "Feature", "properties": {"name": by_code[d]["name"], "code": d, "synthetic": True},
                         "geometry": {"type": "MultiPolygon", "coordinates": polys}})
    STATIC.mkdir(parents=True, exist_ok=True)
    geo = {"type": "FeatureCollection",
           "properties": {"note": "演示用合成区划轮廓（由服务中心坐标按最近中心划分网格生成），非官方边界"},
           "features": features}
    (STATIC / "350100-districts.geojson").write_text(json.dumps(geo, ensure_ascii=False, separators=(",", ":")),
                                                     encoding="utf-8")
    print(f"{len(out)} village points; {len(features)} districts")


def _trace(cells: set[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The outer rings of a set of grid cells (counter-clockwise; holes are dropped, a demo map
    does not need them): boundary edges chained into closed rings, collinear points removed."""
    edges: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for x, y in cells:
        for (a, b), nb in ((((x, y), (x + 1, y)), (x, y - 1)), (((x + 1, y), (x + 1, y + 1)), (x + 1, y)),
                           (((x + 1, y + 1), (x, y + 1)), (x, y + 1)), (((x, y + 1), (x, y)), (x - 1, y))):
            if nb not in cells:
                edges[a].append(b)
    rings = []
    while edges:
        start = next(iter(edges))
        ring = [start]
        cur = start
        while True:
            nxt = edges[cur].pop()
            if not edges[cur]:
                del edges[cur]
            if nxt == start:
                break
            ring.append(nxt)
            cur = nxt
            if cur not in edges:
                break
        ring = _simplify(ring)
        if len(ring) >= 3 and _area(ring) > 0:
            ring.append(ring[0])
            rings.append(ring)
    return rings


def _simplify(ring):
    out = []
    n = len(ring)
    for k in range(n):
        a, b, c = ring[k - 1], ring[k], ring[(k + 1) % n]
        if (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) != 0:
            out.append(b)
    return out


def _area(ring) -> float:
    return sum(ring[k][0] * ring[(k + 1) % len(ring)][1] - ring[(k + 1) % len(ring)][0] * ring[k][1]
               for k in range(len(ring))) / 2


if __name__ == "__main__":
    main()
