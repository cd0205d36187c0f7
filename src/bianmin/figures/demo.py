"""Demo data of the figures: the synthetic village points (figures/data/README.md) and a rollout
register with plausible go-live dates for the demo sites (most townships before the seed's
2021-06-01, a few late; stations around the village target)."""

from __future__ import annotations

import csv
import hashlib
from datetime import date, timedelta
from pathlib import Path

POINTS = Path(__file__).resolve().parent / "data" / "350100-village-points.csv"


def read_points(path: Path = POINTS) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    return [(c, lng, lat) for c, lng, lat in rows[1:]]


def _unit(code: str) -> float:
    return int.from_bytes(hashlib.sha256(code.encode()).digest()[:8], "big") / 2**64


def load_demo_figures() -> dict:
    from bianmin.regions.models import ServiceSite

    from .coverage import load_points
    from .models import SiteRollout

    points = load_points(read_points(), source="演示数据（合成）")
    n = 0
    for site in ServiceSite.objects.filter(kind__in=("center", "station")).order_by("code"):
        u = _unit(site.code)
        if site.kind == "center":
            live = date(2021, 3, 1) + timedelta(days=int(u * 110))  # to 2021-06-19: a few after the target
        else:
            live = date(2021, 6, 15) + timedelta(days=int(u * 120))  # to 2021-10-13
        SiteRollout.objects.update_or_create(site=site, defaults={"live_on": live, "note": "演示数据"})
        n += 1
    return {"points": points, "rollout": n}
