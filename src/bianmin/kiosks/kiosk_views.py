"""The kiosk's own pages (/kiosk/), run full-screen by a terminal's browser.

The browser is paired once with its terminal (/kiosk/pair/: a one-time code from the register):
the pairing sets an HttpOnly, SameSite=Strict cookie holding a device key of the terminal, so no
script on the page can read the key, and another site cannot make the browser use it. Every page
resolves the terminal from that cookie; without it, the pairing page.

A citizen's visit (item chosen, identity read, certificate issued) lives in the server-side
session and nowhere else: pages are sent with ``Cache-Control: no-store``, nothing is written to
the browser's storage, and the session is flushed when the visit ends — by the citizen, or by
the idle timeout (the page's timer, and the server's own check of the visit's last touch). Each
visit is one logged use: finished, failed, or abandoned.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bianmin.accounts.auth import authenticate_key
from bianmin.accounts.models import ApiKey
from bianmin.accounts.principals import principal_of
from bianmin.core.audit import client_ip
from bianmin.core.errors import DomainError, Invalid
from bianmin.core.masking import mask_id_number, mask_name

from . import conf, selectors, services
from .models import KioskItem, UsageLog

VISIT = "kiosk_visit"
# The pairing cookie: a device key of the terminal, HttpOnly (no script reads it), SameSite=Strict
# (no other site makes the browser send it).
DEVICE_COOKIE = "bianmin_device"
COOKIE_MAX_AGE = 365 * 24 * 3600


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def kiosk_page(view):
    """A kiosk page: the paired terminal (else the pairing page), an expired visit ended, no-store."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        raw = request.COOKIES.get(DEVICE_COOKIE)
        key = authenticate_key(request, raw) if raw else None
        terminal = selectors.terminal_of_key(key) if key is not None and key.kind == ApiKey.Kind.DEVICE else None
        if terminal is None:
            return _no_store(redirect("kiosk:pair"))
        request.kiosk_terminal = terminal
        visit = request.session.get(VISIT)
        if visit and _idle(visit):
            _end_visit(request, UsageLog.Outcome.ABANDONED)
        elif visit:
            visit["last"] = timezone.now().isoformat()
            request.session[VISIT] = visit
        return _no_store(view(request, *args, **kwargs))

    return wrapper


def _idle(visit: dict) -> bool:
    last = datetime.fromisoformat(visit.get("last") or visit["started"])
    return (timezone.now() - last).total_seconds() > conf.idle_timeout_seconds()


def _start_visit(request, item: KioskItem) -> dict:
    if request.session.get(VISIT):
        _end_visit(request, UsageLog.Outcome.ABANDONED)
    now = timezone.now().isoformat()
    visit = {"item": item.code, "started": now, "last": now}
    request.session[VISIT] = visit
    return visit


def _log(request, visit: dict, outcome: str) -> None:
    if visit.get("logged") or not visit.get("item"):
        return
    started = datetime.fromisoformat(visit["started"])
    duration = max(0, int((timezone.now() - started).total_seconds() * 1000))
    services.usage_log(terminal=request.kiosk_terminal, uses=[services.Use(
        item_code=visit["item"], outcome=outcome, duration_ms=duration, started_at=started)])
    visit["logged"] = True
    if VISIT in request.session:
        request.session[VISIT] = visit


def _end_visit(request, outcome: str) -> None:
    """The visit's use logged (if not yet) and everything about the citizen forgotten."""
    visit = request.session.get(VISIT)
    if visit:
        _log(request, visit, outcome)
    request.session.flush()


def _context(request, **extra) -> dict:
    terminal = request.kiosk_terminal
    return {"terminal": terminal, "idle_seconds": conf.idle_timeout_seconds(), "reader": conf.reader(), **extra}


# --- pairing -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def pair(request):
    """Pair this browser with a terminal, with the one-time code shown in the register."""
    error = None
    if request.method == "POST":
        try:
            terminal, raw = services.terminal_pair(terminal_code=request.POST.get("terminal", ""),
                                                   pairing_code=request.POST.get("code", ""), ip=client_ip(request))
        except DomainError as exc:
            error = exc.message
            response = render(request, "kiosks/kiosk/pair.html", {"error": error, "terminal_code": request.POST.get("terminal", "")},
                              status=exc.status)
            return _no_store(response)
        request.session.flush()
        response = redirect("kiosk:home")
        response.set_cookie(DEVICE_COOKIE, raw, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict",
                            secure=settings.SESSION_COOKIE_SECURE, path="/")
        return _no_store(response)
    return _no_store(render(request, "kiosks/kiosk/pair.html", {"error": error}))


