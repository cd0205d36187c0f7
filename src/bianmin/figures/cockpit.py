"""The cockpit (指挥驾驶舱): the figures of one place — the city, a district, a township, a site
or a window — over a period, with its children (one level down), a time series, rankings and,
for the city, the map of its districts. Every number is a sum of roll-up rows (rollups.sums)
plus the few live counts of open overdue rows, and every number has the rows behind it
(cohorts.rows with the same place, period and metric).

One grouped read serves a whole page: the slices under the place are summed by (grandchild,
period) — a township per month for the city — and the children, the series, the total and the
rankings are added up from that in Python. At 10M evaluations the city's year is a few thousand
month rows and the two ragged ends' day rows (bench/bench_cockpit.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F
from django.db.models.functions import Substr
from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.errors import NotFound
from bianmin.core.principal import Principal
from bianmin.core.scoping import require

from . import cohorts as C
from .models import FIELDS
from .providers import provided_figures
from .rollups import sums
from .selectors import LIVE_FIELDS, RATE_DEFS, Rate, rates_from, with_live

CODE = 13  # one level of an area path: a 12-digit code and "/"

# The cockpit's tiles: (section, label, metric of the count) and the rates shown per section.
COUNT_TILES = [
    ("办件", "受理件数", "received"), ("办件", "办结件数", "completed"), ("办件", "超期办结", "late"),
    ("办件", "在办超期（当前）", "open_overdue"), ("办件", "跑多趟", "multi_trip"),
    ("好差评", "主动评价", "evaluated"), ("好差评", "默认好评", "defaulted"), ("好差评", "差评", "bad"),
    ("诉求", "诉求件数", "appeals"), ("诉求", "逾期未答复（当前）", "appeal_overdue_open"),
    ("整改", "发现问题", "rect_found"), ("整改", "逾期未整改（当前）", "rect_overdue_open"),
]
SECTION_RATES = {
    "办件": ("case_on_time", "multi_trip"),
    "好差评": ("participation", "satisfaction", "followup", "rectification"),
    "诉求": ("appeal_on_time", "appeal_satisfaction"),
    "整改": ("on_time", "fu_satisfaction"),
}
ALL_RATES = tuple(d[0] for d in RATE_DEFS)
RANK_KEYS = ("satisfaction", "participation", "case_on_time", "followup", "rectification", "appeal_on_time")


@dataclass
class Place:
    """Where the cockpit stands: an area, or a site of it, or a window of the site."""

    area: object
    site: object | None = None
    window: object | None = None

    @property
    def where(self) -> C.Where:
        if self.site is None:
            return C.Where(self.area.path)
        return C.Where(self.site.area.path, site=self.site.pk,
                       window=None if self.window is None else self.window.pk)

    @property
    def level(self) -> str:
        if self.window is not None:
            return "window"
        if self.site is not None:
            return "site"
        return self.area.level

    @property
    def name(self) -> str:
        if self.window is not None:
            return f"{self.site.name} {self.window.number}号窗口"
        return self.site.name if self.site is not None else self.area.name

    def params(self) -> dict:
        p = {"area": self.area.code}
        if self.site is not None:
            p["site"] = self.site.pk
        if self.window is not None:
            p["window"] = self.window.pk
        return p


def place_get(*, actor: Principal, area_code: str | None = None, site_id: int | None = None,
              window_id: int | None = None) -> Place:
    """The place asked for, within the viewer's scope (404 otherwise). A site belongs to the
    area asked for when its area is in that area's subtree."""
    from bianmin.regions.models import Area, ServiceSite, Window

    if area_code:
        area = Area.objects.filter(code=area_code).first()
    else:
        paths = actor.area_paths_for(Cap.VIEW)
        area = Area.objects.filter(path=paths[0]).first() if paths else None
    if area is None:
        raise NotFound("未找到该区划")
    require(actor, Cap.VIEW, area)
    site = window = None
    if site_id:
        site = ServiceSite.objects.select_related("area").filter(pk=site_id, area__path__startswith=area.path).first()
        if site is None:
            raise NotFound("未找到该场所")
        if window_id:
            window = Window.objects.filter(pk=window_id, site=site).first()
            if window is None:
                raise NotFound("未找到该窗口")
    return Place(area, site, window)


