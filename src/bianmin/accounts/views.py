"""Pages of accounts: log-in, password change, the audit log search (city admins), and the
scoped staff pages where district admins and center managers manage the accounts and API keys of
their own areas (账号管理, 接口密钥管理). Thin: scoped selectors read, the services write (and
audit); a secret (a key, a temporary password) is shown once, from the session, then forgotten."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.core.audit import actor_shown, change_items, changes_shown, target_type_shown
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, Forbidden, Invalid, NotFound
from bianmin.core.masking import mask_mobile
from bianmin.core.models import AuditEntry
from bianmin.core.scoping import home_area_code

from . import selectors, services
from .forms import (
    AuditSearchForm,
    KeyIssueForm,
    KeySearchForm,
    LoginForm,
    PasswordChangeForm,
    RoleAssignForm,
    UserCreateForm,
    UserSearchForm,
)
from .middleware import TIMED_OUT_MESSAGE
from .principals import KEY_SCOPE_LABELS, principal_of

AUDIT_PAGE_SIZE = 50
EXPORT_HEADER = ["时间", "操作人", "操作", "对象类型", "对象标识", "对象", "区划代码", "来源地址", "客户端", "内容"]


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Set by the inactivity middleware on the new, anonymous session; shown once.
        if self.request.session.pop("timed_out", False):
            context["notice"] = TIMED_OUT_MESSAGE
        return context


@login_required
def password_change(request):
    user = request.user
    expired = user.password_expired()
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=principal_of(request), user=user, old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except Invalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            user.refresh_from_db()
            update_session_auth_hash(request, user)  # stay logged in with the new password
            messages.success(request, "密码已修改")
            return redirect("staff-home")
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/password_change.html", {"form": form, "expired": expired}, status=status)


def _audit_query(request):
    """The principal and the filtered rows, or PermissionDenied for users without Cap.AUDIT_VIEW."""
    principal = principal_of(request)
    form = AuditSearchForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    filters = form.filters() if request.GET and valid else selectors.AuditFilters()
    try:
        qs = selectors.audit_entries(principal=principal, filters=filters)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    return principal, form, valid, filters, qs


@login_required
def audit_list(request):
    principal, form, valid, filters, qs = _audit_query(request)
    if not valid:
        qs = qs.none()
    page = Paginator(qs.select_related("actor"), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # Labelled Chinese fields (core.audit): the person's name, the object's kind, field names and
    # choice labels; the identifiers stay in the row and its export (issue 22.9).
    rows = [{"e": e, "actor": actor_shown(e), "type": target_type_shown(e.target_type), "changes": change_items(e)}
            for e in page]
    return render(request, "accounts/audit_list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "target_types": selectors.audit_target_types(),
    }, status=200 if valid else 422)


def _row(entry: AuditEntry) -> list[str]:
    return [
        timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), actor_shown(entry), entry.get_action_display(),
        target_type_shown(entry.target_type), entry.target_id, entry.target_label, entry.area_code, entry.ip or "",
        entry.user_agent, changes_shown(entry),
    ]


@login_required
def audit_export(request, fmt: str):
    from bianmin.core import xlsx

    principal, form, valid, filters, qs = _audit_query(request)
    if not valid:
        return HttpResponseBadRequest("查询条件有误".encode())
    # Reading the audit log in bulk is itself recorded.
    services.audit_exported(actor=principal, filters=filters, fmt=fmt)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    rows = (_row(entry) for entry in qs.select_related("actor").iterator(chunk_size=2000))
    if fmt == "csv":
        response = StreamingHttpResponse(xlsx.csv_lines(EXPORT_HEADER, rows), content_type="text/csv; charset=utf-8")
        # RFC 6266 filename*: browsers keep the Chinese name (an ASCII fallback for the rest).
        response["Content-Disposition"] = content_disposition_header(True, f"审计日志-{stamp}.csv")
        return response
    # Spooled to disk past a few MB, then streamed: the log may hold millions of rows.
    return FileResponse(xlsx.spooled([xlsx.Sheet("审计日志", EXPORT_HEADER, rows)]), as_attachment=True,
                        filename=f"审计日志-{stamp}.xlsx", content_type=xlsx.XLSX_CONTENT_TYPE)


# --- 账号管理: users holding roles in the caller's scope ---------------------------------------------------

PAGE_SIZE = 30
# Session keys of the secrets shown once: popped by the page that shows them.
_TEMP_PASSWORD = "staffui-temp-password-{}"
_RAW_KEY = "staffui-raw-key-{}"


def _no_store(response):
    """Pages that carry (or carried) a secret: no copy in the browser's or a proxy's cache."""
    response["Cache-Control"] = "no-store"
    return response


def _querystring(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# The list a page was opened from (filters and page), so that its back link returns there.
_LIST_QUERY = "staffui-list-{}"


def _remember_list(request, which: str) -> None:
    key, value = _LIST_QUERY.format(which), request.GET.urlencode()
    if request.session.get(key, "") != value:
        request.session[key] = value


def _back_to_list(request, which: str) -> str:
    url = reverse(f"accounts:{which}")
    query = request.session.get(_LIST_QUERY.format(which), "")
    return f"{url}?{query}" if query else url


def _search_params(request):
    """The list filters of the query string (the page number is not a filter)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query


