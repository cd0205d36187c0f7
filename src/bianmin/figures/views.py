"""The figures' pages: thin; every number comes from selectors (roll-ups) and links to the rows
behind it (``rows``: the raw rows the figure counts, scoped)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound, error_pages
from bianmin.core.validators import parse_day
from bianmin.core.xlsx import book

from . import cohorts as C
from . import selectors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
domain_errors = error_pages("figures/problem.html")


def _date(raw: str | None, default: date, field: str) -> date:
    # The platform's one day rule (1900-01-01..2999-12-31, a Chinese 422 otherwise).
    return parse_day(raw, field=field, default=default)


def period(request) -> tuple[date, date]:
    today = timezone.localdate()
    start = _date(request.GET.get("from"), today.replace(day=1), "from")
    end = _date(request.GET.get("to"), today, "to")
    if end < start:
        raise Invalid("结束日期不能早于开始日期", field="to")
    if (end - start).days > 3660:
        raise Invalid("统计期间不能超过十年", field="from")
    return start, end


def xlsx_response(data: bytes, name: str) -> HttpResponse:
    from urllib.parse import quote

    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


def home_area(actor):
    from bianmin.regions.models import Area

    paths = actor.area_paths_for(Cap.VIEW)
    if not paths:
        raise NotFound("您没有可查看的辖区")
    return Area.objects.get(path=paths[0])


def area_param(request, actor):
    from bianmin.regions.models import Area

    code = request.GET.get("area")
    if not code:
        return home_area(actor)
    area = Area.objects.filter(code=code).first()
    if area is None or not actor.sees_area(area) or not actor.can(Cap.VIEW, area):
        raise NotFound("未找到该区划")
    return area


def _int(raw, field: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("参数应为整数", field=field) from None
    if value < 0:
        raise Invalid("参数应为非负整数", field=field)
    return value


# --- rates -------------------------------------------------------------------------------------

@login_required
@domain_errors
def rates(request):
    actor = principal_of(request)
    area = area_param(request, actor)
    start, end = period(request)
    total, children = selectors.rates_by_area(actor=actor, area=area, start=start, end=end)
    if request.GET.get("format") == "xlsx":
        header = ["区划"] + [h for r in total.rates for h in (r.label, f"{r.label}（分子/分母）")]
        rows = [[a.area.name] + [v for r in a.rates for v in (r.percent, f"{r.numerator}/{r.denominator}")]
                for a in [total, *children]]
        return xlsx_response(book("好差评指标", header, rows), f"好差评指标_{area.name}_{start}_{end}.xlsx")
    return render(request, "figures/rates.html", {
        "area": area, "total": total, "children": children, "start": start, "end": end,
        "start_s": start.isoformat(), "end_s": end.isoformat(),
        "labels": [r.label for r in total.rates],
        "parent": area.parent if area.parent and actor.sees_area(area.parent) else None,
    })


# --- the rows behind a figure -------------------------------------------------------------------

ROW_TITLES = {
    "completed": "办结办件", "on_time": "按时办结办件", "late": "超期办结办件", "multi_trip": "跑多趟办件",
    "open_overdue": "在办超期办件（当前）", "evaluated": "已主动评价办件", "not_evaluated": "未主动评价办件", "satisfied": "评价满意办件",
    "unsatisfied": "评价不满意办件", "defaulted": "默认好评办件", "received": "受理办件",
    "transferred": "受理后转上级办理办件", "handled_here": "本级办理办件",
    "bad": "差评", "followed": "已回访差评", "not_followed": "未回访差评", "rectified": "已整改差评",
    "not_rectified": "未整改差评", "rect_found": "发现问题", "rect_done": "已完成整改", "rect_on_time": "按期完成整改",
    "rect_due": "已完成或已到期整改", "rect_late": "未按期整改", "rect_overdue_open": "逾期未完成整改",
    "appeals": "诉求", "appeal_replied": "已答复诉求", "appeal_on_time": "按时答复诉求", "appeal_due": "已答复或已到期诉求",
    "appeal_late": "未按时答复诉求", "appeal_rated": "已回访满意度诉求", "appeal_satisfied": "满意诉求",
    "appeal_overdue_open": "逾期未答复诉求", "fu_rated": "已评满意度回访", "fu_satisfied": "满意回访",
}


def where_param(request, actor) -> tuple[object, C.Where, object, object]:
    """The area (and optionally site and window of it) the figure is about, in the viewer's scope."""
    from bianmin.regions.models import ServiceSite, Window

    area = area_param(request, actor)
    site = window = None
    site_id = _int(request.GET.get("site"), "site")
    window_id = _int(request.GET.get("window"), "window")
    if site_id:
        site = ServiceSite.objects.select_related("area").filter(pk=site_id, area__path__startswith=area.path).first()
        if site is None:
            raise NotFound("未找到该场所")
    if window_id is not None and site is not None:
        if window_id:
            window = Window.objects.filter(pk=window_id, site=site).first()
            if window is None:
                raise NotFound("未找到该窗口")
    where = C.Where(area.path if site is None else site.area.path,
                    site=None if site is None else site.pk,
                    window=None if site is None or window_id is None else window_id)
    return area, where, site, window


