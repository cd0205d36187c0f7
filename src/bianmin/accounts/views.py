"""Pages of accounts: log-in, password change, the audit log search (city admins)."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from bianmin.core.errors import Forbidden, Invalid
from bianmin.core.models import AuditEntry

from . import selectors, services
from .forms import AuditSearchForm, LoginForm, PasswordChangeForm
from .middleware import TIMED_OUT_MESSAGE
from .principals import principal_of

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
    page = Paginator(qs, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/audit_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "target_types": selectors.audit_target_types(),
    }, status=200 if valid else 422)


def _row(entry: AuditEntry) -> list[str]:
    return [
        timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), entry.actor_label, entry.get_action_display(),
        entry.target_type, entry.target_id, entry.target_label, entry.area_code, entry.ip or "", entry.user_agent,
        json.dumps(entry.changes, ensure_ascii=False) if entry.changes else "",
    ]


class _Echo:
    def write(self, value):
        return value


def _csv_lines(qs) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that Excel opens the UTF-8 file as Chinese
    yield writer.writerow(EXPORT_HEADER)
    for entry in qs.iterator(chunk_size=2000):
        yield writer.writerow(_row(entry))


@login_required
def audit_export(request, fmt: str):
    principal, form, valid, filters, qs = _audit_query(request)
    if not valid:
        return HttpResponseBadRequest("查询条件有误".encode())
    # Reading the audit log in bulk is itself recorded.
    services.audit_exported(actor=principal, filters=filters, fmt=fmt)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(qs), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
    from openpyxl import Workbook

    # write_only keeps memory flat; the file is spooled to disk past a few MB and then streamed.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    sheet.append(EXPORT_HEADER)
    for entry in qs.iterator(chunk_size=2000):
        sheet.append(_row(entry))
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"audit-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
