"""The scope rule, enforced once.

Every scoped record reaches an Area through a lookup path (``area``, ``site__area``,
``case__site__area``…). A user sees a record when one of their active role assignments is at
that area or above it, and the role grants the capability asked for. Records outside the scope
are reported as not found (404), so their existence is not revealed."""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from bianmin.core.errors import Forbidden, NotFound

from .prepared import PreparedQuery
from .principal import Principal


def scope_filter(principal: Principal, capability: str, *, area_field: str = "area") -> Q:
    """A Q object restricting a queryset to records within the principal's scope for `capability`.
    A principal with no matching assignment gets a filter that matches nothing."""
    paths = principal.area_paths_for(capability)
    if not paths:
        return Q(pk__in=[])
    return _paths_filter(paths, area_field)


# ``area_field`` of a queryset of areas themselves: their own path is the subtree.
SELF = ""


def _paths_filter(paths, area_field: str) -> Q:
    lookup = f"{area_field}__path__startswith" if area_field else "path__startswith"
    q = Q()
    for path in paths:
        q |= Q(**{lookup: path})
    return q


def scoped(qs: QuerySet, principal: Principal, capability: str, *, area_field: str = "area") -> QuerySet:
    return qs.filter(scope_filter(principal, capability, area_field=area_field))


def get_scoped(qs: QuerySet, principal: Principal, capability: str, *, area_field: str = "area", **lookup) -> Model:
    """Fetch one record within scope, or raise NotFound (404) whether it is missing or out of scope."""
    obj = scoped(qs, principal, capability, area_field=area_field).filter(**lookup).first()
    if obj is None:
        raise NotFound("未找到该记录")
    return obj


def require(principal: Principal, capability: str, area, *, not_found: str = "未找到该记录",
            field: str | None = None) -> None:
    """Raise unless the principal may exercise `capability` at `area`. An area outside every
    assignment is 'not found' (``not_found``, reported on ``field``); inside the scope but without
    the capability is 'forbidden'."""
    if not principal.sees_area(area):
        raise NotFound(not_found, field=field)
    if not principal.can(capability, area):
        raise Forbidden("您的角色无权执行此操作")


# --- areas: which the principal works on, and the one pages open on ---------------------------
# core imports no app, so the callers hand in the areas (``Area.objects`` or a narrower queryset).

def areas_in_scope(areas: QuerySet, principal: Principal, capability: str) -> QuerySet:
    """The areas where the principal holds `capability`: their assignments' areas and below."""
    return scoped(areas, principal, capability, area_field=SELF)


def area_in_scope(areas: QuerySet, principal: Principal, capability: str, *, code: str,
                  message: str = "未找到该区划", field: str | None = "area"):
    """One area by its code, within the scope for `capability`; otherwise NotFound (404)."""
    area = areas_in_scope(areas, principal, capability).filter(code=(code or "").strip()).first()
    if area is None:
        raise NotFound(message, field=field)
    return area


def home_path(principal: Principal, capability: str) -> str | None:
    """The path of the widest area where the principal holds `capability` (fewest levels; the first
    in tree order among equals), or None without any."""
    paths = principal.area_paths_for(capability)
    return min(paths, key=lambda p: (p.count("/"), p)) if paths else None


def home_area_code(principal: Principal, capability: str) -> str:
    """The official code of the home area (the last part of its path), or "" without any."""
    path = home_path(principal, capability)
    return path.rstrip("/").rsplit("/", 1)[-1] if path else ""


def home_area(areas: QuerySet, principal: Principal, capability: str, *, message: str = "您没有可查看的辖区"):
    """The area a principal's pages open on by default: the widest one they hold `capability` at.
    Without any, NotFound (404)."""
    path = home_path(principal, capability)
    area = areas.filter(path=path).first() if path else None
    if area is None:
        raise NotFound(message)
    return area


class ScopedOne:
    """``get_scoped`` for one record by a unique key on a hot path, compiled once per number of
    scope paths (core/prepared.py): the same scope rule and the same 404, without building and
    compiling the queryset on every request.

        CASE = ScopedOne(lambda number: Case.objects.filter(acceptance_number=number), area_field="site__area")
        case = CASE.get(actor, Cap.VIEW, number="FZ-…")
    """

    def __init__(self, build, *, area_field: str = "area"):
        self.build = build
        self.area_field = area_field
        self.prepared = PreparedQuery(self._scoped)

    def _scoped(self, **values):
        paths = [values.pop(name) for name in sorted(n for n in values if n.startswith("scope_"))]
        return self.build(**values).filter(_paths_filter(paths, self.area_field))[:1]

    def get(self, principal: Principal, capability: str, **lookup) -> Model:
        paths = principal.area_paths_for(capability)
        if not paths:
            raise NotFound("未找到该记录")
        scope = {f"scope_{i:03d}": path for i, path in enumerate(paths)}
        found = self.prepared(shape=len(paths), **scope, **lookup)
        if not found:
            raise NotFound("未找到该记录")
        return found[0]