@login_required
@domain_errors
def rows(request):
    actor = principal_of(request)
    metric = request.GET.get("m", "")
    if metric not in ROW_TITLES:
        raise Invalid("指标无效", field="m")
    area, where, site, window = where_param(request, actor)
    start, end = period(request)
    qs = C.rows(metric, where, start, end)
    model = qs.model._meta.model_name
    related = {"case": ["site", "window", "item__standard_item"], "evaluation": ["case", "site", "handling"],
               "rectification": ["site", "area"], "appeal": ["site", "area"], "followup": ["site", "area"]}[model]
    order = {"case": "-completed_at" if metric != "received" else "-accepted_at", "evaluation": "-evaluated_at",
             "rectification": "-found_on", "appeal": "-registered_at", "followup": "-done_at"}[model]
    page = Paginator(qs.select_related(*related).order_by(order, "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "figures/rows.html", {
        "page": page, "model": model, "metric": metric, "title": ROW_TITLES[metric], "area": area, "site": site,
        "window": window, "start": start, "end": end, "today": timezone.localdate(),
        "query": _query_without_page(request),
    })


def _query_without_page(request) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


# --- the cockpit -----------------------------------------------------------------------------------

def place_param(request, actor):
    from .cockpit import place_get

    return place_get(actor=actor, area_code=request.GET.get("area") or None,
                     site_id=_int(request.GET.get("site"), "site"), window_id=_int(request.GET.get("window"), "window"))


def cockpit_period(request) -> tuple[date, date]:
    """The period of the cockpit: from/to, or a named one (this month, quarter, year, the last 12 months)."""
    today = timezone.localdate()
    named = request.GET.get("p", "")
    if named and not (request.GET.get("from") or request.GET.get("to")):
        if named == "month":
            return today.replace(day=1), today
        if named == "quarter":
            return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
        if named == "year":
            return today.replace(month=1, day=1), today
        if named == "12m":
            return today - timedelta(days=364), today
        raise Invalid("统计期间无效", field="p")
    return period(request)


def _rank_key(request) -> str:
    from .cockpit import RANK_KEYS

    key = request.GET.get("rank") or "satisfaction"
    if key not in RANK_KEYS:
        raise Invalid("排名指标无效", field="rank")
    return key


def _rows_link(metric: str, params: dict, start: date, end: date) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return f"{reverse('figures:rows')}?{urlencode({'m': metric, **params, 'from': start.isoformat(), 'to': end.isoformat()})}"


class Links:
    """The links of one page to the rows behind its figures: the route reversed and the period
    encoded once, each place's parameters once (a city's page has some 800 links)."""

    def __init__(self, start: date, end: date):
        from urllib.parse import urlencode

        from django.urls import reverse

        self.base = reverse("figures:rows")
        self.period = urlencode({"from": start.isoformat(), "to": end.isoformat()})
        self.start, self.end = start, end

    def of(self, params: dict):
        from urllib.parse import quote, urlencode

        tail = f"{urlencode(params)}&{self.period}" if params else self.period
        return lambda metric: f"{self.base}?m={quote(metric)}&{tail}"


