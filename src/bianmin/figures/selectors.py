"""Reads of the figures: the rates of an area and of the areas below it, from the roll-ups, and
the same counted naively from the raw rows (the reference of the tests and the benchmark).
Every rule of what counts is in cohorts.py; here they are only summed and divided."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import require

from . import cohorts as C
from .models import FIELDS
from .rollups import area_sums

LIVE_FIELDS = ("rect_overdue_open", "appeal_overdue_open")


@dataclass
class Rate:
    key: str
    label: str
    numerator: int
    denominator: int
    numerator_metric: str = ""
    denominator_metric: str = ""
    lower_is_better: bool = False

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"

    @property
    def missing(self) -> int:
        return self.denominator - self.numerator

    @property
    def missing_metric(self) -> str:
        return MISSING_OF.get(self.key, self.denominator_metric)

    @property
    def below_target(self) -> bool:
        """Shown in red: the seed's targets are 100% (差评回访率, 整改率; on time too)."""
        return self.key in TARGET_100 and self.value is not None and self.numerator < self.denominator


TARGET_100 = {"followup", "rectification", "on_time"}

# key, label, numerator, denominator (counts of cohorts.py; "rect_due" and "appeal_due" add the
# live overdue rows to what the roll-ups hold).
RATE_DEFS = [
    ("case_on_time", "按时办结率", "on_time", "completed"),
    ("handled_here", "本级办理率", "handled_here", "received"),
    ("multi_trip", "跑多趟率", "multi_trip", "completed"),
    ("participation", "参评率", "evaluated", "completed"),
    ("satisfaction", "满意率", "satisfied", "evaluated"),
    ("followup", "差评回访率", "followed", "bad"),
    ("rectification", "差评整改率", "rectified", "bad"),
    ("on_time", "按期整改率", "rect_on_time", "rect_due"),
    ("appeal_on_time", "诉求按时答复率", "appeal_on_time", "appeal_due"),
    ("appeal_satisfaction", "诉求满意率", "appeal_satisfied", "appeal_rated"),
    ("fu_satisfaction", "回访满意率", "fu_satisfied", "fu_rated"),
]
EVALUATION_RATES = ("participation", "satisfaction", "followup", "rectification", "on_time")
MISSING_OF = {"followup": "not_followed", "rectification": "not_rectified", "on_time": "rect_late",
              "participation": "not_evaluated", "case_on_time": "late", "appeal_on_time": "appeal_late"}


def with_live(counts: dict[str, int], live: dict[str, int]) -> dict[str, int]:
    out = dict(counts)
    out["rect_due"] = counts.get("rect_done", 0) + live.get("rect_overdue_open", 0)
    out["appeal_due"] = counts.get("appeal_replied", 0) + live.get("appeal_overdue_open", 0)
    out["handled_here"] = counts.get("received", 0) - counts.get("transferred", 0)
    out.update(live)
    return out


def rates_from(counts: dict[str, int], keys=EVALUATION_RATES) -> list[Rate]:
    defs = {d[0]: d for d in RATE_DEFS}
    out = []
    for key in keys:
        _, label, num, den = defs[key]
        out.append(Rate(key, label, counts.get(num, 0), counts.get(den, 0), num, den, key == "multi_trip"))
    return out


# --- live counts (depend on today) ------------------------------------------------------------

def live_counts(where: C.Where, start: date, end: date, *, today: date | None = None,
                prefix: int | None = None) -> dict:
    """Open rectifications past their deadline and unreplied appeals past their due date, of the
    cohorts of [start, end]; grouped by the first ``prefix`` characters of the area path when
    given (few rows are open at any time: counted from the raw rows on every read)."""
    today = today or timezone.localdate()
    out: dict = {}
    for name, qs, path in (("rect_overdue_open", C.rows("rect_overdue_open", where, start, end, today=today), "area__path"),
                           ("appeal_overdue_open", C.rows("appeal_overdue_open", where, start, end, today=today),
                            "area__path")):
        if prefix:
            for child, n in qs.annotate(child=Substr(path, 1, prefix)).values("child").annotate(n=Count("pk")) \
                    .order_by().values_list("child", "n"):
                out.setdefault(child, dict.fromkeys(LIVE_FIELDS, 0))[name] = n
        else:
            out[name] = qs.count()
    return out