# A district's accounts or keys are hundreds; a file past this many rows is a mistake in the filters.
EXPORT_LIMIT = 5000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _single_area_code(principal, capability: str) -> str:
    """The area an export is filed under in the audit log: the caller's one managed area (the
    widest, when they hold several)."""
    return home_area_code(principal, capability)


def _xlsx_download(sheet: str, header: list[str], rows, name: str):
    from urllib.parse import quote

    from bianmin.core.xlsx import book

    response = HttpResponse(book(sheet, header, rows), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{name}_{stamp}.xlsx')}"
    return _no_store(response)


def _too_many(request, page, form, qs, limit: int):
    """The list again (422: no file for these filters), saying why."""
    messages.error(request, f"符合条件的记录超过 {limit} 条，请先缩小查询范围再导出。")
    response = page(request, form, True, qs)
    response.status_code = 422
    return response


def _temporary_password() -> str:
    """A temporary password meeting the 等保 rules (10+ characters, upper, lower, digits, a
    symbol), without look-alike characters since it is read out or copied by hand."""
    upper, lower, digits = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789"
    chars = [secrets.choice(upper), secrets.choice(lower), secrets.choice(digits), secrets.choice("-_#@")]
    chars += [secrets.choice(upper + lower + digits) for _ in range(10)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _users_principal(request):
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.USERS_MANAGE):
        raise PermissionDenied("您的角色无权管理账号")
    return principal


def _users_query(request):
    """The principal, the search form, whether it is valid, the filters and the scoped users."""
    principal = _users_principal(request)
    form = UserSearchForm(_search_params(request) or None, principal=principal)
    valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and valid else selectors.UserFilters()
    qs = selectors.users_managed(principal=principal, filters=filters)
    if not valid:
        qs = qs.none()
    return principal, form, valid, filters, qs


def _users_page(request, form, valid, qs):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"user": u, "mobile": mask_mobile(u.mobile), "locked": u.is_locked(),
             "roles": [a for a in u.scoped_assignments if a.active]} for u in page.object_list]
    return render(request, "accounts/users_list.html", {
        "form": form, "page": page, "rows": rows, "query": _querystring(request), "filtered": form.is_bound,
    }, status=200 if valid else 422)


@login_required
def users_list(request):
    _principal, form, valid, _filters, qs = _users_query(request)
    _remember_list(request, "users")
    return _users_page(request, form, valid, qs)


USERS_EXPORT_HEADER = ["用户名", "姓名", "手机号码", "本辖区内的角色", "状态", "待修改初始密码", "最近登录", "密码修改时间",
                       "创建时间"]


def _users_export_rows(users) -> Iterator[list]:
    for u in users:
        roles = "；".join(f"{a.get_role_display()}·{a.area.name}" + (f"·{a.site.name}" if a.site_id else "")
                         for a in u.scoped_assignments if a.active)
        status = "已停用" if not u.is_active else "已锁定" if u.is_locked() else "正常"
        yield [u.username, u.display_name, mask_mobile(u.mobile), roles or "无有效角色（已撤销）", status,
               "是" if u.must_change_password else "否", _when(u.last_login) or "从未登录", _when(u.password_changed_at),
               _when(u.date_joined)]


@login_required
def users_export(request):
    """The account list as xlsx, with the list's filters: rows in the caller's scope only, phone
    numbers masked, no password material; the export itself is audited."""
    principal, form, valid, filters, qs = _users_query(request)
    if not valid:
        return _users_page(request, form, valid, qs)
    users = list(qs[:EXPORT_LIMIT + 1])
    if len(users) > EXPORT_LIMIT:
        return _too_many(request, _users_page, form, qs, EXPORT_LIMIT)
    area = filters.area.code if filters.area else _single_area_code(principal, Cap.USERS_MANAGE)
    services.staff_list_exported(actor=principal, what="users", filters=filters, rows=len(users), area_code=area)
    return _xlsx_download("账号列表", USERS_EXPORT_HEADER, _users_export_rows(users), "账号列表")


