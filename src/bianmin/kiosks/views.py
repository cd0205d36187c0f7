"""Staff pages of the kiosks (/kiosks/): the register (list, terminal, new terminal), the
area's page (a district's or township's terminals, offline list, availability and usage, with its
xlsx), a kiosk site's page, the item list with overrides, certificates and revocation. Thin:
services and selectors do the work; out of scope is 404."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, Invalid, NotFound, error_pages
from bianmin.core.masking import mask_id_number, mask_name
from bianmin.core.models import AuditEntry
from bianmin.regions.models import Area, ServiceSite

from . import selectors, services, sources
from .models import LocationKind, Maintenance, Terminal

domain_errors = error_pages("kiosks/problem.html")


def _page(request, qs, per_page: int = 30):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def _can_manage(actor, area) -> bool:
    return actor.can(Cap.KIOSK_MANAGE, area)


def _history(obj, limit: int = 50):
    return (AuditEntry.objects.filter(target_type=f"{obj._meta.app_label}.{obj._meta.model_name}", target_id=str(obj.pk))
            .select_related("actor").order_by("-at", "-id")[:limit])


PERIODS = [("7", "近7日"), ("30", "近30日"), ("90", "近90日"), ("month", "本月"), ("year", "本年")]


def _period(request) -> tuple[date, date, str]:
    """The period of a figures page: a preset (7/30/90 days, this month, this year) or dates."""
    today = timezone.localdate()
    preset = request.GET.get("period", "30")
    try:
        if request.GET.get("start") or request.GET.get("end"):
            start = date.fromisoformat(request.GET.get("start") or today.isoformat())
            end = date.fromisoformat(request.GET.get("end") or today.isoformat())
            preset = ""
        elif preset == "month":
            start, end = today.replace(day=1), today
        elif preset == "year":
            start, end = today.replace(month=1, day=1), today
        else:
            days = {"7": 7, "30": 30, "90": 90}.get(preset, 30)
            start, end = today - timedelta(days=days - 1), today
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD", field="start") from None
    selectors.period_bounds(start, end)
    return start, end, preset


# --- the register ------------------------------------------------------------------------------


@login_required
@domain_errors
def terminal_list(request):
    actor = principal_of(request)
    area = None
    if request.GET.get("area"):
        area = selectors.usage_area(actor=actor, code=request.GET["area"])
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    qs = selectors.terminal_list(actor=actor, area=area, state=state, location_kind=kind if kind in LocationKind.values else "",
                                 q=request.GET.get("q", ""))
    top = selectors.usage_area(actor=actor, code=None) if actor.area_paths_for(Cap.VIEW) else None
    return render(request, "kiosks/terminals.html", {
        "page": _page(request, qs), "counts": selectors.terminal_counts(actor=actor, area=area),
        "states": [*Terminal.State.choices, ("fault", "故障")], "kinds": LocationKind.choices, "state": state, "kind": kind,
        "q": request.GET.get("q", ""), "area": area, "top": top,
        "districts": Area.objects.filter(parent=top).order_by("code") if top else [],
        "can_register": bool(actor.area_paths_for(Cap.KIOSK_MANAGE)),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def terminal_new(request):
    actor = principal_of(request)
    if not actor.area_paths_for(Cap.KIOSK_MANAGE):
        return render(request, "kiosks/problem.html", {"title": "无权登记终端", "message": "您的角色无权登记自助终端"},
                      status=403)
    sites = ServiceSite.objects.filter(kind=ServiceSite.Kind.KIOSK, active=True).select_related("area")
    paths = actor.area_paths_for(Cap.KIOSK_MANAGE)
    sites = [s for s in sites.order_by("code") if any(s.area.path.startswith(p) for p in paths)]
    values, error, field = dict(request.POST.items()), None, None
    if request.method == "POST":
        site = next((s for s in sites if s.code == request.POST.get("site")), None)
        try:
            if site is None:
                raise Invalid("请选择您辖区内的自助服务终端点", field="site")
            try:
                installed_on = date.fromisoformat(request.POST.get("installed_on", ""))
            except ValueError:
                raise Invalid("安装日期格式应为 YYYY-MM-DD", field="installed_on") from None
            terminal, raw = services.terminal_register(
                actor=actor, site=site, code=request.POST.get("code", ""), serial=request.POST.get("serial", ""),
                model=request.POST.get("model", ""), operator=request.POST.get("operator", ""),
                installed_on=installed_on, location_kind=request.POST.get("location_kind") or None)
        except DomainError as exc:
            error, field = exc.message, exc.field
        else:
            return render(request, "kiosks/key_shown.html", {"terminal": terminal, "raw": raw, "what": "设备密钥"})
    return render(request, "kiosks/terminal_new.html", {
        "sites": sites, "kinds": LocationKind.choices, "values": values, "error": error, "field": field,
        "today": timezone.localdate()}, status=422 if error else 200)


@login_required
@domain_errors
def terminal_detail(request, code: str):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    today = timezone.localdate()
    avail = {n: selectors.availability(terminals=[terminal], start=today - timedelta(days=n - 1), end=today)[terminal.pk]
             for n in (7, 30)}
    figures = selectors.usage_figures(actor=actor, area=terminal.area, start=today - timedelta(days=29), end=today,
                                      terminal=terminal)
    return render(request, "kiosks/terminal.html", {
        "t": terminal, "avail": avail, "outages": selectors.outages(terminal=terminal, limit=20),
        "maintenance": selectors.maintenance_list(terminal=terminal)[:30], "figures": figures,
        "recent": selectors.recent_uses(terminal=terminal), "history": _history(terminal),
        "certificates": selectors.certificate_list(actor=actor, terminal=terminal)[:10],
        "can_manage": _can_manage(actor, terminal.area), "kinds": Maintenance.Kind.choices, "today": today,
        "offered": selectors.offered_items(terminal=terminal),
    })


@login_required
@domain_errors
@require_POST
def terminal_maintenance(request, code: str):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    try:
        try:
            performed_on = date.fromisoformat(request.POST.get("performed_on", ""))
        except ValueError:
            raise Invalid("日期格式应为 YYYY-MM-DD", field="performed_on") from None
        services.maintenance_record(actor=actor, terminal=terminal, kind=request.POST.get("kind", ""),
                                    performed_on=performed_on, performed_by=request.POST.get("performed_by", ""),
                                    description=request.POST.get("description", ""))
    except Invalid as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "维护记录已登记")
    return redirect("kiosks:terminal", code=terminal.code)


@login_required
@domain_errors
@require_POST
def terminal_pairing(request, code: str):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    pairing = services.terminal_pairing_issue(actor=actor, terminal=terminal)
    return render(request, "kiosks/key_shown.html", {"terminal": terminal, "raw": pairing, "what": "浏览器配对码",
                                                     "pairing": True})


@login_required
@domain_errors
@require_POST
def terminal_key(request, code: str):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    terminal, raw = services.terminal_key_rotate(actor=actor, terminal=terminal)
    return render(request, "kiosks/key_shown.html", {"terminal": terminal, "raw": raw, "what": "新的设备密钥"})


# --- an area's page (the district's page), a site's page -------------------------------------------


def _area_context(request, actor, area, *, terminal_filter=None):
    start, end, preset = _period(request)
    figures = selectors.usage_figures(actor=actor, area=area, start=start, end=end)
    return {"area": area, "figures": figures, "start": start, "end": end, "preset": preset, "periods": PERIODS,
            "max_day": max((r["uses"] for r in figures.by_day), default=0)}


@login_required
@domain_errors
def usage_home(request):
    actor = principal_of(request)
    area = selectors.usage_area(actor=actor, code=None)
    return redirect("kiosks:area", code=area.code)


@login_required
@domain_errors
def area_page(request, code: str):
    """A district's (or township's, or the city's) page: its terminals' state, the offline list,
    availability and usage by the areas below, by item and by terminal."""
    actor = principal_of(request)
    area = selectors.usage_area(actor=actor, code=code)
    context = _area_context(request, actor, area)
    context.update({
        "counts": selectors.terminal_counts(actor=actor, area=area),
        "offline": selectors.offline_terminals(actor=actor, area=area)[:50],
        "availability": selectors.availability_by_area(actor=actor, area=area, start=context["start"], end=context["end"]),
        "parent": area.parent if area.parent_id and actor.sees_area(area.parent) else None,
    })
    return render(request, "kiosks/area.html", context)


@login_required
@domain_errors
def area_xlsx(request, code: str):
    from bianmin.core.xlsx import book

    actor = principal_of(request)
    area = selectors.usage_area(actor=actor, code=code)
    start, end, _preset = _period(request)
    f = selectors.usage_figures(actor=actor, area=area, start=start, end=end)
    header = ["维度", "编码", "名称", "使用次数", "办结", "失败", "中途退出", "平均用时（秒）", "办结率"]

    def row(kind, code_, name, r):
        return [kind, code_, name, r["uses"], r["success"], r["failed"], r["abandoned"], r["avg_seconds"],
                r["success_rate"]]

    rows = [row("合计", area.code, area.name, f.totals)]
    rows += [row("日期", r["day"].isoformat(), "", r) for r in f.by_day]
    rows += [row("区划", r["area"].code, r["area"].name, r) for r in f.by_area]
    rows += [row("终端", r["terminal"].code, r["terminal"].site.name, r) for r in f.by_terminal]
    rows += [row("事项", r["item"].code if r["item"] else "", r["item"].name if r["item"] else "其他操作", r) for r in f.by_item]
    data = book(f"终端使用统计{start:%Y%m%d}-{end:%Y%m%d}", header, rows)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = (f"attachment; filename=\"kiosk-usage-{area.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx\"")
    return response


@login_required
@domain_errors
def site_page(request, code: str):
    """A kiosk site's page: the terminals standing there and their usage."""
    actor = principal_of(request)
    site = ServiceSite.objects.select_related("area").filter(code=(code or "").strip()[:32], kind=ServiceSite.Kind.KIOSK).first()
    if site is None or not actor.can(Cap.VIEW, site.area):
        raise NotFound("未找到该自助服务终端点")
    terminals = list(selectors.terminal_list(actor=actor).filter(site=site))
    start, end, preset = _period(request)
    rows = []
    for t in terminals:
        f = selectors.usage_figures(actor=actor, area=t.area, start=start, end=end, terminal=t)
        rows.append({"t": t, "figures": f,
                     "availability": selectors.availability(terminals=[t], start=start, end=end)[t.pk].ratio})
    return render(request, "kiosks/site.html", {"site": site, "rows": rows, "start": start, "end": end, "preset": preset,
                                                "periods": PERIODS})


