import time

from django.conf import settings
from django.contrib.auth import logout


class InactivityTimeoutMiddleware:
    """Log staff out after BIANMIN_IDLE_TIMEOUT_MINUTES without a request (等保: 登录超时退出)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen")
            limit = settings.BIANMIN_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > limit:
                logout(request)
                request.session["timed_out"] = True
            # Save at most once a minute: a session write per request would serialize on SQLite.
            elif last is None or now - last >= 60:
                request.session["last_seen"] = now
        return self.get_response(request)