@login_required
@require_http_methods(["GET", "POST"])
def user_new(request):
    """A user and their first role, in one transaction: a refused role leaves no user behind."""
    principal = _users_principal(request)
    form = UserCreateForm(request.POST or None, principal=principal)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            d = form.cleaned_data
            password = d["password"] or _temporary_password()
            try:
                with transaction.atomic():
                    user = services.user_create(actor=principal, username=d["username"], password=password,
                                                display_name=d["display_name"], mobile=d["mobile"])
                    services.role_assign(actor=principal, user=user, role=d["role"], area=d["area"], site=d["site"])
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status
            else:
                if not d["password"]:
                    request.session[_TEMP_PASSWORD.format(user.pk)] = password
                messages.success(request, f"已创建账号 {user.username}，并分配角色。")
                return redirect("accounts:user_detail", user_id=user.pk)
    return render(request, "accounts/user_new.html", {"form": form}, status=status)


def _user_page(request, principal, user, *, assign_form=None, error=None, status=200):
    temp_password = request.session.pop(_TEMP_PASSWORD.format(user.pk), None)
    response = render(request, "accounts/user_detail.html", {
        "subject": user, "mobile": mask_mobile(user.mobile), "locked": user.is_locked(),
        "assignments": user.scoped_assignments,
        "assign_form": assign_form or RoleAssignForm(principal=principal),
        "takeover": selectors.user_fully_managed(principal=principal, user=user),
        "temp_password": temp_password, "error": error, "back": _back_to_list(request, "users"),
    }, status=status)
    return _no_store(response)


def _managed_user(principal, user_id: int):
    try:
        return selectors.user_managed(principal=principal, user_id=user_id)
    except NotFound:
        raise Http404 from None


@login_required
def user_detail(request, user_id: int):
    principal = principal_of(request)
    return _user_page(request, principal, _managed_user(principal, user_id))


@login_required
@require_POST
def user_role_assign(request, user_id: int):
    principal = principal_of(request)
    user = _managed_user(principal, user_id)
    form = RoleAssignForm(request.POST, principal=principal)
    if not form.is_valid():
        return _user_page(request, principal, user, assign_form=form, status=422)
    d = form.cleaned_data
    try:
        services.role_assign(actor=principal, user=user, role=d["role"], area=d["area"], site=d["site"])
    except DomainError as exc:
        _form_error(form, exc)
        return _user_page(request, principal, user, assign_form=form, status=exc.status)
    messages.success(request, "已分配角色。")
    return redirect("accounts:user_detail", user_id=user.pk)


@login_required
@require_http_methods(["GET", "POST"])
def user_role_revoke(request, user_id: int, assignment_id: int):
    """GET asks for confirmation, naming the user, the role and its area; POST revokes."""
    principal = principal_of(request)
    user = _managed_user(principal, user_id)
    try:
        assignment = selectors.assignment_managed(principal=principal, user=user, assignment_id=assignment_id)
    except NotFound:
        raise Http404 from None
    error, status = None, 200
    if request.method == "POST":
        try:
            services.role_revoke(actor=principal, assignment=assignment)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, f"已撤销 {user.username} 的角色：{assignment.get_role_display()}（{assignment.area.name}）。")
            return redirect("accounts:user_detail", user_id=user.pk)
    return render(request, "accounts/role_revoke.html", {
        "subject": user, "a": assignment, "error": error,
        # What the user keeps in the caller's scope after this one goes.
        "others": [a for a in user.scoped_assignments if a.active and a.pk != assignment.pk],
    }, status=status)


@login_required
@require_POST
def user_password_reset(request, user_id: int):
    principal = principal_of(request)
    user = _managed_user(principal, user_id)
    password = _temporary_password()
    try:
        services.password_reset(actor=principal, user=user, new_password=password)
    except DomainError as exc:
        return _user_page(request, principal, user, error=exc.message, status=exc.status)
    request.session[_TEMP_PASSWORD.format(user.pk)] = password
    messages.success(request, "密码已重置，账号锁定（如有）已一并解除。")
    return redirect("accounts:user_detail", user_id=user.pk)


@login_required
@require_POST
def user_unlock(request, user_id: int):
    principal = principal_of(request)
    user = _managed_user(principal, user_id)
    try:
        services.lockout_clear(actor=principal, user=user)
    except DomainError as exc:
        return _user_page(request, principal, user, error=exc.message, status=exc.status)
    messages.success(request, "已解除锁定。")
    return redirect("accounts:user_detail", user_id=user.pk)


# --- 接口密钥管理: keys of devices and systems in the caller's scope -----------------------------------------


def _keys_principal(request):
    principal = principal_of(request)
    if not principal.area_paths_for(Cap.KEYS_MANAGE):
        raise PermissionDenied("您的角色无权管理接口密钥")
    return principal