# --- the item list --------------------------------------------------------------------------------


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def item_list(request):
    actor = principal_of(request)
    if request.method == "POST":
        from .api import _item, _target

        try:
            area, terminal = _target(actor, request.POST.get("area_code") or None, request.POST.get("terminal_code") or None)
            item = _item(request.POST.get("item_code", ""))
            if request.POST.get("action") == "clear":
                services.item_override_clear(actor=actor, item=item, area=area, terminal=terminal)
            else:
                services.item_override_set(actor=actor, item=item, area=area, terminal=terminal,
                                           offered=request.POST.get("offered") == "1", note=request.POST.get("note", ""))
        except Invalid as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已保存")
        return redirect("kiosks:items")
    items = list(selectors.kiosk_items(active_only=False).order_by("position", "id"))
    overrides = list(selectors.item_overrides(actor=actor).order_by("item__position", "area__code", "terminal__code"))
    return render(request, "kiosks/items.html", {
        "items": items, "overrides": overrides, "active_count": sum(1 for i in items if i.active and i.default_offered),
        "can_manage": bool(actor.area_paths_for(Cap.KIOSK_MANAGE)),
    })


# --- certificates ---------------------------------------------------------------------------------


@login_required
@domain_errors
def certificate_list(request):
    actor = principal_of(request)
    revoked = {"1": True, "0": False}.get(request.GET.get("revoked", ""))
    qs = selectors.certificate_list(actor=actor, q=request.GET.get("q", ""), revoked=revoked)
    page = _page(request, qs.select_related("case"))
    for c in page:
        c.holder_masked, c.id_masked = mask_name(c.holder_name), mask_id_number(c.holder_id_number)
        c.state_label = selectors.STATE_LABELS[selectors.certificate_state(c)]
    return render(request, "kiosks/certificates.html", {"page": page, "q": request.GET.get("q", ""),
                                                         "revoked": request.GET.get("revoked", "")})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def certificate_detail(request, number: str):
    actor = principal_of(request)
    c = selectors.certificate_get(actor=actor, number=number)
    if request.method == "POST":
        try:
            services.certificate_revoke(actor=actor, certificate=c, reason=request.POST.get("reason", ""))
        except Invalid as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "证明已撤销，核验页面即显示“已撤销”")
        return redirect("kiosks:certificate", number=c.number)
    unmasked = request.GET.get("unmask") == "1" and actor.can(Cap.UNMASK, c.area)
    if unmasked:
        services.certificate_unmask(actor=actor, certificate=c)
    state = selectors.certificate_state(c)
    return render(request, "kiosks/certificate.html", {
        "c": c, "holder": c.holder_name if unmasked else mask_name(c.holder_name),
        "id_number": c.holder_id_number if unmasked else mask_id_number(c.holder_id_number), "unmasked": unmasked,
        "can_unmask": actor.can(Cap.UNMASK, c.area), "can_manage": _can_manage(actor, c.area), "state": state,
        "state_label": selectors.STATE_LABELS[state], "history": _history(c), "source": sources.label_of(c.source),
    })


@login_required
@domain_errors
def certificate_file(request, number: str):
    """The issued PDF (personal data: the unmasking capability, audited)."""
    from .api import pdf_response

    actor = principal_of(request)
    c = selectors.certificate_get(actor=actor, number=number)
    services.certificate_unmask(actor=actor, certificate=c, purpose="pdf")
    return pdf_response(c)

