"""The figures' API: the rates of an area and its children, and the cockpit's figures."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema

from bianmin.accounts.auth import staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.errors import Invalid

from . import selectors

router = Router(tags=["统计与决策"])


class RateOut(Schema):
    key: str
    label: str
    numerator: int
    denominator: int
    value: float | None
    below_target: bool


class AreaRatesOut(Schema):
    area_code: str
    area: str
    rates: list[RateOut]


def _rate(r) -> dict:
    return {"key": r.key, "label": r.label, "numerator": r.numerator, "denominator": r.denominator, "value": r.value,
            "below_target": r.below_target}


def _rates(a) -> dict:
    return {"area_code": a.area.code, "area": a.area.name, "rates": [_rate(r) for r in a.rates]}


def _period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise Invalid("结束日期不能早于开始日期", field="date_to")


@router.get("/figures/rates", response=list[AreaRatesOut], auth=staff_auth, summary="好差评指标（本区划及下级，按办结批次）")
def figures_rates(request: HttpRequest, area_code: str, date_from: date, date_to: date):
    from bianmin.regions.selectors import area_get

    _period(date_from, date_to)
    total, children = selectors.rates_by_area(actor=principal_of(request), area=area_get(code=area_code),
                                              start=date_from, end=date_to)
    return [_rates(total)] + [_rates(c) for c in children]


class FigureOut(Schema):
    key: str
    label: str
    value: int


class ChildOut(Schema):
    key: str
    name: str
    area_code: str
    site_id: int | None = None
    window_id: int | None = None
    counts: dict[str, int]
    rates: list[RateOut]


class PeriodOut(Schema):
    period: date
    counts: dict[str, int]
    rates: list[RateOut]


class CockpitOut(Schema):
    place: str
    level: str
    date_from: date
    date_to: date
    grain: str
    counts: dict[str, int]
    rates: list[RateOut]
    child_kind: str
    children: list[ChildOut]
    series: list[PeriodOut]


@router.get("/figures/cockpit", response=CockpitOut, auth=staff_auth,
            summary="指挥驾驶舱：某区划（或其场所、窗口）某期间的全部指标、下级与趋势（按办结批次）")
def figures_cockpit(request: HttpRequest, area_code: str, date_from: date, date_to: date, site_id: int | None = None,
                    window_id: int | None = None, grain: str = "month"):
    from .cockpit import cockpit, place_get

    _period(date_from, date_to)
    if grain not in ("day", "month"):
        raise Invalid("时间粒度应为 day 或 month", field="grain")
    actor = principal_of(request)
    place = place_get(actor=actor, area_code=area_code, site_id=site_id, window_id=window_id)
    c = cockpit(actor=actor, place=place, start=date_from, end=date_to, grain=grain)
    return {
        "place": place.name, "level": place.level, "date_from": date_from, "date_to": date_to, "grain": c.grain,
        "counts": c.counts, "rates": [_rate(r) for r in c.rates], "child_kind": c.child_kind,
        "children": [{"key": str(ch.key), "name": ch.name, "area_code": ch.params["area"],
                      "site_id": ch.params.get("site"), "window_id": ch.params.get("window"), "counts": ch.counts,
                      "rates": [_rate(r) for r in ch.rates]} for ch in c.children],
        "series": [{"period": p, "counts": cnt, "rates": [_rate(r) for r in rs]} for p, cnt, rs in c.series],
    }