@dataclass
class Child:
    key: object
    name: str
    params: dict
    counts: dict[str, int]
    rates: list[Rate] = field(default_factory=list)

    def rate(self, key: str) -> Rate:
        return next(r for r in self.rates if r.key == key)


@dataclass
class Cockpit:
    place: Place
    start: date
    end: date
    grain: str
    counts: dict[str, int]
    rates: list[Rate]
    children: list[Child]
    child_kind: str
    series: list[tuple[date, dict[str, int], list[Rate]]]
    rankings: list[Child]
    ranking_kind: str
    crumbs: list[tuple[str, dict]]
    provided: list[dict]

    def rate(self, key: str) -> Rate:
        return next(r for r in self.rates if r.key == key)


def _children_of(place: Place, actor: Principal):
    """(kind, group spec for sums(), [(key, name, params)]) one level down."""
    from bianmin.regions.models import Area, ServiceSite, Window

    if place.window is not None:
        return "", None, []
    if place.site is not None:
        wins = Window.objects.filter(site=place.site).order_by("number")
        items = [(w.pk, f"{w.number}号窗口 {w.name}", {**place.params(), "window": w.pk}) for w in wins]
        items.append((0, "未指定窗口（网上、外部系统）", {**place.params(), "window": 0}))
        return "窗口", "window", items
    area = place.area
    if area.level in ("township", "village"):
        sites = ServiceSite.objects.filter(area__path__startswith=area.path).exclude(kind="kiosk").order_by("kind", "code")
        items = [(s.pk, s.name, {"area": area.code, "site": s.pk}) for s in sites]
        return "服务场所", "site", items
    kids = Area.objects.filter(parent=area, level__in=("district", "township")).order_by("code")
    items = [(c.path, c.name, {"area": c.code}) for c in kids if actor.sees_area(c)]
    return ("县（市）区" if area.level == "city" else "乡镇（街道）"), ("prefix", len(area.path) + CODE), items


def _live_grouped(place: Place, start: date, end: date, group, today: date) -> dict:
    """Live counts (open overdue rectifications, appeals and cases) per child key, and "" for all."""
    where = place.where
    out: dict = {}

    def add(qs, name, path_field, site_field, window_field):
        blank = dict.fromkeys((*LIVE_FIELDS, "open_overdue"), 0)
        if group is None or (group == "window" and window_field is None):
            out.setdefault("", dict(blank))[name] += qs.count()
            return
        if group == "site":
            grouped = qs.values(k=F(site_field))
        elif group == "window":
            grouped = qs.values(k=F(window_field))
        else:
            grouped = qs.annotate(k=Substr(path_field, 1, group[1])).values("k")
        for r in grouped.annotate(n=Count("pk")).order_by():
            k = r["k"] if r["k"] is not None else 0
            out.setdefault(k, dict(blank))[name] += r["n"]
            out.setdefault("", dict(blank))[name] += r["n"]

    add(C.rows("rect_overdue_open", where, start, end, today=today), "rect_overdue_open", "area__path", "site_id", None)
    add(C.rows("appeal_overdue_open", where, start, end, today=today), "appeal_overdue_open", "area__path", "site_id",
        None)
    add(C.rows("open_overdue", where, None, None, today=today), "open_overdue", "site__area__path", "site_id",
        "window_id")
    return out