# --- the citizen's pages -------------------------------------------------------------------------


CATEGORY_ORDER = ["劳动保障", "医保", "公安", "住房", "民政", "计生", "残联", "退役军人", "司法", "工商", "国土", "村建",
                  "农业", "林业", "渔业"]


@kiosk_page
def home(request):
    if request.session.get(VISIT):
        _end_visit(request, UsageLog.Outcome.ABANDONED)
    items = selectors.offered_items(terminal=request.kiosk_terminal)
    certificates = [i for i in items if i.service == KioskItem.Service.CERTIFICATE]
    groups: dict[str, list[KioskItem]] = {}
    for item in items:
        if item.service != KioskItem.Service.CERTIFICATE:
            groups.setdefault(item.standard_item.competent_department.category, []).append(item)
    ordered = sorted(groups.items(), key=lambda kv: CATEGORY_ORDER.index(kv[0]) if kv[0] in CATEGORY_ORDER else 99)
    tab = request.GET.get("tab", "")
    return render(request, "kiosks/kiosk/home.html", _context(
        request, certificates=certificates, groups=ordered, tab=tab if tab in groups else "",
        tab_items=groups.get(tab, [])))


def _offered(request, code: str) -> KioskItem:
    try:
        return services.offered_item(terminal=request.kiosk_terminal, item_code=code)
    except DomainError:
        raise Http404("本终端未提供该事项") from None


@kiosk_page
@require_http_methods(["GET", "POST"])
def item(request, code: str):
    item = _offered(request, code)
    visit = request.session.get(VISIT)
    if visit is None or visit.get("item") != item.code or visit.get("logged"):
        visit = _start_visit(request, item)
    if request.method == "POST" and item.service == KioskItem.Service.GUIDE:
        _end_visit(request, UsageLog.Outcome.SUCCESS)  # the guide was read to the end
        return redirect("kiosk:home")
    standard = item.standard_item
    return render(request, "kiosks/kiosk/item.html", _context(
        request, item=item, standard=standard, materials=list(standard.materials.all()[:12])))


@kiosk_page
@require_http_methods(["GET", "POST"])
def identify(request):
    visit = request.session.get(VISIT)
    if not visit or visit.get("logged"):
        return redirect("kiosk:home")
    item = _offered(request, visit["item"])
    if item.service != KioskItem.Service.CERTIFICATE:
        return redirect("kiosk:item", code=item.code)
    if request.method == "GET":
        return render(request, "kiosks/kiosk/identify.html", _context(request, item=item))
    id_number, name = request.POST.get("id_number", ""), request.POST.get("name", "")
    mobile = request.POST.get("mobile", "")
    try:
        certificate = services.certificate_issue(actor=principal_of(request), terminal=request.kiosk_terminal,
                                                 item_code=item.code, id_number=id_number, name=name, mobile=mobile)
    except DomainError as exc:
        if exc.field in ("mobile",) or (exc.field in ("id_number", "name") and exc.code != "refused"):
            # The citizen can fix this on the same screen: the visit goes on.
            return render(request, "kiosks/kiosk/identify.html", _context(request, item=item, error=exc.message,
                                                                          mobile=""), status=exc.status)
        _log(request, visit, UsageLog.Outcome.FAILED)
        return render(request, "kiosks/kiosk/failed.html", _context(request, item=item, message=exc.message),
                      status=exc.status)
    visit.update({"certificate": certificate.number, "acceptance_number":
                  certificate.case.acceptance_number if certificate.case_id else None,
                  "mobile_last4": mobile.strip()[-4:]})
    request.session[VISIT] = visit
    _log(request, visit, UsageLog.Outcome.SUCCESS)
    return redirect("kiosk:done")


def _issued(request):
    from .models import Certificate

    visit = request.session.get(VISIT) or {}
    number = visit.get("certificate")
    if not number:
        return None, visit
    return (Certificate.objects.select_related("case").filter(number=number, terminal=request.kiosk_terminal).first(),
            visit)


@kiosk_page
def done(request):
    certificate, visit = _issued(request)
    if certificate is None:
        return redirect("kiosk:home")
    return render(request, "kiosks/kiosk/done.html", _context(
        request, certificate=certificate, holder=mask_name(certificate.holder_name),
        id_number=mask_id_number(certificate.holder_id_number), can_evaluate=bool(visit.get("acceptance_number"))))


