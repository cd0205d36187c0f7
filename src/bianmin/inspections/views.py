"""督查 pages: the workbench, cycles (create, draw, close, ranking), a sampled site (materials,
submission, item-by-item review), notices (answer, accept / send back, PDF), field checks (on-site
visits with photos, mystery visits, phone checks), findings, rankings and the annual assessment,
settings (checklist versions, schedules, leadership lists) and the inbox.

Thin: services write, selectors read (scoped); a form's mistake comes back as a message on the
same page, out of scope is the Chinese 404 page, in scope without the right the 403 page."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, UnsupportedType, error_pages
from bianmin.core.uploads import max_file_bytes, read_upload
from bianmin.core.xlsx import book

from . import conf, selectors, services
from .models import Category, Cycle, FieldCheck, Notice

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 30
# A form's own mistakes (bad value, wrong state, a file refused) are shown on its page; who may
# act (403) and what exists (404) are the error pages.
FORM_ERRORS = (Invalid, Conflict, TooLarge, UnsupportedType)

domain_errors = error_pages("inspections/problem.html")


def _xlsx(data: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


def _file(stored, name: str, *, inline: bool = False):
    from django.core.files.storage import default_storage

    try:
        fh = default_storage.open(stored.path, "rb")
    except FileNotFoundError:
        raise NotFound("文件在存储中缺失，请联系系统管理员从备份恢复") from None
    return FileResponse(fh, content_type=stored.content_type, as_attachment=not inline, filename=name)


def _uploads(request) -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes); one too large is refused (413) before it is read (core.uploads)."""
    return [read_upload(f, field="files") for f in request.FILES.getlist("files")]


def _int(raw, field: str = "id") -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Invalid("参数无效", field=field) from None


def _date(raw, field: str) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD", field=field) from None


def _page(request, qs):
    return Paginator(qs, PAGE).get_page(request.GET.get("page"))


def _act(request, action, done: str):
    """Run a form's action; its mistake becomes a message. Returns to the same page."""
    try:
        action()
        messages.success(request, done)
    except FORM_ERRORS as exc:
        messages.error(request, exc.message)
    return redirect(request.get_full_path())


def _scores_from(request, template) -> list[dict]:
    return [{"item_id": it.pk, "score": request.POST.get(f"score_{it.pk}", ""),
             "remark": request.POST.get(f"remark_{it.pk}", "")} for it in template.items.all()]


def _score_rows(template, scored):
    by_item = {s.item_id: s for s in scored}
    return [{"item": it, "score": by_item.get(it.pk)} for it in template.items.all()]


# --- workbench -------------------------------------------------------------------------------------

@login_required
@domain_errors
def home(request):
    actor = principal_of(request)
    cycles = selectors.cycles(actor=actor)
    open_notices = selectors.notices(actor=actor).exclude(status=Notice.Status.ACCEPTED)
    today = timezone.localdate()
    return render(request, "inspections/home.html", {
        "page": _page(request, cycles),
        "inbox": selectors.notifications(actor=actor)[:5],
        "unread": selectors.unread_count(actor=actor),
        "open_notices": open_notices.count(),
        "overdue": open_notices.filter(deadline__lt=today).count(),
        "can_organise": bool(actor.area_paths_for(Cap.INSPECT)),
    })