def rate_view(r, params: dict, start: date, end: date, link=None) -> dict:
    """A rate as the pages show it: the percent and both counts, each a link to its rows."""
    link = link or (lambda metric: _rows_link(metric, params, start, end))
    return {"key": r.key, "label": r.label, "percent": r.percent, "num": r.numerator, "den": r.denominator,
            "below": r.below_target, "value": r.value,
            "num_url": link(r.numerator_metric), "den_url": link(r.denominator_metric),
            "missing_url": link(r.missing_metric)}


def _page_url(params: dict, start: date, end: date, **extra) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode({**params, "from": start.isoformat(), "to": end.isoformat(), **extra})


@login_required
@domain_errors
def cockpit(request):
    from .cockpit import COUNT_TILES, RANK_KEYS, SECTION_RATES, map_values, ranked
    from .cockpit import cockpit as build

    actor = principal_of(request)
    place = place_param(request, actor)
    start, end = cockpit_period(request)
    grain = request.GET.get("grain") or ("day" if (end - start).days <= 62 else "month")
    if grain not in ("day", "month"):
        raise Invalid("时间粒度无效", field="grain")
    rank = _rank_key(request)
    c = build(actor=actor, place=place, start=start, end=end, grain=grain)
    links = Links(start, end)
    params = place.params()
    here = links.of(params)
    sections = []
    for name, keys in SECTION_RATES.items():
        tiles = [{"label": label, "value": c.counts.get(metric, 0), "url": here(metric)}
                 for section, label, metric in COUNT_TILES if section == name]
        sections.append({"name": name, "tiles": tiles,
                         "rates": [rate_view(c.rate(k), params, start, end, here) for k in keys]})
    child_keys = ("participation", "satisfaction", "followup", "rectification", "case_on_time", "appeal_on_time")

    def child_view(ch):
        link = links.of(ch.params)
        return {"name": ch.name, "drill": _page_url(ch.params, start, end, grain=grain, rank=rank),
                "completed": ch.counts["completed"], "completed_url": link("completed"),
                "received": ch.counts["received"], "received_url": link("received"),
                "rates": [rate_view(ch.rate(k), ch.params, start, end, link) for k in child_keys]}

    def ranked_view(ch):
        return {"name": ch.name, "drill": _page_url(ch.params, start, end, grain=grain, rank=rank),
                "rank_rate": rate_view(ch.rate(rank), ch.params, start, end, links.of(ch.params))}

    order = ranked(c.rankings, rank)
    top = order[:10]
    bottom = [x for x in reversed(order[10:])][:10]
    rank_label = next(r.label for r in c.rates if r.key == rank)
    chart = {
        "grain": c.grain, "rank_label": rank_label,
        "series": [{"period": p.isoformat()[: 7 if c.grain == "month" else 10], "completed": cnt["completed"],
                    "evaluated": cnt["evaluated"], "bad": cnt["bad"],
                    **{r.key: None if r.value is None else round(r.value * 100, 1) for r in rs}}
                   for p, cnt, rs in c.series],
        "map": map_values(c, rank) if place.level == "city" else [],
        "children": [{"name": ch.name, "value": None if ch.rate(rank).value is None
                      else round(ch.rate(rank).value * 100, 1)} for ch in c.children if ch.counts["completed"]],
    }
    return render(request, "figures/cockpit.html", {
        "c": c, "place": place, "start": start, "end": end, "grain": c.grain, "sections": sections, "chart": chart,
        "rank": rank, "rank_label": rank_label,
        "rank_keys": [(k, next(r.label for r in c.rates if r.key == k)) for k in RANK_KEYS],
        "children": [child_view(ch) for ch in c.children], "child_labels": [c.rate(k).label for k in child_keys],
        "top": [ranked_view(ch) for ch in top], "bottom": [ranked_view(ch) for ch in bottom],
        "crumbs": [(name, _page_url(p, start, end, grain=grain)) for name, p in c.crumbs],
        "params": params, "periods": [("month", "本月"), ("quarter", "本季度"), ("year", "本年"), ("12m", "近12个月")],
    })


# --- rollout -------------------------------------------------------------------------------------

