"""好差评 pages: the citizen's evaluation page (no log-in, no JavaScript, phone-first), the
completion slip and window screen with the QR code, and the staff pages (list, paper/phone
record, flagged evaluations, provincial reporting status). Thin: services and selectors do the work."""

from __future__ import annotations

import re
import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bianmin.accounts.principals import principal_of
from bianmin.cases.selectors import masked_applicant
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, Invalid, error_pages

from . import selectors, services
from .links import token_for
from .models import ASPECTS, Channel, Grade


def _qr():
    from bianmin.core import qr

    return qr


_SVG_SIZE = re.compile(r'^<svg([^>]*?) width="(\d+)" height="(\d+)"')


def _scalable_svg(url: str) -> str:
    """The QR as an inline <svg> that CSS can size (a viewBox instead of a fixed width and
    height): the slip prints it at a set size in millimetres, the window screen fills the screen."""
    return _SVG_SIZE.sub(r'<svg\1 viewBox="0 0 \2 \3"', _qr().qr_svg(url), count=1)


domain_errors = error_pages("evaluations/problem.html")


# --- the citizen's page ------------------------------------------------------------------------

def _form_context(link, *, values=None, error=None, field=None):
    case = link.case
    aspect_set = services.aspect_set_for(Channel.QR, case)
    values = values or {}
    return {
        "link": link, "case": case, "item_name": case.item.standard_item.name if case.item_id else "",
        "grades": [(g.value, g.label) for g in sorted(Grade, key=lambda g: -g.value)],
        "aspects": [(k, label, values.get(f"aspect_{k}", "")) for k, label in ASPECTS[aspect_set] if k != "overall"],
        "aspect_grades": [(g.value, g.label) for g in sorted(Grade, key=lambda g: -g.value)],
        "reasons": list(selectors.reasons_active()), "values": values, "error": error, "field": field,
        "chosen_reasons": values.get("reasons", []), "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
        "text_limit": services.conf.text_limit(),
    }


def _problem(request, problem):
    return render(request, "evaluations/problem.html", {"title": problem.title, "message": problem.message},
                  status=problem.status)


@require_http_methods(["GET", "POST"])
def public_form(request, token: str):
    """The citizen's page of a link: the evaluation form; once evaluated, the 追评 form while the
    追评 period is open (one 追评), a clear page otherwise. Plain HTML forms, no JavaScript."""
    via = request.GET.get("via", "qr")
    if via not in ("qr", "sms", "web"):
        via = "qr"
    if request.user.is_authenticated:
        return render(request, "evaluations/problem.html", {
            "title": "工作人员账号不能评价",
            "message": "评价须由办事群众本人进行。工作人员不得代替、诱导或干预群众评价；请退出登录后再将链接交给办事群众。",
        }, status=403)
    if request.method == "POST" and request.POST.get("kind") == "additional":
        return _additional_post(request, token, via)
    if request.method == "POST":
        values = {
            "grade": request.POST.get("grade", ""), "text": request.POST.get("text", ""),
            "reasons": request.POST.getlist("reasons"), "idempotency_key": request.POST.get("idempotency_key", "")[:100],
        }
        aspects = {}
        for key, _label in ASPECTS["onsite"] + ASPECTS["online"]:
            raw = request.POST.get(f"aspect_{key}")
            if raw:
                values[f"aspect_{key}"] = raw
                aspects[key] = raw
        try:
            if not values["grade"]:
                raise Invalid("请选择评价等级", field="grade")
            submission = services.evaluation_submit_by_link(
                token=token, grade=values["grade"], actor=principal_of(request), via=via, aspects=aspects,
                reasons=values["reasons"], text=values["text"], idempotency_key=values["idempotency_key"] or None)
        except services.LinkProblem as problem:
            return _problem(request, problem)
        except Invalid as exc:
            try:
                link = services.link_resolve(token)
            except services.LinkProblem as problem:
                return _problem(request, problem)
            return render(request, "evaluations/form.html",
                          _form_context(link, values=values, error=exc.message, field=exc.field), status=422)
        except DomainError as exc:
            return render(request, "evaluations/problem.html", {"title": "无法提交评价", "message": exc.message},
                          status=exc.status)
        return render(request, "evaluations/thanks.html", {"evaluation": submission.evaluation,
                                                           "additional_days": services.conf.additional_period_days()})
    try:
        state = services.link_state(token)
    except services.LinkProblem as problem:
        return _problem(request, problem)
    if state.stage == "first":
        return render(request, "evaluations/form.html", _form_context(state.link))
    if state.stage == "additional":
        return render(request, "evaluations/additional.html", _additional_context(state))
    return _problem(request, services.additional_problem(state))


