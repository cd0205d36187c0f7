"""Rollout tracking (上线推进): for every township and village/community in scope, whether its own
site is on the platform, since when, against the seed's dates (every township by 2021-06-01,
every village/community by 2021-09-01; ``BIANMIN_ROLLOUT_*_TARGET``), and what share of the
cases received there is handled there (本级办理率: not forwarded to a higher site, cohorts.py).

A township's site is its 便民服务中心; a village's is its 便民服务站/代办点 (kiosk sites do not
count). The day a site went live is the one recorded in ``SiteRollout`` (the rollout office's
register), else the first day it accepted a case (from the roll-ups: the first day row with
``received``), else it is not live yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Min
from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import require

from .conf import rollout_targets
from .models import DailyRollup, SiteRollout

ON_TIME, LATE, MISSING_LATE, MISSING = "on_time", "late", "missing_late", "missing"
STATUS_LABELS = {ON_TIME: "按期上线", LATE: "逾期上线", MISSING_LATE: "逾期未上线", MISSING: "未上线"}


@dataclass
class Row:
    area: object
    level: str
    site: object | None
    live_on: date | None
    live_source: str
    target: date
    status: str
    received: int
    handled_here: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def share(self) -> float | None:
        return None if not self.received else self.handled_here / self.received

    @property
    def share_percent(self) -> str:
        return "—" if self.share is None else f"{self.share * 100:.1f}%"


def rollout(*, actor: Principal, area, start: date, end: date, level: str | None = None,
            today: date | None = None) -> list[Row]:
    """The rows of the townships and villages under `area` (one level when `level` is given)."""
    from bianmin.regions.models import Area, ServiceSite

    require(actor, Cap.VIEW, area)
    today = today or timezone.localdate()
    targets = rollout_targets()
    levels = [level] if level else ["township", "village"]
    areas = list(Area.objects.filter(path__startswith=area.path, level__in=levels).order_by("code"))
    if area.level in levels and area not in areas:
        areas.insert(0, area)
    kind_of = {"township": "center", "village": "station"}
    sites: dict[int, object] = {}
    for s in ServiceSite.objects.filter(area__in=areas, active=True).select_related("area").order_by("code"):
        if s.kind == kind_of.get(s.area.level):
            sites.setdefault(s.area_id, s)
    site_ids = [s.pk for s in sites.values()]
    recorded = dict(SiteRollout.objects.filter(site_id__in=site_ids).values_list("site_id", "live_on"))
    first = dict(DailyRollup.objects.filter(site_key__in=site_ids, received__gt=0).values("site_key")
                 .annotate(d=Min("day")).values_list("site_key", "d"))
    counts = _received(site_ids, start, end)
    out = []
    for a in areas:
        site = sites.get(a.pk)
        live_on, source = None, ""
        if site is not None:
            if site.pk in recorded:
                live_on, source = recorded[site.pk], "登记"
            elif site.pk in first:
                live_on, source = first[site.pk], "首件受理"
        target = targets["township" if a.level == "township" else "village"]
        if live_on is not None:
            status = ON_TIME if live_on <= target else LATE
        else:
            status = MISSING_LATE if today > target else MISSING
        received, transferred = counts.get(site.pk, (0, 0)) if site is not None else (0, 0)
        out.append(Row(a, a.level, site, live_on, source, target, status, received, received - transferred))
    return out


def _received(site_ids: list[int], start: date, end: date) -> dict[int, tuple[int, int]]:
    """(received, transferred) per site over [start, end], from the roll-ups (one grouped read)."""
    from .rollups import slice_sums

    got = slice_sums(start, end, sites=site_ids, by="site", fields=("received", "transferred"))
    return {k[0]: (v["received"], v["transferred"]) for k, v in got.items()}


def summary(rows: list[Row]) -> list[dict]:
    """Per level: how many units, live by the target, live late, not live."""
    out = []
    for level, label in (("township", "乡镇（街道）"), ("village", "村（社区）")):
        mine = [r for r in rows if r.level == level]
        if not mine:
            continue
        n = len(mine)
        by = {k: sum(1 for r in mine if r.status == k) for k in STATUS_LABELS}
        live = by[ON_TIME] + by[LATE]
        out.append({"level": label, "n": n, "target": mine[0].target, "live": live, **by,
                    "live_percent": f"{live * 100 / n:.1f}%", "on_time_percent": f"{by[ON_TIME] * 100 / n:.1f}%"})
    return out