@login_required
@domain_errors
def rollout(request):
    from .rollout import STATUS_LABELS, summary
    from .rollout import rollout as build

    actor = principal_of(request)
    area = area_param(request, actor)
    start, end = period(request)
    level = request.GET.get("level") or None
    if level not in (None, "township", "village"):
        raise Invalid("层级无效", field="level")
    status = request.GET.get("status") or None
    if status is not None and status not in STATUS_LABELS:
        raise Invalid("状态无效", field="status")
    rows = build(actor=actor, area=area, start=start, end=end, level=level)
    totals = summary(rows)
    if status:
        rows = [r for r in rows if r.status == status]
    if request.GET.get("format") == "xlsx":
        header = ["区划代码", "名称", "层级", "服务场所", "上线日期", "依据", "目标日期", "状态", "受理件数", "本级办理件数", "本级办理率"]
        data = [[r.area.code, r.area.name, r.area.get_level_display(), r.site.name if r.site else "（无）",
                 r.live_on.isoformat() if r.live_on else "", r.live_source, r.target.isoformat(), r.status_label,
                 r.received, r.handled_here, r.share_percent] for r in rows]
        return xlsx_response(book("上线推进", header, data), f"上线推进_{area.name}_{start}_{end}.xlsx")
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(request, "figures/rollout.html", {
        "area": area, "start": start, "end": end, "page": page, "totals": totals, "level": level or "",
        "status": status or "", "statuses": list(STATUS_LABELS.items())})


# --- appraisal, coverage ---------------------------------------------------------------------------

def _year_period(request) -> tuple[date, date]:
    today = timezone.localdate()
    if not request.GET.get("from") and not request.GET.get("to"):
        return today.replace(month=1, day=1), today
    return period(request)


@login_required
@domain_errors
def appraisal(request):
    from .appraisal import MIN_EVALUATED, PART_LABELS
    from .appraisal import appraisal as build
    from .conf import appraisal_weights

    actor = principal_of(request)
    area = area_param(request, actor)
    start, end = _year_period(request)
    units = build(actor=actor, area=area, start=start, end=end)
    weights = appraisal_weights()
    parts = [(k, label, weights.get(k, 0)) for k, label in PART_LABELS.items()]
    if request.GET.get("format") == "xlsx":
        header = ["排名", "服务中心", "所属区划", "综合得分", *[f"{label}（权重{w:g}）" for _k, label, w in parts],
                  "办结件数", "主动评价办件"]
        data = [[u.rank or "不参与排名", u.site.name, u.site.area.name, "" if u.score is None else round(u.score, 2),
                 *["无数据" if u.parts.get(k) is None else f"{u.parts[k] * 100:.1f}%" for k, _l, _w in parts],
                 u.counts["completed"], u.counts["evaluated"]] for u in units]
        return xlsx_response(book("人民满意基层单位评选", header, data), f"人民满意基层单位评选_{area.name}_{start}_{end}.xlsx")
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    rows = [(u, [None if u.parts.get(k) is None else f"{u.parts[k] * 100:.1f}%" for k, _l, _w in parts]) for u in page]
    return render(request, "figures/appraisal.html", {"rows": rows,
        "area": area, "start": start, "end": end, "page": page, "parts": parts, "min_evaluated": MIN_EVALUATED})


@login_required
@domain_errors
def coverage(request):
    from .coverage import LIMIT_MINUTES, by_district
    from .coverage import coverage as build

    actor = principal_of(request)
    area = area_param(request, actor)
    mode = request.GET.get("mode") or "walk"
    if mode not in ("walk", "drive"):
        raise Invalid("出行方式应为步行或驾车", field="mode")
    rows = build(actor=actor, area=area)
    districts = by_district(rows)
    gaps = [r for r in rows if (r.walk_gap if mode == "walk" else r.drive_gap)]
    unknown = sum(1 for r in rows if r.lng is None)
    if request.GET.get("format") == "xlsx":
        header = ["县（市）区", "村（社区）", "区划代码", "最近服务场所", "直线距离（米）", "步行（分钟）", "驾车（分钟）"]
        data = [[r.district.name if r.district else "", r.area.name, r.area.code, r.nearest.name if r.nearest else "",
                 round(r.distance_m or 0), round(r.walk_min or 0, 1), round(r.drive_min or 0, 1)] for r in gaps]
        return xlsx_response(book("15分钟服务圈缺口", header, data), f"15分钟服务圈缺口_{area.name}_{mode}.xlsx")
    page = Paginator(gaps, 100).get_page(request.GET.get("page"))
    import json

    points = [{"name": r.area.name, "value": [r.lng, r.lat, round((r.walk_min if mode == "walk" else r.drive_min), 1)]}
              for r in gaps if r.lng is not None][:3000]
    return render(request, "figures/coverage.html", {
        "area": area, "mode": mode, "districts": districts, "page": page, "limit": LIMIT_MINUTES, "unknown": unknown,
        "total": len(rows), "gap_count": len(gaps), "points_json": json.dumps(points, ensure_ascii=False)})