# --- rates of an area ---------------------------------------------------------------------------

def rates_for(area, start: date, end: date, *, today: date | None = None, keys=EVALUATION_RATES) -> list[Rate]:
    """The rates of an area's subtree from the areas' roll-ups (month rows for whole months, day
    rows for the ends): at most 12 + 62 rows, whatever the row counts below."""
    where = C.Where(area.path)
    counts = area_sums([area.path], start, end).get((area.path,), dict.fromkeys(FIELDS, 0))
    return rates_from(with_live(counts, live_counts(where, start, end, today=today)), keys)


def naive_counts(where: C.Where, start: date | None, end: date | None, *, today: date | None = None) -> dict[str, int]:
    """Every count of cohorts.py from the raw rows, one query per figure: what the roll-ups are
    checked and benchmarked against."""
    names = ["completed", "on_time", "multi_trip", "evaluated", "satisfied", "defaulted", "bad", "followed",
             "rectified", "received", "transferred", "handled_here", "rect_found", "rect_done", "rect_on_time", "rect_due", "appeals",
             "appeal_replied", "appeal_on_time", "appeal_due", "appeal_rated", "appeal_satisfied", "fu_rated",
             "fu_satisfied", "rect_overdue_open", "appeal_overdue_open"]
    return {n: C.rows(n, where, start, end, today=today).count() for n in names}


def rates_for_naive(area, start: date, end: date, *, today: date | None = None, keys=EVALUATION_RATES) -> list[Rate]:
    return rates_from(naive_counts(C.Where(area.path), start, end, today=today), keys)


@dataclass
class AreaRates:
    area: object
    rates: list[Rate] = field(default_factory=list)

    def get(self, key: str) -> Rate:
        return next(r for r in self.rates if r.key == key)


def child_areas(area):
    return [c for c in area.children.order_by("code") if c.level in ("district", "township")]


def rates_by_area(*, actor: Principal, area, start: date, end: date, keys=EVALUATION_RATES
                  ) -> tuple[AreaRates, list[AreaRates]]:
    """The area's own figures and those of each area directly below it: one grouped read of the
    areas' roll-ups (and of the few open overdue rows) for the whole page."""
    require(actor, Cap.VIEW, area)
    width = len(area.path) + 13  # a child's path: the parent's and one 12-digit code and "/"
    where = C.Where(area.path)
    kids = child_areas(area)
    got = area_sums([area.path, *(c.path for c in kids)], start, end)
    live = live_counts(where, start, end, prefix=width)
    zero = dict.fromkeys(FIELDS, 0)
    total = got.get((area.path,), zero)
    total_live = {k: sum(v.get(k, 0) for v in live.values()) for k in LIVE_FIELDS}
    children = [AreaRates(c, rates_from(with_live(got.get((c.path,), zero), live.get(c.path, {})), keys))
                for c in kids]
    return AreaRates(area, rates_from(with_live(total, total_live), keys)), children


def missing_items(*, actor: Principal, area, key: str, start: date, end: date):
    """The rows behind a rate below 100% (one click from the red figure)."""
    require(actor, Cap.VIEW, area)
    metric = MISSING_OF.get(key)
    if metric is None:
        raise ValueError(key)
    return C.rows(metric, C.Where(area.path), start, end)


def area_in_scope_q(actor: Principal, field: str = "path") -> Q:
    q = Q(pk__in=[])
    for p in actor.area_paths_for(Cap.VIEW):
        q |= Q(**{f"{field}__startswith": p})
    return q
