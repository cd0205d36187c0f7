"""Appeal pages: owners (my appeals, deadlines), managers (by site, overdue, escalated, analysis,
KPIs, 12345 import) and citizens (file an appeal, track it). Thin: parse, call a service or a
selector, render. Everything a person reads is Chinese; text from users is auto-escaped."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core import ratelimit
from bianmin.core.audit import client_ip
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, FieldErrors, Forbidden, Invalid, NotFound
from bianmin.core.masking import keyed
from bianmin.core.validators import parse_day

from . import importer, selectors, services
from .models import (
    ANONYMOUS_KINDS,
    AppealKind,
    Channel,
    PartyType,
    RectificationRequest,
    Satisfaction,
    Status,
)

STAFF_CHANNELS = [Channel.PHONE, Channel.RECEPTION, Channel.SUGGESTION_BOX, Channel.EMAIL, Channel.HOTLINE_12345,
                  Channel.EVALUATION, Channel.FOLLOWUP]
SUBMIT_LIMIT = (5, 3600)  # accepted web submissions per client address per hour
SUBMIT_PHONE_LIMIT = (3, 3600)  # … and per phone number
TRACK_LIMIT = (20, 600)  # tracking attempts per address per 10 minutes: numbers cannot be guessed


def _period(request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        start = parse_day(request.GET.get("start"), field="start") or today.replace(day=1)
    except Invalid:
        start = today.replace(day=1)
    try:
        end = parse_day(request.GET.get("end"), field="end") or today
    except Invalid:
        end = today
    if end < start:
        start, end = end, start
    return start, end


# --- owners ---------------------------------------------------------------------------------

@login_required
def mine(request):
    principal = principal_of(request)
    qs = selectors.appeal_list(principal, owner=request.user, status=request.GET.get("status") or "open").order_by("due_date", "id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "appeals/list.html", {
        "title": "我负责的诉求", "page": page, "today": timezone.localdate(), "mine": True,
        "statuses": Status.choices, "status": request.GET.get("status") or "open",
    })


@login_required
def manage(request):
    principal = principal_of(request)
    site_id = request.GET.get("site") or None
    qs = selectors.appeal_list(
        principal, status=request.GET.get("status") or None, site_id=int(site_id) if (site_id or "").isdigit() else None,
        overdue=request.GET.get("overdue") == "1", escalated=request.GET.get("escalated") == "1",
        q=(request.GET.get("q") or "").strip()[:50],
    ).order_by("due_date", "id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    sites = selectors.sites_for(principal)[:300]
    return render(request, "appeals/list.html", {
        "title": "诉求管理", "page": page, "today": timezone.localdate(), "mine": False, "sites": sites,
        "statuses": Status.choices, "status": request.GET.get("status") or "", "params": request.GET,
    })


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, number: str):
    principal = principal_of(request)
    try:
        appeal = selectors.appeal_get(principal, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    unmasked, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            unmasked = _act(request, principal, appeal, action)
            if action != "unmask":
                messages.success(request, "已保存")
                return redirect("appeals:detail", number=appeal.number)
        except DomainError as exc:
            # The page again, with the message and the refusal's own status (422 for a 负责人
            # who cannot handle the appeal, 403, 409…), not a 200 that reads as success.
            messages.error(request, exc.message)
            status = exc.status
        appeal = selectors.appeal_get(principal, number=number)
    actions = selectors.appeal_actions(principal, appeal)
    return render(request, "appeals/detail.html", {
        "appeal": appeal, "party": selectors.masked_party(appeal), "unmasked": unmasked,
        "events": selectors.appeal_events(appeal), "owners": selectors.appeal_owner_candidates(appeal)
        if principal.can(Cap.APPEAL_HANDLE, appeal.area) else [],
        "departments": selectors.departments_for(appeal),
        "co_handlings": appeal.co_handlings.select_related("department"),
        "attachments": appeal.attachments.all(), "satisfactions": Satisfaction.choices,
        "can_manage": principal.can(Cap.APPEAL_MANAGE, appeal.area),
        "actions": actions,
        # 更正分类 is offered to those who work on the appeal (its owner, its first receiver, a
        # manager); other handlers who may look at it get no form (issue 22.7: only the viewer's actions).
        "can_classify": principal.can(Cap.APPEAL_MANAGE, appeal.area)
        or request.user.pk in (appeal.owner_id, appeal.first_receiver_id),
        "topic_groups": selectors.topic_classes(),
        "can_unmask": principal.can(Cap.UNMASK, appeal.area),
        "is_owner": appeal.owner_id == request.user.pk, "today": timezone.localdate(),
    }, status=status)


@login_required
def attachment(request, number: str, attachment_id: int):
    """An attachment of an appeal in the caller's scope, sent as a download (never rendered inline:
    an uploaded file is not trusted content)."""
    from django.http import FileResponse

    try:
        appeal = selectors.appeal_get(principal_of(request), number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    found = appeal.attachments.filter(pk=attachment_id).first()
    if found is None:
        raise Http404("未找到该附件")
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.name, content_type=found.content_type)


def _act(request, principal, appeal, action):
    post = request.POST
    text = post.get("text", "")
    if action == "assign":
        owner = selectors.owner_get(post.get("owner"))
        deps = selectors.departments_get(post.getlist("co_departments"))
        return services.appeal_assign(actor=principal, appeal=appeal, owner=owner, co_departments=deps, note=text)
    if action == "contact":
        return services.appeal_log_contact(actor=principal, appeal=appeal, text=text)
    if action == "note":
        return services.appeal_add_note(actor=principal, appeal=appeal, text=text,
                                        department=selectors.department_get(post.get("department")))
    if action == "reply":
        return services.appeal_reply(actor=principal, appeal=appeal, reply=text)
    if action == "follow_up":
        return services.appeal_follow_up(actor=principal, appeal=appeal, satisfaction=post.get("satisfaction", ""),
                                         resolved=post.get("resolved") == "1", text=text)
    if action == "close":
        return services.appeal_close(actor=principal, appeal=appeal, text=text)
    if action == "unmask":
        return services.appeal_unmask(actor=principal, appeal=appeal, reason=text)
    if action == "topic":
        return services.appeal_topic_set(actor=principal, appeal=appeal, code=post.get("code", ""), note=text)
    raise NotFound("未知操作")


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    """Staff entry for phone, reception, suggestion-box (and e-mail read by hand) appeals."""
    principal = principal_of(request)
    areas = selectors.areas_for(principal, Cap.APPEAL_HANDLE)
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            area = selectors.area_for(principal, Cap.APPEAL_HANDLE, code=values.get("area"))
            if values.get("channel") not in STAFF_CHANNELS:
                raise NotFound("请选择诉求渠道", field="channel")
            site = selectors.site_in_area(area, site_id=values.get("site"))
            appeal = services.appeal_register(
                actor=principal, kind=values.get("kind", ""), channel=values.get("channel"), area=area, site=site,
                title=values.get("title", ""), content=values.get("content", ""),
                party_type=values.get("party_type", PartyType.PERSON), name=values.get("name", ""),
                mobile=values.get("mobile", ""), id_number=values.get("id_number", ""), email=values.get("email", ""),
                enterprise_name=values.get("enterprise_name", ""), credit_code=values.get("credit_code", ""),
                address=values.get("address", ""), attachments=request.FILES.getlist("attachments"),
            )
            messages.success(request, f"已登记，诉求编号 {appeal.number}。您是首接负责人。")
            return redirect("appeals:detail", number=appeal.number)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "appeals/new.html", {
        "areas": areas, "kinds": AppealKind.choices, "channels": [(c.value, c.label) for c in STAFF_CHANNELS],
        "party_types": PartyType.choices, "values": values,
        "sites": selectors.sites_for(principal)[:300],
    })


# --- managers -------------------------------------------------------------------------------

@login_required
def analysis(request):
    principal = principal_of(request)
    areas = selectors.areas_for(principal, Cap.VIEW, levels=selectors.FIGURE_LEVELS)
    try:
        area = selectors.figures_area(principal, code=request.GET.get("area") or "")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    start, end = _period(request)
    by = request.GET.get("by") or "class"
    if by not in selectors.GROUPINGS:
        by = "class"
    groups = selectors.appeal_groups(principal, area=area, by=by, start=start, end=end, limit=15)
    prev_start, prev_end = selectors.previous_period(start, end)
    unit = request.GET.get("unit") if request.GET.get("unit") in selectors.TREND_UNITS else "month"
    level = 1 if request.GET.get("level") == "1" else 2
    periods, trends = selectors.appeal_class_trends(principal, area=area, end=end, unit=unit, level=level)
    top = max((max(t.counts) for t in trends), default=0)
    return render(request, "appeals/analysis.html", {
        "areas": areas, "area": area, "start": start, "end": end, "by": by, "groups": groups,
        "prev_start": prev_start, "prev_end": prev_end, "unit": unit, "units": selectors.TREND_UNITS.items(),
        "unit_label": "个月" if unit == "month" else "周",
        "level": level, "periods": periods,
        "trends": [{"t": t, "points": _sparkline(t.counts, top)} for t in trends],
        "groupings": [(k, RectificationRequest.GroupBy(k).label) for k in selectors.GROUPINGS],
        "can_rectify": principal.can(Cap.APPEAL_MANAGE, area),
        "requests": selectors.rectification_requests(principal)[:20],
    })


def _sparkline(counts: list[int], top: int, width: int = 120, height: int = 24) -> str:
    """The points of an inline SVG polyline (no script, no chart library): one per period, scaled
    to the largest count on the page so the rows compare."""
    if not counts:
        return ""
    step = width / max(len(counts) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - (n / top * (height - 2) if top else 0) - 1:.1f}"
                    for i, n in enumerate(counts))


@login_required
@require_POST
def rectify(request):
    principal = principal_of(request)
    post = request.POST
    try:
        area = selectors.area_for(principal, Cap.APPEAL_MANAGE, code=post.get("area"))
        start, end = parse_day(post.get("start"), field="start"), parse_day(post.get("end"), field="end")
        if start is None or end is None:
            raise ValueError("统计期不完整")
        by, key = post.get("by", ""), post.get("key", "")
        group = next((g for g in selectors.appeal_groups(principal, area=area, by=by, start=start, end=end, limit=50)
                      if g.key == key), None)
        if group is None:
            raise NotFound("该分组在本统计期没有诉求", field="key")
        req = services.rectification_request_create(
            actor=principal, area=area, group_by=by, group_key=group.key, group_label=group.label,
            period_start=start, period_end=end, appeal_ids=group.appeal_ids, note=post.get("note", ""))
        messages.success(request, f"已发起整改：{req.group_label}（{req.appeal_count}件），待整改台账接收")
    except ValueError:
        messages.error(request, "统计期格式错误")
    except NotFound as exc:
        if exc.field == "area":  # out of scope: not revealed (404), like every other record
            raise Http404(exc.message) from exc
        messages.error(request, exc.message)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('appeals:analysis')}?area={post.get('area', '')}&by={post.get('by', '')}"
                    f"&start={post.get('start', '')}&end={post.get('end', '')}")


@login_required
def kpi(request):
    principal = principal_of(request)
    areas = selectors.areas_for(principal, Cap.VIEW, levels=selectors.FIGURE_LEVELS)
    try:
        area = selectors.figures_area(principal, code=request.GET.get("area") or "")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    start, end = _period(request)
    return render(request, "appeals/kpi.html", {
        "areas": areas, "area": area, "start": start, "end": end,
        "rows": selectors.appeal_kpis(principal, area=area, start=start, end=end),
    })


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.APPEAL_MANAGE):
        raise PermissionDenied("只有诉求管理人员可以导入12345工单")
    areas = selectors.areas_for(principal, Cap.APPEAL_MANAGE, levels=selectors.FIGURE_LEVELS)
    if request.method == "POST":
        try:
            area = selectors.area_for(principal, Cap.APPEAL_MANAGE, code=request.POST.get("area"))
            upload = request.FILES.get("file")
            if upload is None:
                raise NotFound("请选择文件", field="file")
            job = importer.import_job_create(actor=principal, upload=upload, area=area)
            return redirect("appeals:import_job", job_id=job.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    jobs = selectors.import_jobs(principal)[:20]
    return render(request, "appeals/import.html", {"areas": areas, "jobs": jobs, "columns": list(importer.COLUMNS)})


@login_required
def import_job(request, job_id: int):
    try:
        job = selectors.import_job_get(principal_of(request), job_id=job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "appeals/import_job.html", {"job": job, "errors": job.errors[:500]})


# --- citizens -------------------------------------------------------------------------------

def _challenge(request) -> str:
    """A small arithmetic question, answered on the page: no captcha service from outside. The
    answer lives in the session (database-backed, so every app server sees it)."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    request.session["appeal_challenge"] = a + b
    return f"{a} + {b} = ?"


