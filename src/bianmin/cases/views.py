"""Pages of cases: the clerk's workbench (queue, intake, one screen to handle a case), the
manager's view and overdue list, dossiers, and the citizen's progress check. Thin: read through
selectors, write through services, turn domain errors into a message on the page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core.audit import client_ip
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, Invalid, NotFound
from bianmin.core.ratelimit import check_rate
from bianmin.core.uploads import read_upload
from bianmin.regions.models import Window

from . import receipts, selectors, services
from .deadlines import STATUS_LABELS, case_clock
from .models import Case, State
from .services import Applicant
from .workflow import case_actions

PAGE_SIZE = 30
DEADLINE_CHOICES = [(k, STATUS_LABELS[k]) for k in selectors.DEADLINE_FILTERS]


def _annotate(cases, today):
    rows = []
    for c in cases:
        rows.append({"case": c, "deadline": case_clock(c, today=today), "applicant": selectors.masked_applicant(c)})
    return rows


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@login_required
def queue(request):
    """我的待办: open cases of my sites, most urgent first; filters by state, deadline, item, window."""
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.VIEW):
        raise Http404
    state = request.GET.get("state") or None
    state = state if state in State.values else None
    deadline = request.GET.get("deadline") or None
    deadline = deadline if deadline in selectors.DEADLINE_FILTERS else None
    mine = request.GET.get("mine") == "1"
    item_id, window_id = _int(request.GET.get("item")), _int(request.GET.get("window"))
    q = (request.GET.get("q") or "").strip()[:50]
    qs = selectors.cases_queue(principal=principal, state=state, deadline=deadline, item_id=item_id,
                               window_id=window_id, mine=mine, q=q or None, open_only=state is None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "cases/queue.html", {
        "rows": _annotate(page.object_list, today), "page": page, "today": today,
        "states": State.choices, "deadlines": DEADLINE_CHOICES,
        "items": selectors.items_seen(principal=principal), "windows": selectors.windows_seen(principal=principal),
        "f": {"state": state or "", "deadline": deadline or "", "item": item_id, "window": window_id, "mine": mine,
              "q": q},
        "querystring": urlencode(params),
        "can_intake": bool(principal.area_paths_for(Cap.CASE_HANDLE)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def intake(request):
    """窗口收件: pick the site and the item, enter the applicant."""
    principal = principal_of(request)
    sites = list(selectors.sites_for_intake(principal=principal))
    if not sites:
        return render(request, "cases/intake.html", {"sites": [], "site": None, "items": [], "windows": [],
                                                     "form": {}, "error": None, "kinds": Case.ApplicantKind.choices})
    site = next((s for s in sites if str(s.pk) == (request.POST.get("site") or request.GET.get("site"))), sites[0])
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:50]
    items = list(selectors.items_for_intake(site=site, q=q))
    form = request.POST if request.method == "POST" else {}
    error = None
    status = 200
    if request.method == "POST" and request.POST.get("submit"):
        item = next((i for i in items if str(i.pk) == request.POST.get("item")), None)
        window = Window.objects.filter(pk=_int(request.POST.get("window")), site=site).first()
        try:
            if item is None:
                from bianmin.core.errors import Invalid

                raise Invalid("请选择本场所提供的事项", field="item")
            case = services.case_submit(
                actor=principal, site=site, item=item, window=window, summary=request.POST.get("summary", ""),
                applicant=Applicant(kind=request.POST.get("applicant_kind", "person"),
                                    name=request.POST.get("applicant_name", ""),
                                    id_number=request.POST.get("id_number", ""),
                                    credit_code=request.POST.get("credit_code", ""),
                                    contact_name=request.POST.get("contact_name", ""),
                                    mobile=request.POST.get("mobile", "")),
            )
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, "已收件，请核对材料后受理。")
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/intake.html", {
        "sites": sites, "site": site, "items": items, "windows": site.windows.filter(active=True),
        "form": form, "error": error, "kinds": Case.ApplicantKind.choices, "q": q,
    }, status=status)


@login_required
def detail(request, case_id: int):
    """One screen to handle a case from intake to completion."""
    principal = principal_of(request)
    try:
        case = selectors.case_get(principal=principal, case_id=case_id)
    except NotFound:
        raise Http404 from None
    today = timezone.localdate()
    handles = principal.can(Cap.CASE_HANDLE, case.site.area)
    actions = case_actions(case) if handles else []
    return render(request, "cases/detail.html", {
        "case": case, "deadline": case_clock(case, today=today), "applicant": selectors.masked_applicant(case),
        "actions": actions, "handles": handles, "today": today,
        "missing_required": services.missing_required_materials(case) if "accept" in actions else [],
        "materials": case.materials.select_related("file"), "events": case.events.select_related("actor"),
        "visits": case.visits.select_related("site"), "suspensions": case.suspensions.all(),
        "transfers": case.transfers.select_related("from_site", "to_site"),
        "can_unmask": principal.can(Cap.UNMASK, case.site.area),
        "unmasked": request.session.pop(f"unmasked-{case.pk}", None),
        "can_assign": principal.can(Cap.CASE_MANAGE, case.site.area) and case.is_open,
        "clerks": selectors.clerks_of_site(site=case.site) if principal.can(Cap.CASE_MANAGE, case.site.area) else [],
    })


def _accept(principal, case_id: int, request):
    """受理 from the page: a required material still 未收 asks the clerk to confirm 容缺受理."""
    case = selectors.case_get(principal=principal, case_id=case_id)
    missing = services.missing_required_materials(case)
    if missing and request.POST.get("accept_missing") != "1":
        raise Invalid(f"尚未收取必要材料：{'、'.join(missing)}。如确需容缺受理，请勾选“确认容缺受理”后再受理。",
                      field="accept_missing")
    return services.case_accept(actor=principal, case_id=case_id)


def _complete(principal, case_id: int, request):
    if request.POST.get("confirm") != "1":
        raise Invalid("请勾选“确认办结”：办结后将通知申请人并邀请评价，不能撤销。", field="confirm")
    return services.case_complete(actor=principal, case_id=case_id, result=request.POST.get("result", ""),
                                  reason=request.POST.get("reason", ""))


ACTIONS = {
    "accept": _accept,
    "reject": lambda p, c, r: services.case_reject(actor=p, case_id=c, reason=r.POST.get("reason", "")),
    "request_correction": lambda p, c, r: services.case_request_correction(
        actor=p, case_id=c, materials=r.POST.get("materials", "").replace("，", "\n").replace("、", "\n").splitlines(),
        note=r.POST.get("note", "")),
    "receive_correction": lambda p, c, r: services.case_receive_correction(actor=p, case_id=c),
    "start": lambda p, c, r: services.case_start(actor=p, case_id=c),
    "complete": _complete,
    "withdraw": lambda p, c, r: services.case_withdraw(actor=p, case_id=c, reason=r.POST.get("reason", "")),
    "transfer": lambda p, c, r: services.case_transfer(actor=p, case_id=c, note=r.POST.get("note", "")),
    "visit": lambda p, c, r: services.case_visit_record(actor=p, case_id=c, purpose=r.POST.get("purpose", "")),
}

DONE = {"accept": "已受理", "reject": "已作不予受理处理", "request_correction": "已一次性告知补正，计时暂停",
        "receive_correction": "补正材料已收齐，恢复计时", "start": "已开始办理", "complete": "已办结", "withdraw": "已撤回",
        "transfer": "已转办至上级场所", "visit": "已登记跑动"}


@login_required
@require_POST
def act(request, case_id: int, action: str):
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    try:
        handler(principal_of(request), case_id, request)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, DONE[action])
    return redirect("cases:detail", case_id=case_id)


@login_required
@require_POST
def material(request, case_id: int, material_id: int):
    upload = request.FILES.get("file")
    try:
        data = None
        name = ""
        if upload is not None:
            name, data = read_upload(upload, field="file")
        services.case_material_attach(actor=principal_of(request), case_id=case_id, material_id=material_id,
                                      data=data, file_name=name)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "材料已收取")
    return redirect("cases:detail", case_id=case_id)


@login_required
@require_POST
def assign(request, case_id: int):
    from bianmin.accounts.models import User

    owner = User.objects.filter(pk=_int(request.POST.get("owner"))).first()
    try:
        services.case_assign(actor=principal_of(request), case_id=case_id, owner=owner)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已指定经办人")
    return redirect("cases:detail", case_id=case_id)


@login_required
@require_POST
def unmask(request, case_id: int):
    """查看完整信息: an audited service reveals the ID/credit code and phone, once, to this page."""
    from bianmin.accounts.services import unmask as unmask_value

    principal = principal_of(request)
    try:
        case = selectors.case_get(principal=principal, case_id=case_id)
        ident = "id_number" if case.applicant_kind == Case.ApplicantKind.PERSON else "credit_code"
        values = {
            "ident": unmask_value(actor=principal, record=case, field=ident, area_field="site__area",
                                  reason=request.POST.get("reason", "")),
            "mobile": unmask_value(actor=principal, record=case, field="mobile", area_field="site__area",
                                   reason=request.POST.get("reason", "")),
            "name": case.applicant_name,
        }
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        request.session[f"unmasked-{case_id}"] = values
    return redirect("cases:detail", case_id=case_id)


@login_required
def dossier(request, case_id: int):
    principal = principal_of(request)
    try:
        case = selectors.case_get(principal=principal, case_id=case_id)
    except NotFound:
        raise Http404 from None
    data = services.case_dossiers_export(actor=principal, cases=[case], as_zip=False)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"业务卷宗-{case.acceptance_number or case.pk}.pdf")
    return response


@login_required
@require_POST
def dossiers_zip(request):
    principal = principal_of(request)
    ids = {i for i in (_int(x) for x in request.POST.getlist("ids")) if i}
    cases = list(selectors.cases_visible(principal).filter(pk__in=list(ids)[:500]).select_related(
        "item__standard_item", "site__area", "received_site", "authorized_by"))
    if len(cases) != len(ids) and len(ids) <= 500:
        raise Http404  # some asked-for case is outside the caller's scope (or missing): say nothing more
    try:
        data = services.case_dossiers_export(actor=principal, cases=cases)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(request.POST.get("next") or "cases:manage")
    response = HttpResponse(data, content_type="application/zip")
    # RFC 6266 filename*: the browser keeps the Chinese name.
    response["Content-Disposition"] = content_disposition_header(True, f"办件卷宗-{timezone.localdate():%Y%m%d}.zip")
    return response


@login_required
def manage(request):
    """The manager's view: each site's open, due-soon, overdue and paused cases this month."""
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.VIEW):
        raise Http404
    today = timezone.localdate()
    recent = selectors.cases_visible(principal).select_related("item__standard_item", "site").order_by(
        "-submitted_at", "-id")
    page = Paginator(recent, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/manage.html", {
        "summary": selectors.site_summary(principal=principal, today=today), "today": today,
        "rows": _annotate(page.object_list, today), "page": page,
    })


@login_required
def overdue(request):
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.VIEW):
        raise Http404
    today = timezone.localdate()
    page = Paginator(selectors.cases_overdue(principal=principal, today=today), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "cases/overdue.html", {"rows": _annotate(page.object_list, today), "page": page,
                                                  "today": today})


TRACK_LIMIT = 10  # attempts per address per 10 minutes


@require_http_methods(["GET", "POST"])
def track(request):
    """Citizens check progress with the acceptance number and the phone's last four digits. One
    message for every mismatch, and a rate limit, so numbers cannot be probed."""
    result = None
    error = None
    status = 200
    if request.method == "POST":
        try:
            check_rate(f"cases-track:{client_ip(request)}", TRACK_LIMIT, 600,
                       message="查询过于频繁，请10分钟后再试")
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            result = selectors.case_track(number=request.POST.get("number", ""),
                                          mobile_last4=request.POST.get("last4", ""))
            if result is None:
                error = "未查到办件：请核对受理编号和手机号码后四位"
    return render(request, "cases/track.html", {"result": result, "error": error,
                                                "number": request.POST.get("number", "")[:64]}, status=status)


def _case_or_404(request, case_id: int) -> Case:
    try:
        return selectors.case_get(principal=principal_of(request), case_id=case_id)
    except NotFound:
        raise Http404 from None


def _paper(request, case: Case, receipt: receipts.Receipt, fmt: str, file_stem: str):
    if fmt == "pdf":
        response = HttpResponse(receipts.receipt_pdf(receipt), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(False, f"{file_stem}-{receipt.number}.pdf")
        return response
    return render(request, "cases/receipt.html", {"case": case, "receipt": receipt, "fmt_pdf": f"{file_stem}.pdf"})


@login_required
def acceptance_receipt(request, case_id: int, fmt: str = "html"):
    """受理回执, printed and handed over at 受理."""
    case = _case_or_404(request, case_id)
    if case.accepted_on is None:
        raise Http404
    return _paper(request, case, receipts.acceptance_receipt(case), fmt, "受理回执")


@login_required
def correction_notice(request, case_id: int, fmt: str = "html"):
    """一次性告知书 of the case's latest correction request."""
    case = _case_or_404(request, case_id)
    suspension = case.suspensions.order_by("-started_on", "-id").first()
    if suspension is None:
        raise Http404
    return _paper(request, case, receipts.correction_notice(case, suspension), fmt, "一次性告知书")
