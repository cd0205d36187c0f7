from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from bianmin.accounts.menu import menu_for
from bianmin.accounts.principals import principal_of
from bianmin.accounts.roles import CAPABILITIES


def public_home(request):
    # The finder belongs to regions (areas and sites); this module only routes to it.
    from bianmin.regions.views import public_home as finder

    return finder(request)


@login_required
def staff_home(request):
    assignments = request.user.active_assignments()
    principal = principal_of(request)
    return render(request, "staff_home.html", {
        "assignments": assignments,
        "menu": menu_for(principal, request.user),
        "has_capabilities": any(CAPABILITIES.get(a.role) for a in assignments),
    })


# --- error answers: the API's error shape under /api/, the Chinese pages elsewhere ------------------

_API_ERRORS = {
    400: ("bad_request", "请求有误，无法处理"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "接口地址不存在"),
    500: ("server_error", "系统繁忙，请稍后重试"),
}


def _api_error(request, status: int):
    """Django's own error answers (no route matched, a multipart body it could not parse, an
    unhandled error) for an API address, in the API's shape instead of an HTML page."""
    if not request.path_info.startswith("/api/"):
        return None
    from bianmin.api import error_response

    code, message = _API_ERRORS[status]
    return error_response(request, status, code, message)


def bad_request(request, exception):
    from django.views import defaults

    return _api_error(request, 400) or defaults.bad_request(request, exception)


def permission_denied(request, exception):
    from django.views import defaults

    return _api_error(request, 403) or defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    from django.views import defaults

    return _api_error(request, 404) or defaults.page_not_found(request, exception)


def server_error(request):
    from django.views import defaults

    return _api_error(request, 500) or defaults.server_error(request)
