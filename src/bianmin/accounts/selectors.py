"""Reads for accounts: the audit log search, roles and areas of a principal, and the users and
API keys a local administrator manages (账号管理, 接口密钥管理), each already scoped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Forbidden, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal
from bianmin.core.scoping import areas_in_scope, get_scoped, scoped
from bianmin.regions.models import Area, ServiceSite, Window

from .models import ApiKey, RoleAssignment, User
from .roles import CAPABILITIES, Role


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    area_code: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(*, principal: Principal, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Audit rows the principal may read (Cap.AUDIT_VIEW), filtered. A holder at a top-level
    area (the city) sees every row, including those tied to no area (log-ins, keys of the city);
    a holder lower down sees the rows of their subtree."""
    paths = principal.area_paths_for(Cap.AUDIT_VIEW)
    if not paths:
        raise Forbidden("您的角色无权查看审计日志")
    qs = AuditEntry.objects.select_related("actor")
    top_paths = {a.path for a in Area.objects.filter(parent__isnull=True).only("path")}
    if not any(p in top_paths for p in paths):
        qs = qs.filter(area_code__in=areas_in_scope(Area.objects.all(), principal, Cap.AUDIT_VIEW).values("code"))
    f = filters
    if f.actor.strip():
        qs = qs.filter(actor_label__icontains=f.actor.strip())
    if f.action:
        qs = qs.filter(action=f.action)
    if f.target_type.strip():
        qs = qs.filter(target_type=f.target_type.strip())
    if f.target_id.strip():
        qs = qs.filter(target_id=f.target_id.strip())
    if f.area_code.strip():
        code = f.area_code.strip()
        area = Area.objects.filter(code=code.ljust(12, "0") if code.isdigit() and len(code) in (6, 9) else code).first()
        if area is None:
            qs = qs.none()
        else:
            qs = qs.filter(area_code__in=Area.objects.filter(path__startswith=area.path).values("code"))
    if f.date_from:
        qs = qs.filter(at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(at__lt=_day_start(f.date_to + timedelta(days=1)))
    return qs.order_by("-at", "-id")


def audit_target_types() -> list[str]:
    return list(AuditEntry.objects.order_by().values_list("target_type", flat=True).distinct()[:200])


def area_in_scope(*, principal: Principal, code: str) -> Area:
    """An area the principal holds some assignment at or above; otherwise 'not found'."""
    from bianmin.regions.selectors import normalize_area_code

    area = Area.objects.filter(code=normalize_area_code(code)).first()
    if area is None or not principal.sees_area(area):
        raise NotFound("未找到该记录")
    return area


def site_in_scope(*, principal: Principal, code: str) -> ServiceSite:
    site = ServiceSite.objects.select_related("area").filter(code=code).first()
    if site is None or not principal.sees_area(site.area):
        raise NotFound("未找到该记录")
    return site


def capabilities_at(*, principal: Principal, area: Area) -> list[str]:
    return sorted({c for g in principal.grants if area.path.startswith(g.path) for c in g.capabilities})


# --- what a local administrator manages: areas, sites and windows in scope ----------------------------

# A select of more areas than this (a city admin: every village of the city) is unusable; above
# it the village level is left out of the choices (villages are reached through the Django admin).
AREA_CHOICES_LIMIT = 300


def areas_for(*, principal: Principal, capability: str) -> QuerySet[Area]:
    """The areas where the principal holds `capability` (their assignments' areas and below), in
    tree order. Areas have no area field to hand to scoped(): their own path is the subtree."""
    return areas_in_scope(Area.objects.all(), principal, capability).order_by("path")


def area_choices(*, principal: Principal, capability: str) -> QuerySet[Area]:
    qs = areas_for(principal=principal, capability=capability)
    if qs.count() > AREA_CHOICES_LIMIT:
        qs = qs.exclude(level=Area.Level.VILLAGE)
    return qs


def sites_for(*, principal: Principal, capability: str) -> QuerySet[ServiceSite]:
    return scoped(ServiceSite.objects.filter(active=True).select_related("area"), principal, capability).order_by(
        "area__path", "code")


def windows_for(*, principal: Principal, capability: str) -> QuerySet[Window]:
    qs = Window.objects.filter(active=True, site__active=True).select_related("site", "site__area")
    return scoped(qs, principal, capability, area_field="site__area").order_by("site__area__path", "site__code", "number")


def _held_at_path(principal: Principal, path: str) -> set[str]:
    return {c for g in principal.grants if path.startswith(g.path) for c in g.capabilities}


def grantable_roles(*, principal: Principal) -> list[tuple[str, str]]:
    """Roles the principal may hand out somewhere in their scope: the same test as role_assign
    (no more than they hold there), so the form offers only what the service will accept."""
    paths = principal.area_paths_for(Cap.USERS_MANAGE)
    return [(value, label) for value, label in Role.choices
            if any(CAPABILITIES[value] <= _held_at_path(principal, p) for p in paths)]


# --- users ----------------------------------------------------------------------------------------------


@dataclass
class UserFilters:
    q: str = ""
    area: Area | None = None
    role: str = ""
    status: str = ""  # "" | normal | locked | disabled


USER_STATUS_CHOICES = [("", "全部"), ("normal", "正常"), ("locked", "已锁定"), ("disabled", "已停用")]


def _require_users_manage(principal: Principal) -> None:
    if not principal.area_paths_for(Cap.USERS_MANAGE):
        raise Forbidden("您的角色无权管理账号")


def _assignments_in_scope(principal: Principal) -> QuerySet[RoleAssignment]:
    return scoped(RoleAssignment.objects.all(), principal, Cap.USERS_MANAGE)


def _with_scoped_assignments(qs: QuerySet[User], principal: Principal) -> QuerySet[User]:
    """Each user's assignments inside the caller's scope only, as `scoped_assignments`: a user who
    also holds a role elsewhere does not reveal it to a local administrator."""
    inner = _assignments_in_scope(principal).select_related("area", "site").order_by("-active", "area__path", "role")
    return qs.prefetch_related(Prefetch("role_assignments", queryset=inner, to_attr="scoped_assignments"))


def users_managed(*, principal: Principal, filters: UserFilters) -> QuerySet[User]:
    """Users holding (or having held) a role inside the caller's Cap.USERS_MANAGE scope."""
    _require_users_manage(principal)
    assignments = _assignments_in_scope(principal)
    f = filters
    if f.area is not None:
        assignments = assignments.filter(area__path__startswith=f.area.path)
    if f.role:
        assignments = assignments.filter(role=f.role, active=True)
    qs = User.objects.filter(pk__in=assignments.values("user_id"))
    text = f.q.strip()
    if text:
        qs = qs.filter(Q(username__icontains=text) | Q(display_name__icontains=text))
    now = timezone.now()
    if f.status == "locked":
        qs = qs.filter(locked_until__gt=now)
    elif f.status == "normal":
        qs = qs.filter(is_active=True).filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
    elif f.status == "disabled":
        qs = qs.filter(is_active=False)
    return _with_scoped_assignments(qs, principal).order_by("username", "id")


def user_managed(*, principal: Principal, user_id: int) -> User:
    """One user with a role in the caller's scope; anyone else is 'not found'."""
    qs = User.objects.filter(pk=user_id, pk__in=_assignments_in_scope(principal).values("user_id"))
    user = _with_scoped_assignments(qs, principal).first()
    if user is None:
        raise NotFound("未找到该记录")
    return user


def assignment_managed(*, principal: Principal, user: User, assignment_id: int) -> RoleAssignment:
    return get_scoped(RoleAssignment.objects.select_related("area", "user"), principal, Cap.USERS_MANAGE,
                      pk=assignment_id, user=user)


def user_fully_managed(*, principal: Principal, user: User) -> bool:
    """Whether the caller may take over the account (reset its password, clear its lockout):
    only when every active role it holds lies in the caller's scope and grants no more than the
    caller holds there, and it is no Django-admin account. Otherwise a district admin could reset
    the password of a city admin who also holds a role in one of the district's townships."""
    if user.is_superuser or user.is_staff:
        return False
    for a in RoleAssignment.objects.filter(user=user, active=True).select_related("area"):
        if not principal.can(Cap.USERS_MANAGE, a.area):
            return False
        if not CAPABILITIES.get(a.role, frozenset()) <= _held_at_path(principal, a.area.path):
            return False
    return True


# --- API keys -----------------------------------------------------------------------------------------------

# The three kinds a local administrator issues, as the page names them. The model knows two
# (system, device); a device is an evaluator when bound to a window, a kiosk otherwise.
KEY_KIND_CHOICES = [("evaluator", "评价器"), ("kiosk", "自助终端"), ("system", "外部系统")]
KEY_KIND_LABELS = dict(KEY_KIND_CHOICES)
KEY_STATUS_CHOICES = [("", "全部"), ("active", "有效"), ("revoked", "已吊销")]


def key_kind(key: ApiKey) -> str:
    if key.kind == ApiKey.Kind.SYSTEM:
        return "system"
    return "evaluator" if key.window_id else "kiosk"


@dataclass
class KeyFilters:
    q: str = ""
    kind: str = ""
    status: str = ""
    site: ServiceSite | None = None


def _require_keys_manage(principal: Principal) -> None:
    if not principal.area_paths_for(Cap.KEYS_MANAGE):
        raise Forbidden("您的角色无权管理接口密钥")


def apikeys_managed(*, principal: Principal, filters: KeyFilters) -> QuerySet[ApiKey]:
    """Keys bound to an area inside the caller's Cap.KEYS_MANAGE scope."""
    _require_keys_manage(principal)
    qs = scoped(ApiKey.objects.select_related("area", "site", "window", "created_by"), principal, Cap.KEYS_MANAGE)
    f = filters
    text = f.q.strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(prefix__icontains=text))
    if f.kind == "system":
        qs = qs.filter(kind=ApiKey.Kind.SYSTEM)
    elif f.kind == "evaluator":
        qs = qs.filter(kind=ApiKey.Kind.DEVICE, window__isnull=False)
    elif f.kind == "kiosk":
        qs = qs.filter(kind=ApiKey.Kind.DEVICE, window__isnull=True)
    if f.status == "active":
        qs = qs.filter(revoked_at__isnull=True)
    elif f.status == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    if f.site is not None:
        qs = qs.filter(site=f.site)
    return qs.order_by("-created_at", "-id")


def apikey_managed(*, principal: Principal, key_id: int) -> ApiKey:
    return get_scoped(ApiKey.objects.select_related("area", "site", "window", "created_by"), principal,
                      Cap.KEYS_MANAGE, pk=key_id)