# --- cycles ----------------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def cycle_new(request):
    actor = principal_of(request)
    organisers = list(selectors.organiser_areas(actor))
    if not organisers:
        raise Forbidden("只有督查人员可以新建督查周期")
    from bianmin.regions.models import Area

    districts = Area.objects.filter(level="district", path__startswith=organisers[0].path).order_by("code") \
        if organisers[0].level == "city" else Area.objects.filter(pk__in=[a.pk for a in organisers])
    templates = [t for t in selectors.templates(actor=actor) if t == services.template_latest(t.code)]
    if request.method == "POST":
        try:
            area = next((a for a in organisers if a.code == request.POST.get("area")), None)
            if area is None:
                raise Invalid("请选择组织单位", field="area")
            cycle = services.cycle_create(
                actor=actor, area=area, title=request.POST.get("title", ""),
                period_start=_date(request.POST.get("period_start"), "period_start"),
                period_end=_date(request.POST.get("period_end"), "period_end"),
                template_id=_int(request.POST.get("template_id"), "template_id"),
                district_codes=request.POST.getlist("districts"), site_kinds=request.POST.getlist("site_kinds"),
                sites_per_district=_int(request.POST.get("sites_per_district") or 3, "sites_per_district"),
                cases_per_site=_int(request.POST.get("cases_per_site") or 5, "cases_per_site"),
                submit_days=request.POST.get("submit_days") or None, notice_days=request.POST.get("notice_days") or None)
            messages.success(request, f"已新建督查周期 {cycle.number}，周期开始后可抽样。")
            return redirect("inspections:cycle", cycle.pk)
        except FORM_ERRORS as exc:
            messages.error(request, exc.message)
    today = timezone.localdate()
    start, end, _n = services.period_of(today, conf.period_months())
    return render(request, "inspections/cycle_new.html", {
        "organisers": organisers, "districts": districts, "templates": templates, "start": start, "end": end,
        "form": request.POST if request.method == "POST" else None,
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def cycle_detail(request, cycle_id: int):
    actor = principal_of(request)
    cycle = selectors.cycle_get(actor=actor, cycle_id=cycle_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "sample":
            return _act(request, lambda: services.cycle_sample(actor=actor, cycle_id=cycle.pk), "已完成抽样并通知被检查单位。")
        if action == "close":
            return _act(request, lambda: services.cycle_close(actor=actor, cycle_id=cycle.pk), "本周期已结束。")
        raise Invalid("未知操作", field="action")
    reviewer = selectors.is_reviewer(actor, cycle.area)
    return render(request, "inspections/cycle.html", {
        "cycle": cycle, "reviewer": reviewer, "sites": selectors.cycle_sites(actor=actor, cycle=cycle),
        "verified": selectors.sample_verify(cycle=cycle) if reviewer and request.GET.get("verify") else None,
        "districts": cycle.districts.order_by("code"), "notices": selectors.notices(actor=actor, cycle_id=cycle.pk).count(),
        "checks": selectors.checks(actor=actor).filter(cycle=cycle).count(),
    })


@login_required
@domain_errors
def cycle_ranking(request, cycle_id: int):
    actor = principal_of(request)
    cycle = selectors.cycle_get(actor=actor, cycle_id=cycle_id)
    districts = list(selectors.cycle_scores(actor=actor, cycle=cycle, level="district"))
    sites = list(selectors.cycle_scores(actor=actor, cycle=cycle, level="site"))
    if request.GET.get("format") == "xlsx":
        header = ["排名", "县（市）区", "服务场所", "得分（百分制）", "检查次数", "发现问题"]
        rows = [[s.rank, s.district.name, "（区平均）", float(s.score), s.checks, s.findings] for s in districts]
        rows += [[s.rank, s.district.name, s.site.name, float(s.score), s.checks, s.findings] for s in sites]
        return _xlsx(book("督查排名", header, rows), f"督查排名_{cycle.number}.xlsx")
    return render(request, "inspections/ranking.html", {"cycle": cycle, "districts": districts, "sites": sites})


# --- a sampled site ----------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def site_detail(request, sampled_site_id: int):
    actor = principal_of(request)
    ss = selectors.sampled_site_get(actor=actor, sampled_site_id=sampled_site_id)
    if request.method == "POST":
        action = request.POST.get("action")
        pk = ss.pk
        if action == "prepare":
            return _act(request, lambda: services.sampled_site_prepare(actor=actor, sampled_site_id=pk),
                        "已附上平台已有材料。")
        if action == "upload":
            return _act(request, lambda: services.material_upload(actor=actor, sampled_site_id=pk,
                                                                  title=request.POST.get("title", ""),
                                                                  files=_uploads(request)), "材料已上传。")
        if action == "submit":
            return _act(request, lambda: services.sampled_site_submit(actor=actor, sampled_site_id=pk), "送检材料已提交。")
        if action in ("score", "finish"):
            def run():
                services.review_score(actor=actor, sampled_site_id=pk, scores=_scores_from(request, ss.cycle.template))
                if action == "finish":
                    services.review_finish(actor=actor, sampled_site_id=pk)
            return _act(request, run, "评审已完成，整改通知已下发。" if action == "finish" else "评分已保存。")
        raise Invalid("未知操作", field="action")
    roles = selectors.roles_on(actor, ss.cycle.area, ss.site.area)
    return render(request, "inspections/site.html", {
        "ss": ss, "cycle": ss.cycle, **roles,
        "cases": ss.cases.select_related("case__item__standard_item").order_by("rank"),
        "materials": ss.materials.select_related("file", "case").order_by("kind", "id"),
        "rows": _score_rows(ss.cycle.template, ss.scores.all()),
        "findings": selectors.findings(actor=actor).filter(sampled_site=ss),
    })


@login_required
@domain_errors
def material_download(request, sampled_site_id: int, material_id: int):
    actor = principal_of(request)
    _ss, m = selectors.material_get(actor=actor, sampled_site_id=sampled_site_id, material_id=material_id)
    return _file(m.file, m.file_name)


# --- notices ------------------------------------------------------------------------------------------

NOTICE_HEADER = ["通知编号", "下发日期", "检查方式", "督查周期", "整改责任单位", "服务场所", "存在问题", "整改期限", "状态",
                 "是否逾期", "答复次数", "整改情况", "整改完成日期", "是否按期", "整改台账编号"]
SOURCES = [("online", "线上抽查"), *FieldCheck.Method.choices]


def _notice_filters(request) -> dict:
    status = request.GET.get("status") or None
    source = request.GET.get("source") or None
    return {"status": status if status in Notice.Status.values else None,
            "source": source if source in dict(SOURCES) else None,
            "overdue": request.GET.get("overdue") == "1",
            "cycle_id": _int(request.GET["cycle"], "cycle") if request.GET.get("cycle") else None,
            "area_code": (request.GET.get("area") or "").strip() or None}


@login_required
@domain_errors
def notice_list(request):
    actor = principal_of(request)
    filters = _notice_filters(request)
    qs = selectors.notices(actor=actor, **filters)
    today = timezone.localdate()
    if request.GET.get("format") == "xlsx":
        sources, statuses = dict(SOURCES), dict(Notice.Status.choices)

        def rows():
            for n in qs.iterator(chunk_size=500):
                yield [n.number, n.issued_on.isoformat(), str(sources.get(n.source, n.source)),
                       n.cycle.title if n.cycle_id else "", n.addressee.name, n.site.name, n.problem,
                       n.deadline.isoformat(), str(statuses[n.status]), "是" if n.is_overdue(today) else "否", n.rounds,
                       n.answer, n.rectified_on.isoformat() if n.rectified_on else "",
                       "" if n.on_time is None else ("是" if n.on_time else "否"), n.ledger_ref]

        return _xlsx(book("整改通知", NOTICE_HEADER, rows()), f"整改通知_{today}.xlsx")
    return render(request, "inspections/notices.html", {
        "page": _page(request, qs), "today": today, "f": filters, "statuses": Notice.Status.choices, "sources": SOURCES,
        "areas": _filter_areas(actor),
    })


def _filter_areas(actor):
    from django.db.models import Q

    from bianmin.regions.models import Area

    q = Q(pk__in=[])
    for path in actor.area_paths_for(Cap.VIEW):
        q |= Q(path__startswith=path)
    return Area.objects.filter(q, level__in=("district", "township")).order_by("code")[:300]


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def notice_detail(request, notice_id: int):
    actor = principal_of(request)
    notice = selectors.notice_get(actor=actor, notice_id=notice_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "answer":
            return _act(request, lambda: services.notice_answer(actor=actor, notice_id=notice.pk,
                                                                answer=request.POST.get("answer", ""),
                                                                files=_uploads(request)), "整改情况已答复，等待验收。")
        if action in ("accept", "return"):
            return _act(request, lambda: services.notice_decide(actor=actor, notice_id=notice.pk, accept=action == "accept",
                                                                note=request.POST.get("note", "")),
                        "已验收通过。" if action == "accept" else "已退回重改。")
        raise Invalid("未知操作", field="action")
    return render(request, "inspections/notice.html", {
        "notice": notice, "today": timezone.localdate(), **selectors.roles_on(actor, notice.organiser, notice.area),
        "events": notice.events.all(), "evidence": notice.evidence.select_related("file"),
        "max_mb": max_file_bytes() // (1024 * 1024),
    })


@login_required
@domain_errors
def notice_pdf(request, notice_id: int):
    notice, stored = services.notice_pdf(actor=principal_of(request), notice_id=notice_id)
    return _file(stored, f"整改通知_{notice.number}.pdf", inline=True)


@login_required
@domain_errors
def evidence_download(request, notice_id: int, evidence_id: int):
    _notice, row = selectors.evidence_get(actor=principal_of(request), notice_id=notice_id, evidence_id=evidence_id)
    return _file(row.file, row.file_name)


# --- field checks ---------------------------------------------------------------------------------------

@login_required
@domain_errors
def check_list(request):
    actor = principal_of(request)
    method = request.GET.get("method") or None
    cycle_id = _int(request.GET["cycle"], "cycle") if request.GET.get("cycle") else None
    qs = selectors.checks(actor=actor, method=method if method in FieldCheck.Method.values else None, cycle_id=cycle_id)
    return render(request, "inspections/checks.html", {
        "page": _page(request, qs), "method": method or "", "methods": FieldCheck.Method.choices, "cycle_id": cycle_id,
        "can_organise": bool(actor.area_paths_for(Cap.INSPECT)),
    })


def _at(raw) -> datetime:
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise Invalid("检查时间格式应为 YYYY-MM-DDTHH:MM", field="at") from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _float(raw, field):
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid("经纬度应为数字", field=field) from None


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def check_new(request):
    actor = principal_of(request)
    if not actor.area_paths_for(Cap.INSPECT):
        raise Forbidden("只有督查人员可以登记检查")
    sites = selectors.sites_for_checks(actor)
    running = selectors.cycles(actor=actor, status=Cycle.Status.RUNNING).filter(
        area__in=selectors.organiser_areas(actor))
    if request.method == "POST":
        try:
            site = sites.filter(code=request.POST.get("site", "")).first()
            if site is None:
                raise Invalid("请选择被检查的服务场所", field="site")
            answered = {"1": True, "0": False}.get(request.POST.get("answered", ""))
            template_id = None
            if request.POST.get("scored") == "1" and request.POST.get("method") != "phone":
                latest = services.template_latest(request.POST.get("template_code") or "")
                template_id = latest.pk if latest else None
                if template_id is None:
                    raise Invalid("评分模板不存在", field="template_code")
            check = services.check_create(
                actor=actor, method=request.POST.get("method", ""), site=site, at=_at(request.POST.get("at")),
                place=request.POST.get("place", ""), lat=_float(request.POST.get("lat"), "lat"),
                lng=_float(request.POST.get("lng"), "lng"), line=request.POST.get("line", ""),
                phone_number=request.POST.get("phone_number", ""), answered=answered,
                summary=request.POST.get("summary", ""),
                cycle_id=_int(request.POST["cycle"], "cycle") if request.POST.get("cycle") else None,
                template_id=template_id)
            messages.success(request, "检查记录已登记。")
            return redirect("inspections:check", check.pk)
        except FORM_ERRORS as exc:
            messages.error(request, exc.message)
    codes = sorted({t.code for t in selectors.templates(actor=actor)})
    return render(request, "inspections/check_new.html", {
        "sites": sites, "cycles": running, "methods": FieldCheck.Method.choices, "template_codes": codes,
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "form": request.POST if request.method == "POST" else None,
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def check_detail(request, check_id: int):
    actor = principal_of(request)
    check = selectors.check_get(actor=actor, check_id=check_id)
    if request.method == "POST":
        action = request.POST.get("action")
        pk = check.pk
        actions = {
            "photo": (lambda: services.check_photo_add(actor=actor, check_id=pk, files=_uploads(request),
                                                       caption=request.POST.get("caption", "")), "照片已上传。"),
            "score": (lambda: services.check_score(actor=actor, check_id=pk,
                                                   scores=_scores_from(request, check.template)), "评分已保存。"),
            "finding": (lambda: services.check_finding_add(actor=actor, check_id=pk,
                                                           category=request.POST.get("category", ""),
                                                           description=request.POST.get("description", "")),
                        "问题已记录。"),
            "finish": (lambda: services.check_finish(actor=actor, check_id=pk), "检查已完成。"),
            "publish": (lambda: services.check_publish(actor=actor, check_id=pk), "暗访结果已公布，整改通知已下发。"),
        }
        if action not in actions or (action == "score" and check.template is None):
            raise Invalid("未知操作", field="action")
        return _act(request, *actions[action])
    return render(request, "inspections/check.html", {
        "check": check, "reviewer": selectors.is_reviewer(actor, check.organiser),
        "photos": check.photos.select_related("file"), "categories": Category.choices,
        "rows": _score_rows(check.template, check.scores.all()) if check.template else [],
        "findings": selectors.findings(actor=actor).filter(check_record=check),
    })


@login_required
@domain_errors
def photo_download(request, check_id: int, photo_id: int):
    _check, row = selectors.photo_get(actor=principal_of(request), check_id=check_id, photo_id=photo_id)
    return _file(row.file, row.file_name, inline=True)


@login_required
@domain_errors
def finding_list(request):
    actor = principal_of(request)
    return render(request, "inspections/findings.html", {"page": _page(request, selectors.findings(actor=actor))})


# --- assessment -------------------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def assessment(request):
    from bianmin.regions.models import Area

    actor = principal_of(request)
    city = Area.objects.filter(level="city").order_by("code").first()
    if city is None:
        raise NotFound("未找到市级区划")
    year = _int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year, "year")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "weights":
            return _act(request, lambda: services.scheme_set(actor=actor, area=city, year=year, weights={
                k: request.POST.get(k, "0") for k in conf.ASSESSMENT_PARTS}), "权重已保存，请重新计算。")
        if action == "compute":
            return _act(request, lambda: services.assessment_compute(actor=actor, area=city, year=year), "年度考核已计算。")
        raise Invalid("未知操作", field="action")
    result = selectors.assessment_get(actor=actor, area=city, year=year)
    rows = list(selectors.assessment_rows(actor=actor, assessment=result)) if result else []
    if request.GET.get("format") == "xlsx":
        if result is None:
            raise NotFound("该年度尚未计算年度考核")
        parts = list(conf.ASSESSMENT_PARTS.items())
        header = ["排名", "县（市）区", "综合得分"] + [f"{label}（权重{result.weights.get(k, 0)}%）" for k, label in parts] \
            + [f"{label}计分" for _k, label in parts]
        out = [[r.rank, r.district.name, float(r.total)]
               + [r.breakdown[k]["value"] or "无数据" for k, _l in parts]
               + [r.breakdown[k]["contribution"] or "—" for k, _l in parts] for r in rows]
        return _xlsx(book("年度考核", header, out), f"年度考核_{year}.xlsx")
    cycles = selectors.cycles(actor=actor).filter(period_start__year=year).exclude(status=Cycle.Status.PLANNED)
    # The breakdown in the parts' order (PostgreSQL's jsonb does not keep the keys' order).
    table = [{"r": r, "cells": [{"key": k, **r.breakdown[k]} for k in conf.ASSESSMENT_PARTS]} for r in rows]
    return render(request, "inspections/assessment.html", {
        "year": year, "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1), "result": result,
        "rows": table, "parts": conf.ASSESSMENT_PARTS, "weights": services.weights_for(city, year),
        "reviewer": actor.can(Cap.INSPECT, city), "cycles": cycles,
    })


# --- settings ---------------------------------------------------------------------------------------------

def _parse_items(raw: str) -> list[dict]:
    """One item a line: 检查方面|检查内容|分值|评分标准 (the last optional)."""
    names = {str(label): value for value, label in Category.choices}
    items = []
    for n, line in enumerate((raw or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3:
            raise Invalid(f"第 {n} 行格式应为“检查方面|检查内容|分值|评分标准”", field="items")
        items.append({"category": names.get(parts[0], parts[0]), "text": parts[1], "max_score": parts[2],
                      "guidance": parts[3] if len(parts) > 3 else ""})
    return items


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def settings_page(request):
    from bianmin.accounts.models import User
    from bianmin.regions.models import Area

    actor = principal_of(request)
    organisers = list(selectors.organiser_areas(actor))
    if not organisers:
        raise Forbidden("只有督查人员可以管理评分模板和周期计划")

    def area_from_post():
        area = next((a for a in organisers if a.code == request.POST.get("area")), None)
        if area is None:
            raise Invalid("请选择组织单位", field="area")
        return area

    if request.method == "POST":
        action = request.POST.get("action")
        if action == "template":
            return _act(request, lambda: services.template_version_create(
                actor=actor, area=area_from_post(), code=request.POST.get("code", ""), name=request.POST.get("name", ""),
                items=_parse_items(request.POST.get("items", "")), note=request.POST.get("note", "")), "已保存新版本。")
        if action == "schedule":
            return _act(request, lambda: services.schedule_set(
                actor=actor, area=area_from_post(), template_code=request.POST.get("template_code", ""),
                active=request.POST.get("active") == "1", period_months=request.POST.get("period_months") or None,
                site_kinds=request.POST.getlist("site_kinds"),
                sites_per_district=_int(request.POST.get("sites_per_district") or 3, "sites_per_district"),
                cases_per_site=_int(request.POST.get("cases_per_site") or 5, "cases_per_site"),
                submit_days=request.POST.get("submit_days") or None, notice_days=request.POST.get("notice_days") or None),
                "周期计划已保存。")
        if action == "leader":
            def add():
                area = Area.objects.filter(code=request.POST.get("leader_area", "")).first()
                if area is None or not actor.sees_area(area):
                    raise Invalid("请选择区划", field="leader_area")
                user = User.objects.filter(username=request.POST.get("username", "").strip()).first() \
                    if request.POST.get("username", "").strip() else None
                services.leader_add(actor=actor, area=area, name=request.POST.get("name", ""),
                                    title=request.POST.get("title", ""), mobile=request.POST.get("mobile", ""), user=user)
            return _act(request, add, "分管领导已添加。")
        if action == "leader-remove":
            return _act(request, lambda: services.leader_remove(actor=actor, leader_id=_int(request.POST.get("leader_id"))),
                        "已移出分管领导名单。")
        raise Invalid("未知操作", field="action")
    from .defaults import DEFAULT_CODE, DEFAULT_ITEMS, DEFAULT_NAME

    labels = dict(Category.choices)
    default_lines = "\n".join(f"{labels[i['category']]}|{i['text']}|{i['max_score']}|{i['guidance']}" for i in DEFAULT_ITEMS)
    return render(request, "inspections/settings.html", {
        "organisers": organisers, "templates": selectors.templates(actor=actor), "schedules": selectors.schedules(actor=actor),
        "leaders": selectors.leaders(actor=actor), "default_code": DEFAULT_CODE, "default_name": DEFAULT_NAME,
        "default_lines": default_lines, "categories": Category.choices,
        "leader_areas": Area.objects.filter(level__in=("district", "township"),
                                            path__startswith=organisers[0].path).order_by("code")[:300],
    })


@login_required
@domain_errors
def template_detail(request, template_id: int):
    return render(request, "inspections/template.html",
                  {"template": selectors.template_get(template_id=template_id)})


# --- inbox ------------------------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def inbox(request):
    actor = principal_of(request)
    if request.method == "POST":
        note = services.notification_read(actor=actor, notification_id=_int(request.POST.get("notification_id")))
        return redirect(note.url or "inspections:inbox")
    return render(request, "inspections/inbox.html", {"page": _page(request, selectors.notifications(actor=actor))})