def _additional_context(state, *, values=None, error=None):
    case = state.link.case
    values = values or {}
    return {
        "state": state, "case": case, "first": state.first,
        "item_name": case.item.standard_item.name if case.item_id else "",
        "grades": [(g.value, g.label) for g in sorted(Grade, key=lambda g: -g.value)],
        "reasons": list(selectors.reasons_active()), "values": values, "error": error,
        "chosen_reasons": values.get("reasons", []),
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
        "text_limit": services.conf.text_limit(),
    }


def _additional_post(request, token: str, via: str):
    values = {
        "grade": request.POST.get("grade", ""), "text": request.POST.get("text", ""),
        "reasons": request.POST.getlist("reasons"), "idempotency_key": request.POST.get("idempotency_key", "")[:100],
    }
    try:
        if not values["grade"]:
            raise Invalid("请选择追评等级", field="grade")
        submission = services.evaluation_submit_by_link(
            token=token, grade=values["grade"], actor=principal_of(request), via=via, reasons=values["reasons"],
            text=values["text"], idempotency_key=values["idempotency_key"] or None, kind="additional")
    except services.LinkProblem as problem:
        return _problem(request, problem)
    except Invalid as exc:
        try:
            state = services.link_state(token)
        except services.LinkProblem as problem:
            return _problem(request, problem)
        if state.stage != "additional":
            return _problem(request, services.additional_problem(state))
        return render(request, "evaluations/additional.html", _additional_context(state, values=values, error=exc.message),
                      status=422)
    except DomainError as exc:
        return render(request, "evaluations/problem.html", {"title": "无法提交追评", "message": exc.message},
                      status=exc.status)
    return render(request, "evaluations/thanks.html", {"evaluation": submission.evaluation,
                                                       "additional_days": services.conf.additional_period_days()})


SHORT_MISS_LIMIT = (30, 600)  # unknown short codes per client address per 10 minutes


def short_link(request, code: str):
    """``/e/ABCD-EFGH``: the short link typed from the slip, leading to the link's page. Misses
    are counted per client address, so codes cannot be walked."""
    from bianmin.core import ratelimit
    from bianmin.core.audit import client_ip
    from bianmin.core.errors import RateLimited

    link = services.link_by_short_code(code)
    if link is None:
        try:
            ratelimit.check_rate(f"eval-short-miss:{client_ip(request)}", *SHORT_MISS_LIMIT)
        except RateLimited as exc:
            return render(request, "evaluations/problem.html", {"title": "尝试过于频繁", "message": exc.message},
                          status=429)
        return render(request, "evaluations/problem.html", {
            "title": "评价链接不存在",
            "message": "未找到该评价链接，请核对办结回执上的短链接（8 位字母和数字），或直接扫描回执上的二维码。"},
            status=404)
    return redirect(f"{reverse('evaluations:public-form', args=[token_for(link.nonce)])}?via=qr")


# --- QR code, completion slip, window screen ---------------------------------------------------

@login_required
@domain_errors
def case_slip(request, case_id: int):
    case = selectors.case_for_staff(actor=principal_of(request), case_id=case_id)
    if case.state != "completed":
        raise services.Conflict("办件尚未办结，暂无评价二维码")
    link = services.evaluation_link_issue(case=case, send_sms=False)
    url = services.link_url(link, via="qr")
    return render(request, "evaluations/slip.html", {
        "case": case, "link": link, "url": url, "short_url": services.link_short_url(link), "svg": _scalable_svg(url),
        "item_name": _item_name(case), "applicant": masked_applicant(case),
        "additional_days": services.conf.additional_period_days()})


def _item_name(case) -> str:
    return case.item.standard_item.name if case.item_id else ""