def _submit_limits(request, mobile: str) -> list[tuple[str, int, int]]:
    """(key, limit, window) of the web form: per client address (behind a configured proxy, the
    real client: core/clientaddr.py) and per phone. Only accepted submissions count."""
    limits = [(f"appeal-submit:{client_ip(request)}", *SUBMIT_LIMIT)]
    phone = keyed("".join(c for c in mobile if c.isdigit()))
    if phone:
        limits.append((f"appeal-submit-phone:{phone}", *SUBMIT_PHONE_LIMIT))
    return limits


@require_http_methods(["GET", "POST"])
def submit(request):
    values = request.POST if request.method == "POST" else {}
    errors: dict[str, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        expected = request.session.pop("appeal_challenge", None)
        limits = _submit_limits(request, values.get("mobile", ""))
        try:
            for key, limit, window in limits:
                ratelimit.check_current(key, limit, window, message="提交过于频繁")
            checks = FieldErrors()
            answer = (values.get("challenge") or "").strip()
            if expected is None or not answer.isdigit() or int(answer) != expected:
                checks.add("challenge", "验证题答案不正确，请重新计算")
            area = selectors.submit_area(values.get("area", ""))
            if area is None:
                checks.add("area", "请选择诉求所在的乡镇（街道）")
            kind = values.get("kind", "")
            anonymous = values.get("anonymous") == "1" and kind in ANONYMOUS_KINDS
            fields = {"kind": kind, "title": values.get("title", ""), "content": values.get("content", ""),
                      "party_type": PartyType.ANONYMOUS if anonymous else PartyType.PERSON,
                      "name": values.get("name", ""), "mobile": values.get("mobile", ""),
                      "email": values.get("email", "")}
            checks.run(services.appeal_fields_check, area=area, **fields)
            checks.raise_if_any()
            appeal = services.appeal_register(actor=None, channel=Channel.WEB, area=area, **fields)
            for key, _limit, window in limits:  # counted once accepted: mistakes cost nothing
                ratelimit.count(key, window)
            return render(request, "appeals/submitted.html", {"appeal": appeal})
        except DomainError as exc:
            error, status = exc.message, exc.status
            errors = exc.field_errors if exc.status == 422 else {}
    return render(request, "appeals/submit.html", {
        "area_groups": selectors.submit_area_groups(), "kinds": AppealKind.choices, "values": values,
        "error": error, "errors": errors, "challenge": _challenge(request),
        "title_limit": services.TITLE_LIMIT, "content_limit": services.CONTENT_LIMIT,
        "anonymous_kinds": "、".join(str(AppealKind(k).label) for k in ANONYMOUS_KINDS),
    }, status=status)


@require_http_methods(["GET", "POST"])
def track(request):
    """The citizen's check: the number and the phone's last four digits, posted (never in a URL,
    where logs and browser history keep it). A GET may carry the number to fill in."""
    number = ((request.POST if request.method == "POST" else request.GET).get("number") or "").strip()[:24]
    last4 = (request.POST.get("phone4") or "").strip() if request.method == "POST" else ""
    appeal = error = None
    status = 200
    if request.method == "POST":
        try:
            ratelimit.check_rate(f"appeal-track:{client_ip(request)}", *TRACK_LIMIT)
            appeal = selectors.appeal_track(number=number, phone_last4=last4)
        except DomainError as exc:
            error, status = exc.message, exc.status
    return render(request, "appeals/track.html", {
        "appeal": appeal, "error": error, "number": number,
        "events": selectors.public_events(appeal) if appeal else [],
    }, status=status)
