"""Every write about users, roles, keys and log-ins, each in one transaction with an audit row.

`actor` is the Principal acting (``principal_of(request)``) or None for the system itself
(management commands, demo data). Services check the actor's capabilities at the area concerned,
through the scope rule: an area outside the actor's assignments is "not found" (404)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound, full_clean
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal
from bianmin.core.scoping import require
from bianmin.core.text import clean
from bianmin.core.validators import validate_mobile
from bianmin.regions.models import Area, ServiceSite, Window

from .models import ApiKey, RoleAssignment, User
from .principals import KEY_SCOPE_CAPABILITIES, OUTSIDE_SYSTEM_SCOPES
from .roles import CAPABILITIES, Role
from .usernames import username_key

# Shown in every failed log-in, whatever the reason (unknown user, wrong password, locked
# account), so that the answer never tells whether a username exists.
LOGIN_FAILED_MESSAGE = "用户名或密码错误，或账号因连续登录失败已被暂时锁定。请核对后重试，或稍后再试。"


def _validation_message(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise Invalid(_validation_message(exc), field="password") from None


_full_clean = full_clean  # core.errors: validate, the first field's messages as a 422


def _require_somewhere(actor: Principal | None, capability: str) -> None:
    """For actions not bound to one area (creating a user): the actor needs the capability at
    some area. None is the system itself."""
    if actor is not None and not actor.area_paths_for(capability):
        raise Forbidden("您的角色无权执行此操作")


def _require_at(actor: Principal | None, capability: str, area: Area) -> None:
    if actor is not None:
        require(actor, capability, area)


# --- users --------------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: Principal | None,
    username: str,
    password: str,
    display_name: str = "",
    mobile: str = "",
    must_change_password: bool = True,
    is_demo: bool = False,
) -> User:
    """Create a staff user. The password set by an administrator is temporary: the user must
    change it at the first log-in (``must_change_password``)."""
    _require_somewhere(actor, Cap.USERS_MANAGE)
    username = (username or "").strip()
    if User.objects.filter(username=username).exists():
        raise Conflict("该用户名已被使用", field="username")
    if User.objects.filter(username_key=username_key(username)).exists():
        # "gudong_clеrk" (a Cyrillic е) or "Gudong_Clerk" beside "gudong_clerk": one account to a reader.
        raise Conflict("该用户名与已有用户名仅大小写或形近字母不同，请换一个", field="username")
    user = User(username=username, display_name=display_name.strip(), is_demo=is_demo)
    if mobile:
        try:
            user.mobile = validate_mobile(mobile)
        except ValidationError as exc:
            raise Invalid(_validation_message(exc), field="mobile") from None
    _full_clean(user, exclude=["password"])
    _check_password(password, user)
    user.set_password(password)
    user.must_change_password = must_change_password
    user.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=user,
          changes={"username": user.username, "display_name": user.display_name})
    return user


@transaction.atomic
def password_change(*, actor: Principal | None, user: User, old_password: str, new_password: str) -> User:
    """The user changes their own password (also when it has expired)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password or ""):
        raise Invalid("原密码不正确", field="old_password")
    if old_password == new_password:
        raise Invalid("新密码不能与原密码相同", field="new_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise Invalid(_validation_message(exc), field="new_password") from None
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    # Never the password itself, not even hashed.
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=user, changes={"password": "已修改"})
    return user


def _require_takeover(actor: Principal | None, user: User, what: str) -> None:
    """Resetting a password or clearing a lockout hands the account to whoever does it: the actor
    must see the user (USERS_MANAGE at one of its roles' areas, else 404) and manage the whole
    account — every active role inside the actor's scope and within what the actor holds there,
    and no Django-admin account (else 403). Otherwise a district admin could take over a city
    admin who also holds a role in one of the district's townships."""
    if actor is None:
        return
    from .selectors import user_fully_managed

    areas = [a.area for a in user.role_assignments.select_related("area")]
    if not any(actor.can(Cap.USERS_MANAGE, area) for area in areas):
        raise NotFound("未找到该记录")
    if not user_fully_managed(principal=actor, user=user):
        raise Forbidden(f"该账号拥有超出您管理范围的角色或权限（或为管理后台账号），不能由您{what}，请联系上级管理员。")