def _key_row(key) -> dict:
    return {"key": key, "kind": selectors.KEY_KIND_LABELS[selectors.key_kind(key)],
            "scopes": [KEY_SCOPE_LABELS.get(s, s) for s in key.scopes or []]}


def _keys_query(request):
    principal = _keys_principal(request)
    form = KeySearchForm(_search_params(request) or None, principal=principal)
    valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and valid else selectors.KeyFilters()
    qs = selectors.apikeys_managed(principal=principal, filters=filters)
    if not valid:
        qs = qs.none()
    return principal, form, valid, filters, qs


def _keys_page(request, form, valid, qs):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/keys_list.html", {
        "form": form, "page": page, "rows": [_key_row(k) for k in page.object_list], "query": _querystring(request),
        "filtered": form.is_bound,
    }, status=200 if valid else 422)


@login_required
def keys_list(request):
    _principal, form, valid, _filters, qs = _keys_query(request)
    _remember_list(request, "keys")
    return _keys_page(request, form, valid, qs)


KEYS_EXPORT_HEADER = ["名称", "前缀", "类型", "权限范围", "授权区划", "区划代码", "场所", "绑定窗口", "签发时间", "签发人",
                      "最近使用", "状态", "吊销时间"]


def _keys_export_rows(keys) -> Iterator[list]:
    """Never the secret nor its digest: the prefix is what identifies a key."""
    for key in keys:
        row = _key_row(key)
        yield [key.name, f"{key.prefix}…", row["kind"], "、".join(row["scopes"]), key.area.name, key.area.code,
               key.site.name if key.site_id else "", f"{key.window.number}号窗口" if key.window_id else "",
               _when(key.created_at), str(key.created_by) if key.created_by_id else "", _when(key.last_used_at) or "从未使用",
               "已吊销" if key.revoked_at else "有效", _when(key.revoked_at)]


@login_required
def keys_export(request):
    """The key list as xlsx, with the list's filters, in the caller's scope; audited."""
    principal, form, valid, filters, qs = _keys_query(request)
    if not valid:
        return _keys_page(request, form, valid, qs)
    keys = list(qs[:EXPORT_LIMIT + 1])
    if len(keys) > EXPORT_LIMIT:
        return _too_many(request, _keys_page, form, qs, EXPORT_LIMIT)
    area = filters.site.area.code if filters.site else _single_area_code(principal, Cap.KEYS_MANAGE)
    services.staff_list_exported(actor=principal, what="keys", filters=filters, rows=len(keys), area_code=area)
    return _xlsx_download("接口密钥", KEYS_EXPORT_HEADER, _keys_export_rows(keys), "接口密钥列表")


@login_required
@require_http_methods(["GET", "POST"])
def key_new(request):
    principal = _keys_principal(request)
    kind = request.POST.get("kind") or request.GET.get("kind") or "evaluator"
    if kind not in selectors.KEY_KIND_LABELS:
        kind = "evaluator"
    form = KeyIssueForm(request.POST or None, principal=principal, kind=kind)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                key, raw = services.apikey_create(actor=principal, name=form.cleaned_data["name"],
                                                  **form.service_arguments())
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status
            else:
                request.session[_RAW_KEY.format(key.pk)] = raw
                return redirect("accounts:key_issued", key_id=key.pk)
    return render(request, "accounts/key_new.html", {
        "form": form, "kind": kind, "kinds": selectors.KEY_KIND_CHOICES,
    }, status=status)


def _managed_key(principal, key_id: int):
    try:
        return selectors.apikey_managed(principal=principal, key_id=key_id)
    except NotFound:
        raise Http404 from None


@login_required
def key_issued(request, key_id: int):
    """The raw key, once: it leaves the session as it is shown; the next view says it is gone."""
    key = _managed_key(principal_of(request), key_id)
    raw = request.session.pop(_RAW_KEY.format(key.pk), None)
    return _no_store(render(request, "accounts/key_issued.html", {"row": _key_row(key), "raw": raw}))


@login_required
def key_detail(request, key_id: int):
    key = _managed_key(principal_of(request), key_id)
    return render(request, "accounts/key_detail.html", {"row": _key_row(key), "back": _back_to_list(request, "keys")})


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request, key_id: int):
    """GET asks for confirmation; POST revokes."""
    principal = principal_of(request)
    key = _managed_key(principal, key_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            services.apikey_revoke(actor=principal, key=key)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, f"已吊销密钥 {key.name}（{key.prefix}…），使用它的设备或系统将无法再调用接口。")
            return redirect("accounts:key_detail", key_id=key.pk)
    return render(request, "accounts/key_revoke.html", {"row": _key_row(key), "error": error}, status=status)
