"""The cockpit (指挥驾驶舱): the figures of one place — the city, a district, a township, a site
or a window — over a period, with its children (one level down), a time series, rankings and,
for the city, the map of its districts. Every number is a sum of roll-up rows (rollups.sums)
plus the few live counts of open overdue rows, and every number has the rows behind it
(cohorts.rows with the same place, period and metric).

Two grouped reads of pre-summed rows serve a whole page (rollups.area_sums / slice_sums): the
place's series (one row a month or a day), and one row per child and per ranked township, summed
in SQL over the month rows of the whole months and the day rows of the ragged ends. An area's
rows hold its whole subtree, so the city's year reads one row a month per area shown (city,
13 districts, 186 townships) and Python handles only the rows returned: a page costs the same
with 1,000 or 10,000,000 evaluations (bench/bench_cockpit.py)."""

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
from .rollups import area_sums, slice_sums
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
    """(kind, by, [(key, name, params)]) one level down: by "window" (a site's windows), "site"
    (a township's or village's sites) or "area" (a city's districts, a district's townships)."""
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
    kids = Area.objects.filter(parent=area, level__in=("district", "township")).order_by("code").only(
        "code", "name", "path", "level", "parent_id")
    items = [(c.path, c.name, {"area": c.code}) for c in kids if actor.sees_area(c)]
    return ("县（市）区" if area.level == "city" else "乡镇（街道）"), "area", items


def _live_grouped(place: Place, start: date, end: date, by, width: int | None, today: date) -> dict:
    """Live counts (open overdue rectifications, appeals and cases) per key — an area path cut
    to ``width`` characters, a site or a window — and "" for all. Few rows are open at a time:
    counted from the raw rows on every read."""
    where = place.where
    out: dict = {}

    def add(qs, name, path_field, site_field, window_field):
        blank = dict.fromkeys((*LIVE_FIELDS, "open_overdue"), 0)
        if by is None or (by == "window" and window_field is None):
            n = qs.count()
            out.setdefault("", dict(blank))[name] += n
            if by == "window":  # rows of no window (rectifications, appeals) are the site's window 0
                out.setdefault(0, dict(blank))[name] += n
            return
        if by == "site":
            grouped = qs.values(k=F(site_field))
        elif by == "window":
            grouped = qs.values(k=F(window_field))
        else:
            grouped = qs.annotate(k=Substr(path_field, 1, width)).values("k")
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


def _finish(counts: dict[str, int], live: dict) -> dict[str, int]:
    """The roll-up counts with the live ones and what is derived from both."""
    c = with_live(counts, live)
    c["open_overdue"] = live.get("open_overdue", 0)
    c["late"] = c["completed"] - c["on_time"]
    return c


def _live_of(live: dict, prefix: str) -> dict:
    """The live counts of an area from counts keyed by the paths of the areas below it."""
    out = dict.fromkeys((*LIVE_FIELDS, "open_overdue"), 0)
    for k, v in live.items():
        if k and isinstance(k, str) and k.startswith(prefix):
            for name, n in v.items():
                out[name] += n
    return out


def cockpit(*, actor: Principal, place: Place, start: date, end: date, grain: str = "month",
            today: date | None = None) -> Cockpit:
    from bianmin.regions.models import Area

    today = today or timezone.localdate()
    require(actor, Cap.VIEW, place.area)
    if grain == "day" and (end - start).days > 92:
        grain = "month"
    where = place.where
    child_kind, by, items = _children_of(place, actor)
    zero = dict.fromkeys(FIELDS, 0)
    towns: list = []
    if place.site is None:
        # The place, its children and (for the city) every township ranked: one row each.
        if place.area.level == "city":
            towns = list(Area.objects.filter(path__startswith=place.area.path, level="township").order_by("code")
                         .only("code", "name", "path"))
        paths = [place.area.path, *(k for k, _n, _p in items if by == "area"), *(t.path for t in towns)]
        per_child = {k[0]: v for k, v in area_sums(paths, start, end).items()}
        total = per_child.get(place.area.path, zero)
        if by == "site":
            per_child = {k[0]: v for k, v in slice_sums(start, end, sites=[k for k, _n, _p in items], by="site").items()}
        series_got = {k[1]: v for k, v in area_sums([place.area.path], start, end, per=grain).items()}
    else:
        sites = [place.site.pk]
        total = slice_sums(start, end, sites=sites, window=where.window).get((), zero)
        per_child = {k[0]: v for k, v in slice_sums(start, end, sites=sites, by="window").items()} \
            if by == "window" else {}
        series_got = {k[0]: v for k, v in slice_sums(start, end, sites=sites, window=where.window, per=grain).items()}
    # Live counts: by the finest key shown (townships for the city), added up to the children.
    if towns:
        width = len(towns[0].path)
    elif by == "area":
        width = len(items[0][0]) if items else None
    else:
        width = None
    live = _live_grouped(place, start, end, by if by != "area" else ("area" if width else None), width, today)
    counts = _finish(total, live.get("", {}))
    children = []
    for key, name, params in items:
        child_live = _live_of(live, key) if by == "area" else live.get(key, {})
        c = _finish(per_child.get(key, zero), child_live)
        children.append(Child(key, name, params, c, rates_from(c, ALL_RATES)))
    series = [(period, c, rates_from(c, ALL_RATES)) for period, c in sorted(series_got.items())]
    if towns:
        rankings = []
        for t in towns:
            c = per_child.get(t.path)
            if c is None or not c["completed"]:
                continue
            c = _finish(c, live.get(t.path, {}))
            rankings.append(Child(t.path, t.name, {"area": t.code}, c, rates_from(c, ALL_RATES)))
        ranking_kind = "乡镇（街道）"
    else:
        rankings, ranking_kind = [c for c in children if c.counts["completed"]], child_kind
    return Cockpit(place=place, start=start, end=end, grain=grain, counts=counts, rates=rates_from(counts, ALL_RATES),
                   children=children, child_kind=child_kind, series=series, rankings=rankings,
                   ranking_kind=ranking_kind, crumbs=crumbs(place, actor),
                   provided=provided_figures(place=place, start=start, end=end))


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
