"""Password log-in with lockout (等保: 登录失败处理). Every way of logging in with a password —
the staff log-in page, the Django admin's — goes through `authenticate()`, hence through here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password

from bianmin.core import ratelimit
from bianmin.core.audit import client_ip

from .models import User


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "") if request is not None else ""


def _address_key(ip: str) -> str:
    return f"login-failed:{ip}"


def _window() -> int:
    return settings.BIANMIN_LOCKOUT_MINUTES * 60


class LockoutBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        from . import services

        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip, agent = client_ip(request), _user_agent(request)
        if ip and ratelimit.current(_address_key(ip), _window()) >= settings.BIANMIN_LOGIN_FAILURES_PER_ADDRESS:
            # Failed log-ins are limited per address too: past the limit an address is refused
            # without its attempts reaching any account, so nobody can lock every account by
            # name (nor try passwords on them) from one machine.
            make_password(password)
            services.login_failed(username=username, user=None, ip=ip, user_agent=agent, reason="address_limited")
            return None
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            # Hash anyway: the time taken must not tell whether the username exists.
            make_password(password)
            _count_failure(ip)
            services.login_failed(username=username, user=None, ip=ip, user_agent=agent)
            return None
        if user.is_locked():
            make_password(password)  # same timing; a right password does not open a locked account
            _count_failure(ip)
            services.login_failed(username=username, user=user, ip=ip, user_agent=agent)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user  # the counter is reset when the log-in completes (signals.py)
        _count_failure(ip)
        services.login_failed(username=username, user=user, ip=ip, user_agent=agent)
        return None


def _count_failure(ip: str | None) -> None:
    # Counted outside the failure's own transaction (core.ratelimit).
    if ip:
        ratelimit.count(_address_key(ip), _window())
