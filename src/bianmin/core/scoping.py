"""The scope rule, enforced once.

Every scoped record reaches an Area through a lookup path (``area``, ``site__area``,
``case__site__area``…). A user sees a record when one of their active role assignments is at
that area or above it, and the role grants the capability asked for. Records outside the scope
are reported as not found (404), so their existence is not revealed."""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from bianmin.core.errors import Forbidden, NotFound

from .principal import Principal


def scope_filter(principal: Principal, capability: str, *, area_field: str = "area") -> Q:
    """A Q object restricting a queryset to records within the principal's scope for `capability`.
    A principal with no matching assignment gets a filter that matches nothing."""
    paths = principal.area_paths_for(capability)
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{area_field}__path__startswith": path})
    return q


def scoped(qs: QuerySet, principal: Principal, capability: str, *, area_field: str = "area") -> QuerySet:
    return qs.filter(scope_filter(principal, capability, area_field=area_field))


def get_scoped(qs: QuerySet, principal: Principal, capability: str, *, area_field: str = "area", **lookup) -> Model:
    """Fetch one record within scope, or raise NotFound (404) whether it is missing or out of scope."""
    obj = scoped(qs, principal, capability, area_field=area_field).filter(**lookup).first()
    if obj is None:
        raise NotFound("未找到该记录")
    return obj


def require(principal: Principal, capability: str, area) -> None:
    """Raise unless the principal may exercise `capability` at `area`. An area outside every
    assignment is 'not found'; inside the scope but without the capability is 'forbidden'."""
    if not principal.sees_area(area):
        raise NotFound("未找到该记录")
    if not principal.can(capability, area):
        raise Forbidden("您的角色无权执行此操作")
