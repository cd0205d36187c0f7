"""Policy pages. Public (no log-in): search with filters, a policy, its forms, enterprise
matching, subscribing and the subscriber's own page. Staff (policy.edit): the library within
scope, editing, the workflow, history, attachments, import/export, expiring policies, enterprise
profiles. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core.audit import client_ip
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, Forbidden, Invalid, error_pages
from bianmin.core.imports import check_size, limits_for
from bianmin.core.masking import mask_credit_code, mask_mobile, mask_text
from bianmin.core.ratelimit import check_rate

from . import conf, matching, selectors, services
from .api import filters_from
from .forms import PolicyForm, ProfileForm, SubscribeForm
from .models import Category, Policy, Size, State, Subscription

domain_errors = error_pages("policies/problem.html")
PAGE_SIZE = 20


def _page_number(request) -> int:
    raw = request.GET.get("page") or "1"
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 10000 else 1


# ---------------------------------------------------------------------------------------------
# Public


def search_page(request):
    g = request.GET
    params = {k: (g.get(k) or "").strip() for k in ("q", "category", "department", "industry", "size", "area", "tag")}
    # The page's own default: only policies in force, unless the visitor asks for all.
    params["all"] = g.get("all") == "1"
    context = {"params": params, "choices": selectors.filter_choices(), "error": "", "page": None}
    try:
        filters = filters_from(**{k: params[k] for k in ("category", "department", "industry", "size", "area", "tag")},
                               in_force=not params["all"], no_application=g.get("free") == "1")
        context["page"] = selectors.policy_search(q=params["q"], filters=filters, page=_page_number(request),
                                                  per_page=PAGE_SIZE)
    except DomainError as exc:
        context["error"] = exc.message
    context["today"] = timezone.localdate()
    query = g.copy()
    query.pop("page", None)
    context["query"] = query.urlencode()
    context["free"] = g.get("free") == "1"
    return render(request, "policies/search.html", context, status=422 if context["error"] else 200)


@domain_errors
def detail_page(request, code: str):
    policy = selectors.public_get(code=code)
    return render(request, "policies/detail.html", {"p": policy, "today": timezone.localdate(),
                                                    "in_force": policy.in_force_on(timezone.localdate())})


@domain_errors
def attachment_download(request, code: str, pk: int):
    attachment = selectors.public_attachment(code=code, attachment_id=pk)
    try:
        fh = default_storage.open(attachment.file.path, "rb")
    except OSError:
        raise DomainError("文件暂时无法读取，请稍后再试") from None
    return FileResponse(fh, as_attachment=True, filename=attachment.name, content_type=attachment.file.content_type)


def _profile_of_form(form: ProfileForm) -> matching.Profile:
    d = form.cleaned_data
    area = d.get("area")
    return matching.Profile(industry=d.get("industry") or "", size=d.get("size") or "",
                            area_path=area.path if area else "", area_name=area.name if area else "",
                            founded_on=d.get("founded_on"), tags=tuple(form.profile_data().tags))


def match_page(request):
    """企业政策匹配: the profile in the query string (nothing saved), the eligible policies with
    their reasons, and a form to subscribe."""
    form = ProfileForm(request.GET or None)
    context = {"form": form, "matches": None, "warning": "", "subscribe": None}
    if request.GET and form.is_valid():
        code = (form.cleaned_data.get("credit_code") or "").strip()
        if form.cleaned_data.get("founded_on") and form.cleaned_data["founded_on"] > timezone.localdate():
            form.add_error("founded_on", "成立日期不能晚于今天")
        elif code:
            try:
                _, pilot = services.check_credit_code(code, pilot_override=True)
                if pilot:
                    context["warning"] = ("统一社会信用代码校验位不符。如为早期试点代码，匹配结果仍可参考；"
                                          "订阅推送须联系政策部门工作人员确认后录入。")
            except DomainError as exc:
                form.add_error("credit_code", exc.message)
        if not form.errors:
            context["matches"] = selectors.match_policies(profile=_profile_of_form(form))
            context["subscribe"] = SubscribeForm(initial={**{k: request.GET.get(k, "") for k in form.fields},
                                                          "channel": "sms"})
    return render(request, "policies/match.html", context, status=422 if form.errors else 200)


@require_POST
def subscribe(request):
    form = SubscribeForm(request.POST)
    context = {"form": form, "error": ""}
    if form.is_valid():
        try:
            check_rate(f"policy-subscribe:{client_ip(request) or '-'}", conf.subscribe_per_hour(), 3600,
                       message="订阅请求过于频繁，请稍后再试")
            sub = services.subscription_create(data=form.profile_data(), channel=form.cleaned_data["channel"],
                                               contact=form.cleaned_data["contact"])
            return render(request, "policies/subscribed.html", {"sub": sub, "contact": _masked_contact(sub)})
        except DomainError as exc:
            context["error"] = exc.message
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
                context["error"] = ""
            status = exc.status
    else:
        status = 422
    return render(request, "policies/subscribe.html", context, status=status)


def _masked_contact(sub: Subscription) -> str:
    if sub.channel == Subscription.Channel.SMS:
        return mask_mobile(sub.contact)
    name, _, domain = sub.contact.partition("@")
    return f"{mask_text(name)}@{domain}"


@require_http_methods(["GET", "POST"])
@domain_errors
def subscription_page(request, token: str):
    """The subscriber's own page (the link in their messages): confirm, see matches, correct the
    profile, unsubscribe."""
    sub = services.subscription_from_token(token)
    form = ProfileForm(request.POST or None, initial={
        "industry": sub.profile.industry, "size": sub.profile.size,
        "area": sub.profile.area.code if sub.profile.area_id else "", "founded_on": sub.profile.founded_on,
        "tags": "、".join(sub.profile.tags), "name": sub.profile.name})
    form.fields["credit_code"].disabled = True
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm":
            services.subscription_confirm(subscription_id=sub.pk)
            messages.success(request, "订阅已确认：有符合贵企业条件的新政策发布时，我们会通知您。")
            return redirect(request.path)
        if action == "cancel":
            services.subscription_cancel(subscription_id=sub.pk)
            messages.success(request, "已退订，不会再收到政策推送。")
            return redirect(request.path)
        if action == "update" and form.is_valid():
            try:
                services.subscription_profile_update(subscription_id=sub.pk, data=form.profile_data())
                messages.success(request, "企业信息已保存")
                return redirect(request.path)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        elif action not in ("update",):
            raise Invalid("未知的操作")
        sub.refresh_from_db()
    matches = (selectors.match_policies(profile=matching.Profile.of(sub.profile))
               if sub.status != Subscription.Status.CANCELLED else [])
    return render(request, "policies/subscription.html", {
        "sub": sub, "form": form, "matches": matches, "contact": _masked_contact(sub),
        "credit_code": mask_credit_code(sub.profile.credit_code),
        "notices": list(sub.notices.select_related("policy").order_by("-created_at")[:20])},
        status=422 if form.errors else 200)


# ---------------------------------------------------------------------------------------------
# Staff


def _editor(request):
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.POLICY_EDIT):
        raise Forbidden("您的角色无权维护惠企政策")
    return principal


@login_required
@domain_errors
def staff_list(request):
    principal = _editor(request)
    g = request.GET
    state = g.get("state") if g.get("state") in State.values else ""
    category = g.get("category") if g.get("category") in Category.values else ""
    q = (g.get("q") or "").strip()[:50]
    qs = selectors.policies_scoped(principal=principal, state=state, q=q, category=category)
    page = Paginator(qs, 30).get_page(_page_number(request))
    query = g.copy()
    query.pop("page", None)
    return render(request, "policies/staff_list.html", {
        "page": page, "states": State.choices, "categories": Category.choices, "state": state, "category": category,
        "q": q, "query": query.urlencode(), "expiring": selectors.expiring_scoped(principal=principal).count()})


def _policy_form_page(request, principal, *, policy: Policy | None):
    initial = PolicyForm.initial_of(policy) if policy else {"valid_from": timezone.localdate()}
    form = PolicyForm(request.POST or None, initial=initial, principal=principal)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            if policy is None:
                policy = services.policy_create(actor=principal, data=form.data_for_service())
                messages.success(request, f"已创建草稿 {policy.code}")
            else:
                services.policy_update(actor=principal, policy_id=policy.pk, data=form.data_for_service())
                messages.success(request, "草稿已保存")
            return redirect("policies:staff-detail", pk=policy.pk)
        except DomainError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                error = exc.message
    return render(request, "policies/staff_form.html", {"form": form, "policy": policy, "error": error},
                  status=422 if (form.errors or error) else 200)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def staff_new(request):
    return _policy_form_page(request, _editor(request), policy=None)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def staff_edit(request, pk: int):
    principal = principal_of(request)
    policy = selectors.policy_get_scoped(principal=principal, pk=pk)
    if policy.state != State.DRAFT:
        messages.error(request, "只有草稿可以修改：已发布的政策请先“修订”，待审核的请先退回")
        return redirect("policies:staff-detail", pk=pk)
    return _policy_form_page(request, principal, policy=policy)


@login_required
@domain_errors
def staff_detail(request, pk: int):
    principal = principal_of(request)
    policy = selectors.policy_get_scoped(principal=principal, pk=pk)
    user = request.user
    return render(request, "policies/staff_detail.html", {
        "p": policy, "versions": selectors.policy_versions(policy=policy),
        "history": selectors.policy_history(policy=policy), "today": timezone.localdate(),
        "own_submission": policy.submitted_by_user_id == user.pk,
        "public": Policy.objects.filter(code=policy.code, state__in=[State.PUBLISHED, State.EXPIRED]).first()})


ACTIONS = {
    "submit": lambda a, pk, post: services.policy_submit(actor=a, policy_id=pk),
    "reject": lambda a, pk, post: services.policy_reject(actor=a, policy_id=pk, note=post.get("note", "")),
    "approve": lambda a, pk, post: services.policy_approve(actor=a, policy_id=pk, note=post.get("note", "")),
    "withdraw": lambda a, pk, post: services.policy_withdraw(actor=a, policy_id=pk, reason=post.get("reason", "")),
    "revise": lambda a, pk, post: services.policy_revise(actor=a, policy_id=pk),
}
DONE = {"submit": "已提交审核", "reject": "已退回修改", "approve": "已审核发布", "withdraw": "已撤回", "revise": "已创建修订稿"}


@login_required
@require_POST
@domain_errors
def staff_action(request, pk: int):
    principal = principal_of(request)
    policy = selectors.policy_get_scoped(principal=principal, pk=pk)
    action = request.POST.get("action", "")
    if action == "discard":
        services.policy_discard(actor=principal, policy_id=policy.pk)
        messages.success(request, "草稿已删除")
        return redirect("policies:staff")
    if action not in ACTIONS:
        raise Invalid("未知的操作", field="action")
    try:
        result = ACTIONS[action](principal, policy.pk, request.POST)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("policies:staff-detail", pk=policy.pk)
    messages.success(request, DONE[action])
    return redirect("policies:staff-detail", pk=result.pk)


@login_required
@require_POST
@domain_errors
def staff_attachments(request, pk: int):
    principal = principal_of(request)
    policy = selectors.policy_get_scoped(principal=principal, pk=pk)
    try:
        remove = request.POST.get("remove", "")
        if remove.isdigit():
            services.attachment_remove(actor=principal, policy_id=policy.pk, attachment_id=int(remove))
            messages.success(request, "附件已删除")
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise Invalid("请选择要上传的文件", field="file")
            services.attachment_add(actor=principal, policy_id=policy.pk,
                                    name=request.POST.get("name") or upload.name, data=upload.read())
            messages.success(request, "附件已上传")
    except DomainError as exc:
        if exc.status == 404 and not request.POST.get("remove"):
            raise
        messages.error(request, exc.message)
    return redirect("policies:staff-detail", pk=policy.pk)


@login_required
@domain_errors
def staff_expiring(request):
    principal = _editor(request)
    today = timezone.localdate()
    rows = list(selectors.expiring_scoped(principal=principal, today=today))
    for p in rows:
        p.days_left = (p.valid_until - today).days
    return render(request, "policies/staff_expiring.html", {"rows": rows, "today": today})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def staff_import(request):
    from . import xlsx

    principal = _editor(request)
    context = {"headers": xlsx.COLUMNS, "result": None, "errors": [], "message": ""}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise Invalid("请选择要导入的 xlsx 文件", field="file")
            # Refused by its size before it is read into memory (core.imports limits).
            check_size(upload.size, limits_for(xlsx.IMPORT_KIND))
            context["result"] = xlsx.import_policies(actor=principal, data=upload.read())
        except xlsx.ImportRefused as exc:
            context["errors"], context["message"], status = exc.errors, "导入未执行：表中有错误，整表退回，请改正后重新导入。", 422
        except DomainError as exc:
            context["message"], status = exc.message, exc.status
    return render(request, "policies/staff_import.html", context, status=status)


@login_required
@domain_errors
def staff_export(request):
    from bianmin.core.xlsx import book
    from bianmin.exports import conf as export_conf
    from bianmin.exports.services import export_job_create

    from . import exports, xlsx

    principal = _editor(request)
    if request.GET.get("template"):
        data = book("惠企政策", xlsx.HEADERS, [])
        return _xlsx(data, "惠企政策导入模板.xlsx")
    state = request.GET.get("state") if request.GET.get("state") in State.values else ""
    qs = exports.library_queryset(principal, state=state)
    if qs.count() > export_conf.direct_max_rows():
        job = export_job_create(actor=principal, kind="policies.library", params={"state": state})
        messages.success(request, "政策较多，已转为后台导出任务，完成后可在“我的导出”下载")
        return redirect(reverse("exports:list") + f"#job-{job.pk}")
    data = book("惠企政策", xlsx.EXPORT_HEADER, exports.library_rows(principal, state=state))
    from bianmin.core.audit import audit
    from bianmin.core.models import AuditEntry

    audit(actor=principal, action=AuditEntry.Action.EXPORT, target_type="policies.policy", label="惠企政策库导出",
          changes={"state": state})
    return _xlsx(data, f"惠企政策库_{dt.date.today():%Y%m%d}.xlsx")


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
@domain_errors
def staff_profiles(request):
    principal = _editor(request)
    profiles = Paginator(selectors.profiles_scoped(principal=principal), 30).get_page(_page_number(request))
    for p in profiles:
        p.masked_code = mask_credit_code(p.credit_code)
        p.subs = [(s, _masked_contact(s)) for s in p.subscriptions.all()]
    return render(request, "policies/staff_profiles.html", {"page": profiles})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def staff_profile(request, pk: int | None = None):
    # A profile's page is a record: out of scope is 404 (the record is not revealed), as for policies.
    principal = principal_of(request) if pk else _editor(request)
    profile = selectors.profile_get_scoped(principal=principal, pk=pk) if pk else None
    initial = {}
    if profile is not None:
        initial = {"credit_code": profile.credit_code, "name": profile.name, "industry": profile.industry,
                   "size": profile.size, "area": profile.area.code if profile.area_id else "",
                   "founded_on": profile.founded_on, "tags": "、".join(profile.tags)}
    form = ProfileForm(request.POST or None, initial=initial)
    pilot_warning = False
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.profile_save(actor=principal, data=form.profile_data(), profile_id=profile.pk if profile else None,
                                          pilot_override=request.POST.get("pilot_override") == "1")
            messages.success(request, "企业画像已保存" + ("（已确认早期试点代码）" if saved.pilot_code else ""))
            return redirect("policies:staff-profile", pk=saved.pk)
        except DomainError as exc:
            pilot_warning = exc.code == "credit_code_checksum"
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    matches = selectors.match_policies(profile=matching.Profile.of(profile)) if profile else None
    return render(request, "policies/staff_profile.html", {
        "form": form, "profile": profile, "matches": matches, "pilot_warning": pilot_warning},
        status=422 if form.errors else 200)


SIZE_LABELS = dict(Size.choices)
