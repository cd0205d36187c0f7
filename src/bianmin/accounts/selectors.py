"""Reads for accounts: the audit log search, roles and areas of a principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from bianmin.core.errors import Forbidden, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal
from bianmin.regions.models import Area, ServiceSite

from .roles import Cap


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
        in_scope = Q()
        for p in paths:
            in_scope |= Q(area_code__in=Area.objects.filter(path__startswith=p).values("code"))
        qs = qs.filter(in_scope)
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