# --- public disclosure (no log-in, no personal data) ------------------------------------------------

def _public(request, where, name: str, kind: str):
    from django.utils.cache import patch_cache_control

    from .disclosure import STATUSES, disclosed_rectifications, disclosure

    status = request.GET.get("status") or ""
    if status and status not in STATUSES:
        raise Invalid("整改状态无效", field="status")
    d = disclosure(where, name)
    page = Paginator(disclosed_rectifications(where, d, status=status), PUBLIC_PER_PAGE).get_page(request.GET.get("page"))
    resp = render(request, "figures/public.html", {"d": d, "kind": kind, "page": page, "status": status,
                                                   "statuses": list(STATUSES.items())})
    patch_cache_control(resp, public=True, max_age=3600)
    return resp


PUBLIC_PER_PAGE = 30


@domain_errors
def public_site(request, code: str):
    from bianmin.regions.models import ServiceSite

    site = ServiceSite.objects.select_related("area").filter(code=code, kind__in=("center", "station")).first()
    if site is None:
        return render(request, "figures/problem.html", {"title": "未找到该服务场所", "message": "请核对场所编码。"},
                      status=404)
    return _public(request, C.Where(site.area.path, site=site.pk), site.name, "site")


@domain_errors
def public_district(request, code: str):
    from bianmin.regions.models import Area

    area = Area.objects.filter(code=code, level="district").first()
    if area is None:
        return render(request, "figures/problem.html", {"title": "未找到该县（市）区", "message": "请核对区划代码。"},
                      status=404)
    return _public(request, C.Where(area.path), area.name, "district")


# --- reports -------------------------------------------------------------------------------------

@login_required
@domain_errors
def reports(request):
    from django.contrib import messages
    from django.shortcuts import redirect

    from .models import Report
    from .reports import report_request

    actor = principal_of(request)
    if request.method == "POST":
        area = area_param_post(request, actor)
        raw = request.POST.get("month", "")
        try:
            start = date.fromisoformat(raw + "-01") if len(raw) == 7 else date.fromisoformat(raw)
        except ValueError:
            raise Invalid("月份格式应为 YYYY-MM", field="month") from None
        report = report_request(actor=actor, kind=request.POST.get("kind", ""), area=area, start=start)
        messages.success(request, f"已提交生成：{report.title}，稍后刷新本页即可下载。")
        return redirect(f"{request.path}?area={area.code}")
    area = area_param(request, actor)
    qs = Report.objects.filter(area__path__startswith=area.path).select_related("area").order_by(
        "-period_start", "kind", "area__code")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(request, "figures/reports.html", {"area": area, "page": page,
                                                     "last_month": (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")})


def area_param_post(request, actor):
    from bianmin.regions.models import Area

    code = request.POST.get("area") or ""
    area = Area.objects.filter(code=code).first() if code else home_area(actor)
    if area is None or not actor.sees_area(area) or not actor.can(Cap.VIEW, area):
        raise NotFound("未找到该区划")
    return area


@login_required
@domain_errors
def report_file(request, report_id: int, fmt: str):
    from django.http import FileResponse

    from .reports import report_download

    if fmt not in ("pdf", "xlsx"):
        raise NotFound("未找到该报告")
    path, filename = report_download(actor=principal_of(request), report_id=report_id, fmt=fmt)
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename,
                        content_type="application/pdf" if fmt == "pdf" else XLSX)
