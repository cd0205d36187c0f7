"""Session security (等保): log-out after inactivity, and a forced password change when the
password has expired or was set by an administrator."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse


def now_seconds() -> int:
    """The clock of the inactivity time-out (tests move the session's last_seen instead of waiting)."""
    return int(time.time())


TIMED_OUT_MESSAGE = "由于长时间未操作，您已退出登录，请重新登录。"


class InactivityTimeoutMiddleware:
    """Log staff out after BIANMIN_IDLE_TIMEOUT_MINUTES without a request (等保: 登录超时退出)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = now_seconds()
            last = request.session.get("last_seen")
            limit = settings.BIANMIN_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > limit:
                request._bianmin_logout_reason = "timeout"
                logout(request)
                # The log-in page reads this once and says why the user is there.
                request.session["timed_out"] = True
            # Save at most once a minute: a session write per request would serialize on SQLite.
            elif last is None or now - last >= 60:
                request.session["last_seen"] = now
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """A user whose password has expired (BIANMIN_PASSWORD_MAX_AGE_DAYS) or was set by an
    administrator reaches only the password change page and the log-out until they change it.
    API calls with the session get a 403 in the API's error shape; API keys are not concerned."""

    ALLOWED_NAMES = ("accounts:password_change", "accounts:logout", "accounts:login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.password_expired():
            allowed = {reverse(name) for name in self.ALLOWED_NAMES}
            path = request.path_info
            if path not in allowed and not path.startswith(settings.STATIC_URL):
                if path.startswith("/api/"):
                    return JsonResponse(
                        {"code": "password_expired", "message": "密码已过期或为初始密码，请先登录网页修改密码", "field": None},
                        status=403, json_dumps_params={"ensure_ascii": False},
                    )
                return redirect(reverse("accounts:password_change"))
        return self.get_response(request)
