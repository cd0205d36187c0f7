"""Password log-in with lockout (等保: 登录失败处理). Every way of logging in with a password —
the staff log-in page, the Django admin's — goes through `authenticate()`, hence through here."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password

from bianmin.core.audit import client_ip

from .models import User


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "") if request is not None else ""


class LockoutBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        from . import services

        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip, agent = client_ip(request), _user_agent(request)
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            # Hash anyway: the time taken must not tell whether the username exists.
            make_password(password)
            services.login_failed(username=username, user=None, ip=ip, user_agent=agent)
            return None
        if user.is_locked():
            make_password(password)  # same timing; a right password does not open a locked account
            services.login_failed(username=username, user=user, ip=ip, user_agent=agent)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user  # the counter is reset when the log-in completes (signals.py)
        services.login_failed(username=username, user=user, ip=ip, user_agent=agent)
        return None