def cockpit(*, actor: Principal, place: Place, start: date, end: date, grain: str = "month",
            today: date | None = None) -> Cockpit:
    today = today or timezone.localdate()
    require(actor, Cap.VIEW, place.area)
    if grain == "day" and (end - start).days > 92:
        grain = "month"
    where = place.where
    child_kind, group, items = _children_of(place, actor)
    # One grouped read: by (grandchild or child, period) — rankings come from the finer grouping.
    rank_group = None
    if group is not None and not isinstance(group, str) and place.area.level == "city":
        rank_group = ("prefix", group[1] + CODE)  # townships, for the city's ranking
    fine = rank_group or group
    by = tuple(x for x in (fine, grain) if x is not None)
    got = sums(where, start, end, by=by)
    zero = dict.fromkeys(FIELDS, 0)
    # Add up with lists (a few thousand grouped rows × every field: dict arithmetic showed in the profile).
    width = len(FIELDS)
    per_fine: dict = {}
    per_period: dict = {}
    for key, counts in got.items():
        values = [counts[k] for k in FIELDS]
        for bucket, k in ((per_fine, key[0] if fine is not None else None), (per_period, key[-1])):
            acc = bucket.get(k)
            if acc is None:
                bucket[k] = values[:]
            else:
                for i in range(width):
                    acc[i] += values[i]
    per_child: dict = {}
    for fine_key, values in per_fine.items():
        child_key = fine_key[: group[1]] if rank_group is not None and fine_key is not None else fine_key
        acc = per_child.setdefault(child_key, [0] * width)
        for i in range(width):
            acc[i] += values[i]
    total_list = [sum(v[i] for v in per_child.values()) for i in range(width)]

    def as_counts(values):
        return dict(zip(FIELDS, values, strict=True))

    total = as_counts(total_list)
    per_child = {k: as_counts(v) for k, v in per_child.items()}
    per_period = {k: as_counts(v) for k, v in per_period.items()}
    per_fine = {k: as_counts(v) for k, v in per_fine.items()} if rank_group is not None else {}
    live = _live_grouped(place, start, end, group, today)
    total_live = live.get("", {})
    counts = with_live(total, total_live)
    counts["open_overdue"] = total_live.get("open_overdue", 0)
    counts["late"] = counts["completed"] - counts["on_time"]
    children = []
    for key, name, params in items:
        c = with_live(per_child.get(key, zero), live.get(key, {}))
        c["open_overdue"] = live.get(key, {}).get("open_overdue", 0)
        c["late"] = c["completed"] - c["on_time"]
        children.append(Child(key, name, params, c, rates_from(c, ALL_RATES)))
    series = []
    for period in sorted(p for p in per_period if p is not None):
        c = per_period[period]
        series.append((period, c, rates_from(c, ALL_RATES)))
    if rank_group is not None:
        rankings = _township_rankings(per_fine, place, actor)
        ranking_kind = "乡镇（街道）"
    else:
        rankings, ranking_kind = [c for c in children if c.counts["completed"]], child_kind
    return Cockpit(place=place, start=start, end=end, grain=grain, counts=counts, rates=rates_from(counts, ALL_RATES),
                   children=children, child_kind=child_kind, series=series, rankings=rankings,
                   ranking_kind=ranking_kind, crumbs=crumbs(place, actor),
                   provided=provided_figures(place=place, start=start, end=end))


def _township_rankings(per_fine: dict, place: Place, actor: Principal) -> list[Child]:
    from bianmin.regions.models import Area

    towns = {a.path: a for a in Area.objects.filter(path__in=[k for k in per_fine if k], level="township")
             .only("code", "name", "path")}
    out = []
    for path, counts in per_fine.items():
        a = towns.get(path)
        if a is None or not counts["completed"]:
            continue
        out.append(Child(path, a.name, {"area": a.code}, counts, rates_from(counts, ALL_RATES)))
    return out


def ranked(children: list[Child], key: str, *, limit: int | None = None) -> list[Child]:
    """Best first by the rate `key` (those without a figure last); ties by the larger cohort."""
    lower = dict((d[0], d[0] == "multi_trip") for d in RATE_DEFS)[key]

    def sort_key(c: Child):
        v = c.rate(key).value
        if v is None:
            return (1, 0, 0)
        return (0, v if lower else -v, -c.rate(key).denominator)

    out = sorted(children, key=sort_key)
    return out[:limit] if limit else out


def crumbs(place: Place, actor: Principal) -> list[tuple[str, dict]]:
    """The way up from the place, as far as the viewer sees."""
    from bianmin.regions.models import Area

    codes = [c for c in place.area.path.strip("/").split("/")]
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    out = []
    for code in codes:
        a = areas.get(code)
        if a is not None and actor.sees_area(a) and actor.can(Cap.VIEW, a):
            out.append((a.name, {"area": a.code}))
    if place.site is not None:
        out.append((place.site.name, {"area": place.area.code, "site": place.site.pk}))
    if place.window is not None:
        out.append((f"{place.window.number}号窗口", place.params()))
    return out


def map_values(cockpit_: Cockpit, key: str) -> list[dict]:
    """The district map's values: one per child area with the rate `key` in percent."""
    out = []
    for c in cockpit_.children:
        v = c.rate(key).value
        out.append({"name": c.name, "value": None if v is None else round(v * 100, 1),
                    "n": c.rate(key).denominator})
    return out


def days_back(today: date, n: int) -> date:
    return today - timedelta(days=n)
