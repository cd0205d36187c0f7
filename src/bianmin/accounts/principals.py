"""Turning a request's user or API key into a Principal for the scope rule."""

from __future__ import annotations

from django.http import HttpRequest

from bianmin.core.audit import client_ip
from bianmin.core.capabilities import Cap
from bianmin.core.principal import ANONYMOUS, Grant, Principal

from .roles import CAPABILITIES

# What an API key's scope names grant, as capabilities at its area.
KEY_SCOPE_CAPABILITIES: dict[str, frozenset[str]] = {
    "cases.intake": frozenset({Cap.VIEW, Cap.CASE_INTAKE}),
    "evaluations.device": frozenset({Cap.EVALUATION_DEVICE}),
    "evaluations.kiosk": frozenset({Cap.EVALUATION_KIOSK}),
    "evaluations.provincial": frozenset({Cap.EVALUATION_PROVINCIAL}),
    "appeals.12345": frozenset({Cap.VIEW, Cap.APPEAL_INTAKE}),
    "open311": frozenset({Cap.APPEAL_OPEN311}),
    "policies.read": frozenset({Cap.POLICY_READ}),
    "kiosks.terminal": frozenset({Cap.KIOSK_DEVICE}),
}

# What each scope is called wherever a person reads it (the key pages and exports, the admin's
# choices): one table, next to what each scope grants, so a new scope comes with its name.
KEY_SCOPE_LABELS = {
    "cases.intake": "办件受理（外部系统推送办件）",
    "evaluations.device": "窗口评价器",
    "evaluations.kiosk": "自助终端评价",
    "evaluations.provincial": "省好差评系统对接",
    "appeals.12345": "12345 工单对接",
    "open311": "Open311 诉求接口",
    "policies.read": "惠企政策开放接口（读取、增量同步）",
    "kiosks.terminal": "自助终端（心跳、配置、证明、使用记录）",
}


# Scopes that stand for a connection to an outside system — the provincial 好差评 system, the 12345
# platform, Open311 clients, the provincial online hall's intake — rather than for a device of
# one site. A unit evaluated or complained about through such a connection must not hold a key
# that speaks for it: these scopes are granted only at the level that owns the connection
# (``BIANMIN_OUTSIDE_SYSTEM_KEY_LEVEL``, the city by default; accounts.services.apikey_create).
OUTSIDE_SYSTEM_SCOPES = frozenset({"cases.intake", "evaluations.provincial", "appeals.12345", "open311"})


def principal_for_user(user, *, ip: str | None = None) -> Principal:
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    grants = [Grant(a.area.path, CAPABILITIES.get(a.role, frozenset())) for a in user.active_assignments()]
    return Principal(label=user.username, grants=grants, user=user, ip=ip, display=str(user))


def principal_for_key(key, *, ip: str | None = None) -> Principal:
    caps: set[str] = set()
    for scope in key.scopes or []:
        caps |= KEY_SCOPE_CAPABILITIES.get(scope, frozenset())
    path = getattr(key, "scope_path", None) or (key.site.area.path if key.site_id else key.area.path)
    return Principal(label=f"key:{key.name}", grants=[Grant(path, frozenset(caps))], api_key=key, ip=ip,
                     display=key.name)


def principal_of(request: HttpRequest) -> Principal:
    """The principal of a request, computed once per request."""
    cached = getattr(request, "_bianmin_principal", None)
    if cached is not None:
        return cached
    key = getattr(request, "api_key", None)
    if key is not None:
        principal = principal_for_key(key, ip=client_ip(request))
    else:
        principal = principal_for_user(getattr(request, "user", None), ip=client_ip(request))
    request._bianmin_principal = principal
    return principal