@login_required
@domain_errors
def case_qr(request, case_id: int, fmt: str):
    case = selectors.case_for_staff(actor=principal_of(request), case_id=case_id)
    if case.state != "completed":
        raise services.Conflict("办件尚未办结，暂无评价二维码")
    link = services.evaluation_link_issue(case=case, send_sms=False)
    url = services.link_url(link, via="qr")
    if fmt == "svg":
        return HttpResponse(_qr().qr_svg(url), content_type="image/svg+xml")
    return HttpResponse(_qr().qr_png(url), content_type="image/png")


@login_required
@domain_errors
def window_screen(request, window_id: int):
    window, case = selectors.window_screen_case(actor=principal_of(request), window_id=window_id)
    context = {"window": window, "case": case}
    if case is not None:
        url = services.link_url(case.evaluation_link, via="qr")
        context.update({"url": url, "svg": _scalable_svg(url), "item_name": _item_name(case),
                        "applicant": masked_applicant(case)})
    return render(request, "evaluations/window_screen.html", context)


# --- staff pages ------------------------------------------------------------------------------

@login_required
@domain_errors
def evaluation_list(request):
    actor = principal_of(request)
    grade = request.GET.get("grade") or None
    channel = request.GET.get("channel") or None
    qs = selectors.evaluation_list(actor=actor, grade=int(grade) if grade and grade.isdigit() else None,
                                   channel=channel if channel in Channel.values else None,
                                   bad_only=request.GET.get("bad") == "1",
                                   flagged=True if request.GET.get("flagged") == "1" else None)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "evaluations/list.html", {
        "page": page, "grades": [(g.value, g.label) for g in Grade], "channels": Channel.choices,
        "grade": grade or "", "channel": channel or "", "bad": request.GET.get("bad") == "1",
        "flagged": request.GET.get("flagged") == "1", "flagged_count": selectors.flagged_count(actor=actor),
        "status": selectors.report_status(actor=actor),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def record(request, case_id: int):
    actor = principal_of(request)
    case = selectors.case_for_staff(actor=actor, case_id=case_id, capability=Cap.EVALUATION_RECORD)
    error = None
    values = {"channel": "phone"}
    if request.method == "POST":
        values = {"grade": request.POST.get("grade", ""), "text": request.POST.get("text", ""),
                  "reasons": request.POST.getlist("reasons"), "channel": request.POST.get("channel", "phone")}
        try:
            if values["channel"] not in ("paper", "phone"):
                raise Invalid("请选择纸质或电话评价", field="channel")
            if not values["grade"]:
                raise Invalid("请选择评价等级", field="grade")
            services.evaluation_submit(case_id=case.pk, channel=values["channel"], actor=actor, grade=values["grade"],
                                       reasons=values["reasons"], text=values["text"])
        except Invalid as exc:
            error = exc.message
        else:
            from django.contrib import messages

            messages.success(request, "评价已录入，并标注为工作人员代录。")
            return redirect("evaluations:list")
    return render(request, "evaluations/record.html", {
        "case": case, "grades": [(g.value, g.label) for g in sorted(Grade, key=lambda g: -g.value)],
        "reasons": list(selectors.reasons_active()), "values": values, "error": error,
    }, status=422 if error else 200)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def flagged(request):
    actor = principal_of(request)
    if request.method == "POST":
        services.evaluation_flag_review(actor=actor, evaluation_id=int(request.POST.get("evaluation_id", 0) or 0),
                                        keep_in_figures=request.POST.get("decision") == "keep",
                                        note=request.POST.get("note", ""))
        return redirect("evaluations:flagged")
    qs = selectors.evaluation_list(actor=actor, flagged=True).filter(flag_reviewed=False)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "evaluations/flagged.html", {"page": page})


@login_required
@domain_errors
def reports(request):
    actor = principal_of(request)
    status = request.GET.get("status") or None
    if status not in (None, "sent", "pending", "failed"):
        status = None
    page = Paginator(selectors.report_list(actor=actor, status=status), 50).get_page(request.GET.get("page"))
    return render(request, "evaluations/reports.html", {"page": page, "status": status or "",
                                                        "counts": selectors.report_status(actor=actor)})
