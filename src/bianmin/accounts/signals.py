"""Audit of log-ins and log-outs, whatever the page (staff log-in, admin, inactivity time-out)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from bianmin.core.audit import client_ip

from . import services
from .backends import _user_agent


@receiver(user_logged_in, dispatch_uid="bianmin.accounts.login")
def on_logged_in(sender, request, user, **kwargs):
    services.login_succeeded(user=user, ip=client_ip(request), user_agent=_user_agent(request))
    if request is not None and hasattr(request, "session"):
        # The inactivity clock starts at the log-in.
        from .middleware import now_seconds

        request.session["last_seen"] = now_seconds()


@receiver(user_logged_out, dispatch_uid="bianmin.accounts.logout")
def on_logged_out(sender, request, user, **kwargs):
    reason = getattr(request, "_bianmin_logout_reason", "user") if request is not None else "user"
    services.logged_out(user=user, ip=client_ip(request), reason=reason, user_agent=_user_agent(request))