@kiosk_page
def certificate_pdf(request):
    """The visit's certificate, to print (the browser's print of the PDF)."""
    from .api import pdf_response

    certificate, _visit = _issued(request)
    if certificate is None:
        raise Http404("没有可打印的证明")
    return pdf_response(certificate)


@kiosk_page
@require_http_methods(["GET", "POST"])
def evaluate(request):
    """好差评 on the kiosk channel: the service just given (its case: the acceptance number and
    the phone's last four digits stay in the session, never in the page), or an earlier case (the
    citizen types both). Submitted through evaluations' service with the terminal's own key, so
    the kiosk channel's rules apply unchanged."""
    import uuid

    from bianmin.evaluations import selectors as evaluation_selectors
    from bianmin.evaluations import services as evaluation_services

    visit = request.session.get(VISIT) or {}
    number, last4 = visit.get("acceptance_number") or "", visit.get("mobile_last4") or ""
    context = _context(request, this_visit=bool(number), reasons=list(evaluation_selectors.reasons_active()),
                       idempotency_key=uuid.uuid4().hex, grades=GRADES)
    if request.method == "GET":
        return render(request, "kiosks/kiosk/evaluate.html", context)
    if not number:
        number, last4 = request.POST.get("acceptance_number", "").strip()[:64], request.POST.get("mobile_last4", "").strip()
    values = {"grade": request.POST.get("grade", ""), "reasons": request.POST.getlist("reasons"),
              "acceptance_number": "" if visit.get("acceptance_number") else number}
    try:
        if values["grade"] not in ("1", "2", "3", "4", "5"):
            raise Invalid("请选择评价等级", field="grade")
        evaluation_services.evaluation_submit_by_kiosk(
            actor=principal_of(request), acceptance_number=number, mobile_last4=last4, grade=int(values["grade"]),
            reasons=values["reasons"], idempotency_key=(request.POST.get("idempotency_key") or "")[:100] or None)
    except DomainError as exc:
        context.update(error=exc.message, values=values, idempotency_key=request.POST.get("idempotency_key", "")[:100])
        return render(request, "kiosks/kiosk/evaluate.html", context, status=exc.status)
    return render(request, "kiosks/kiosk/evaluate.html", {**context, "thanks": True})


GRADES = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")]


@kiosk_page
@require_http_methods(["GET", "POST"])
def end(request):
    """End the visit (the citizen's 完成 / 返回首页, or the idle timer): log, forget, go home."""
    visit = request.session.get(VISIT) or {}
    outcome = UsageLog.Outcome.SUCCESS if visit.get("certificate") else UsageLog.Outcome.ABANDONED
    _end_visit(request, outcome)
    response = redirect("kiosk:home")
    # Whatever the browser kept of the visit (cache, storage) goes too; the pairing cookie stays.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@kiosk_page
def demo_reader(request):
    """The demo identity-card reader: a card from the demo registries' deck."""
    from .models import RegistryRecord

    if conf.reader() != "demo":
        raise Http404("演示读卡器未启用")
    cards = RegistryRecord.objects.filter(registry="demo_card").order_by("id")
    count = cards.count()
    if not count:
        return JsonResponse({"message": "读卡失败：未放置身份证"}, status=404, json_dumps_params={"ensure_ascii": False})
    import secrets

    card = cards[secrets.randbelow(count)]
    return JsonResponse({"id_number": card.data["id_number"], "name": card.name},
                        json_dumps_params={"ensure_ascii": False})


# --- public verification -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify(request, number: str, code: str):
    """The page the certificate's QR code opens: masked holder, issue date, validity, revoked or
    not; and, for a presented file, whether it is the very file issued (its SHA-256)."""
    import hashlib

    from bianmin.core.ratelimit import check_rate

    from .api import verify_message, verify_out

    status, result = 200, None
    try:
        check_rate(f"kiosk-verify:{client_ip(request)}", 60, 60, message="核验过于频繁，请稍后再试")
        certificate = selectors.certificate_public(number=number, code=code)
    except DomainError as exc:
        return _no_store(render(request, "kiosks/verify.html", {"error": exc.message}, status=exc.status))
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            result, status = {"ok": False, "message": "请选择要核对的证明文件（PDF）"}, 422
        elif upload.size > 5 * 1024 * 1024:
            result, status = {"ok": False, "message": "文件过大：证明文件不超过 5 MB"}, 413
        else:
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            same = digest.hexdigest() == certificate.sha256
            result = {"ok": same and certificate.revoked_at is None, "message": verify_message(certificate, same)}
    return _no_store(render(request, "kiosks/verify.html", {"c": verify_out(certificate), "result": result,
                                                            "number": number, "code": code}, status=status))