@transaction.atomic
def password_reset(*, actor: Principal | None, user: User, new_password: str) -> User:
    """An administrator sets a temporary password; the user must change it at the next log-in.
    The actor needs USERS_MANAGE at an area of one of the user's assignments."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require_takeover(actor, user, "重置其密码")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    user.save(update_fields=["password", "password_changed_at", "must_change_password", "failed_logins", "locked_until"])
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=user, changes={"password": "已重置"})
    return user


# --- role assignments ---------------------------------------------------------------------------


@transaction.atomic
def role_assign(*, actor: Principal | None, user: User, role: str, area: Area, site: ServiceSite | None = None) -> RoleAssignment:
    """Give `user` a role at `area`. The actor needs USERS_MANAGE there and may not hand out more
    than they hold there themselves (a district admin cannot make a city admin)."""
    if role not in Role.values:
        raise Invalid("角色不存在", field="role")
    _require_at(actor, Cap.USERS_MANAGE, area)
    if actor is not None:
        held = {c for g in actor.grants if area.path.startswith(g.path) for c in g.capabilities}
        if not CAPABILITIES[role] <= held:
            raise Forbidden("不能分配超出本人权限的角色")
    existing = RoleAssignment.objects.select_for_update().filter(user=user, role=role, area=area).first()
    if existing is not None and existing.active:
        raise Conflict("该用户在此区划已有此角色", field="role")
    assignment = existing or RoleAssignment(user=user, role=role, area=area)
    assignment.site = site
    assignment.active = True
    _full_clean(assignment, exclude=["user"] if existing is None else None)
    assignment.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE if existing is None else AuditEntry.Action.UPDATE,
          target=assignment, area_code=area.code,
          changes={"user": user.username, "role": role, "area": area.code, "site": site.code if site else None,
                   "active": True})
    return assignment


@transaction.atomic
def role_revoke(*, actor: Principal | None, assignment: RoleAssignment) -> RoleAssignment:
    assignment = RoleAssignment.objects.select_for_update().select_related("area", "user").get(pk=assignment.pk)
    _require_at(actor, Cap.USERS_MANAGE, assignment.area)
    if not assignment.active:
        raise Conflict("该角色分配已撤销")
    assignment.active = False
    assignment.save(update_fields=["active"])
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=assignment, area_code=assignment.area.code,
          changes={"user": assignment.user.username, "role": assignment.role, "active": False})
    return assignment


# --- API keys -----------------------------------------------------------------------------------

KEY_PREFIX = "bm"


def _new_raw_key() -> tuple[str, str]:
    """(prefix, raw key). The prefix identifies the key in lists and logs; the rest is a secret
    of 256 random bits, so a plain SHA-256 digest is enough to store it safely."""
    prefix = f"{KEY_PREFIX}_{secrets.token_hex(4)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


_LEVELS = [Area.Level.CITY, Area.Level.DISTRICT, Area.Level.TOWNSHIP, Area.Level.VILLAGE]


def outside_system_key_levels() -> list[str]:
    """The area levels whose key managers may grant an outside system's scopes: the configured
    owner of those connections (``BIANMIN_OUTSIDE_SYSTEM_KEY_LEVEL``, "city" by default) and
    the levels above it."""
    level = settings.BIANMIN_OUTSIDE_SYSTEM_KEY_LEVEL
    return _LEVELS[: _LEVELS.index(level) + 1] if level in _LEVELS else [Area.Level.CITY]


def may_grant_outside_system_scopes(actor: Principal | None, area: Area | None = None) -> bool:
    """Whether ``actor`` manages keys at a level that owns outside-system connections (over
    ``area`` when given). None is the system itself (a management command)."""
    if actor is None:
        return True
    paths = actor.area_paths_for(Cap.KEYS_MANAGE)
    owners = Area.objects.filter(path__in=paths, level__in=outside_system_key_levels()).values_list("path", flat=True)
    return any(area is None or area.path.startswith(path) for path in owners)


@transaction.atomic
def apikey_create(
    *,
    actor: Principal | None,
    name: str,
    kind: str,
    area: Area,
    site: ServiceSite | None = None,
    window: Window | None = None,
    scopes: list[str],
    system: str = "",
) -> tuple[ApiKey, str]:
    """Create a key bound to an area (and optionally a site and a window). Returns the key and the
    raw secret, which is shown to the creator once and never stored."""
    _require_at(actor, Cap.KEYS_MANAGE, area)
    scopes = list(dict.fromkeys(scopes or []))
    unknown = [s for s in scopes if s not in KEY_SCOPE_CAPABILITIES]
    if unknown:
        raise Invalid(f"未知的权限范围：{'、'.join(unknown)}", field="scopes")
    if not scopes:
        raise Invalid("至少选择一项权限范围", field="scopes")
    if kind not in ApiKey.Kind.values:
        raise Invalid("密钥类型无效", field="kind")
    prefix, raw = _new_raw_key()
    key = ApiKey(
        name=(name or "").strip(), kind=kind, prefix=prefix, digest=ApiKey.digest_of(raw), area=area, site=site,
        window=window, scopes=scopes, created_by=getattr(actor, "user", None) if actor else None,
        system=(system or "").strip().lower(),
    )
    _full_clean(key)
    outside = [s for s in scopes if s in OUTSIDE_SYSTEM_SCOPES]
    if outside and not may_grant_outside_system_scopes(actor, area):
        # A center manager holding a key "from the province" could evaluate its own cases, or
        # rewrite 12345 complaints about itself.
        owner = dict(Area.Level.choices).get(outside_system_key_levels()[-1], "市")
        raise Forbidden(f"外部系统接入权限（{'、'.join(outside)}）只能由{owner}级密钥管理员授予，不能由被评价、被投诉的单位自行创建",
                        field="scopes")
    key.save()
    audit(actor=actor, action=AuditEntry.Action.KEY, target=key, area_code=area.code,
          changes={"op": "create", "prefix": prefix, "kind": kind, "scopes": scopes, "system": key.system,
                   "site": site.code if site else None, "window": window.number if window else None})
    return key, raw


@transaction.atomic
def apikey_revoke(*, actor: Principal | None, key: ApiKey) -> ApiKey:
    key = ApiKey.objects.select_for_update().select_related("area").get(pk=key.pk)
    _require_at(actor, Cap.KEYS_MANAGE, key.area)
    if key.revoked_at is not None:
        raise Conflict("该密钥已吊销")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit(actor=actor, action=AuditEntry.Action.KEY, target=key, area_code=key.area.code,
          changes={"op": "revoke", "prefix": key.prefix})
    return key


# --- log-in ----------------------------------------------------------------------------------------


def _login_principal(label: str, user: User | None, ip: str | None) -> Principal:
    return Principal(label=label[:150], user=user, ip=ip)


def _unknown_name_audited(ip: str | None) -> bool:
    """Rows about no account (an unknown name, an address past its limit) are limited per address
    (BIANMIN_LOGIN_UNKNOWN_AUDIT_PER_ADDRESS a lockout window): a script trying names must not
    flood the audit log. Rows about a real account are always written."""
    from bianmin.core import ratelimit

    return ratelimit.hit(f"login-audit:{ip or '-'}", settings.BIANMIN_LOGIN_UNKNOWN_AUDIT_PER_ADDRESS,
                         settings.BIANMIN_LOCKOUT_MINUTES * 60)


@transaction.atomic
def login_failed(*, username: str, user: User | None, ip: str | None, user_agent: str = "",
                 reason: str = "unknown_user") -> User | None:
    """Count a failed log-in. After BIANMIN_LOCKOUT_ATTEMPTS consecutive failures the account is
    locked for BIANMIN_LOCKOUT_MINUTES. The row is locked while counting, so two servers counting
    at once cannot both read 4 and write 5 (on SQLite the IMMEDIATE transaction does the same)."""
    if user is None and not _unknown_name_audited(ip):
        return None
    if user is not None:
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        if user.locked_until is not None and user.locked_until > now:
            reason = "locked"  # attempts during a lock neither count nor extend it
        else:
            if user.locked_until is not None:  # an expired lock: count afresh
                user.failed_logins = 0
                user.locked_until = None
            user.failed_logins += 1
            reason = "wrong_password"
            if user.failed_logins >= settings.BIANMIN_LOCKOUT_ATTEMPTS:
                user.locked_until = now + timedelta(minutes=settings.BIANMIN_LOCKOUT_MINUTES)
                reason = "locked_now"
            user.save(update_fields=["failed_logins", "locked_until"])
    changes: dict[str, Any] = {"reason": reason, "username": clean(username)[:150]}
    if user is not None:
        changes["failed_logins"] = user.failed_logins
    audit(actor=_login_principal(clean(username or ""), None, ip), action=AuditEntry.Action.LOGIN_FAILED,
          target=user, changes=changes, user_agent=user_agent)
    return user


@transaction.atomic
def login_succeeded(*, user: User, ip: str | None, user_agent: str = "") -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    user.failed_logins, user.locked_until = 0, None
    audit(actor=_login_principal(user.username, user, ip), action=AuditEntry.Action.LOGIN, target=user,
          user_agent=user_agent)


def logged_out(*, user: User | None, ip: str | None, reason: str = "user", user_agent: str = "") -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        return
    audit(actor=_login_principal(user.username, user, ip), action=AuditEntry.Action.LOGOUT, target=user,
          changes={"reason": reason}, user_agent=user_agent)


@transaction.atomic
def lockout_clear(*, actor: Principal | None, user: User) -> User:
    """An administrator unlocks an account before the lock runs out (same rule as password_reset)."""
    _require_takeover(actor, user, "解除其锁定")
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    user.refresh_from_db(fields=["failed_logins", "locked_until"])
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=user, changes={"unlocked": True})
    return user


# --- the audit log itself ----------------------------------------------------------------------------


@transaction.atomic
def audit_exported(*, actor: Principal, filters: Any, fmt: str) -> AuditEntry:
    """Record that the audit log was exported, with the filters used."""
    from dataclasses import asdict

    criteria = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(filters).items() if v}
    return audit(actor=actor, action=AuditEntry.Action.EXPORT, target_type="core.auditentry",
                 label="审计日志导出", changes={"format": fmt, "filters": criteria})


@transaction.atomic
def staff_list_exported(*, actor: Principal, what: str, filters: Any, rows: int, area_code: str = "") -> AuditEntry:
    """Record that the account list (``what="users"``) or the API key list (``"keys"``) left the
    system as a file: who, with which filters, how many rows."""
    from dataclasses import asdict

    labels = {"users": ("accounts.user", "账号列表导出"), "keys": ("accounts.apikey", "接口密钥列表导出")}
    if what not in labels:
        raise Invalid("未知的导出内容", field="what")
    target_type, label = labels[what]

    def plain(value):
        if isinstance(value, Area):
            return value.code
        if isinstance(value, ServiceSite):
            return value.code
        return value.isoformat() if hasattr(value, "isoformat") else value

    criteria = {k: plain(v) for k, v in asdict(filters).items() if v}
    return audit(actor=actor, action=AuditEntry.Action.EXPORT, target_type=target_type, label=label,
                 area_code=area_code, changes={"format": "xlsx", "filters": criteria, "rows": rows})


# --- unmasking personal data ------------------------------------------------------------------------


def _area_of(record: Model, area_field: str) -> Area:
    obj: Any = record
    for part in area_field.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if not isinstance(obj, Area):
        raise NotFound("未找到该记录")
    return obj


@transaction.atomic
def unmask(
    *,
    actor: Principal,
    record: Model,
    field: str,
    area: Area | None = None,
    area_field: str = "area",
    value: str | None = None,
    reason: str = "",
) -> str:
    """Return the full, unmasked value of a personal-data field of `record`, after checking that
    the actor holds Cap.UNMASK at the record's area, and write an UNMASK audit row (who, when,
    which record and field, from which address). Out of scope → NotFound; in scope without the
    capability → Forbidden.

    `area` is the record's area, or it is reached through `area_field` ("site__area"…).
    `value` defaults to ``getattr(record, field)``; pass it when the field is derived."""
    if actor is None or actor.is_anonymous:
        raise NotFound("未找到该记录")
    area = area or _area_of(record, area_field)
    require(actor, Cap.UNMASK, area)
    if value is None:
        value = getattr(record, field)
    audit(actor=actor, action=AuditEntry.Action.UNMASK, target=record, area_code=area.code,
          changes={"field": field, **({"reason": reason[:200]} if reason else {})})
    return "" if value is None else str(value)
