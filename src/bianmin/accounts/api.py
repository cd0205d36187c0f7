"""Who is calling and what they may do where: for staff front-ends (session) and for systems and
devices checking their key's binding (API key)."""

from __future__ import annotations

from ninja import Router, Schema

from . import selectors
from .auth import staff_or_key_auth
from .principals import principal_of

router = Router(tags=["账号与权限"])


class GrantOut(Schema):
    area_code: str
    area_name: str
    role: str | None
    role_name: str | None
    site_code: str | None
    capabilities: list[str]


class KeyOut(Schema):
    name: str
    prefix: str
    kind: str
    scopes: list[str]
    site_code: str | None
    window_number: str | None


class WhoAmIOut(Schema):
    kind: str
    label: str
    display_name: str
    grants: list[GrantOut]
    key: KeyOut | None


@router.get("whoami", response=WhoAmIOut, auth=staff_or_key_auth, summary="当前身份、角色与辖区")
def whoami(request):
    principal = principal_of(request)
    key = principal.api_key
    if key is not None:
        area = key.site.area if key.site_id else key.area
        return {
            "kind": "key", "label": principal.label, "display_name": key.name,
            "grants": [{"area_code": area.code, "area_name": area.name, "role": None, "role_name": None,
                        "site_code": key.site.code if key.site_id else None,
                        "capabilities": sorted(principal.grants[0].capabilities)}],
            "key": {"name": key.name, "prefix": key.prefix, "kind": key.kind, "scopes": list(key.scopes or []),
                    "site_code": key.site.code if key.site_id else None,
                    "window_number": key.window.number if key.window_id else None},
        }
    user = request.user
    from .roles import CAPABILITIES

    return {
        "kind": "user", "label": user.username, "display_name": str(user), "key": None,
        "grants": [{"area_code": a.area.code, "area_name": a.area.name, "role": a.role, "role_name": a.get_role_display(),
                    "site_code": a.site.code if a.site_id else None,
                    "capabilities": sorted(CAPABILITIES.get(a.role, frozenset()))}
                   for a in user.role_assignments.select_related("area", "site").filter(active=True)],
    }


class ScopeOut(Schema):
    code: str
    name: str
    area_code: str
    capabilities: list[str]


@router.get("whoami/areas/{code}", response=ScopeOut, auth=staff_or_key_auth, summary="本身份在某区划的权限")
def whoami_area(request, code: str):
    principal = principal_of(request)
    area = selectors.area_in_scope(principal=principal, code=code)
    return {"code": area.code, "name": area.name, "area_code": area.code,
            "capabilities": selectors.capabilities_at(principal=principal, area=area)}


@router.get("whoami/sites/{code}", response=ScopeOut, auth=staff_or_key_auth, summary="本身份在某服务场所的权限")
def whoami_site(request, code: str):
    principal = principal_of(request)
    site = selectors.site_in_scope(principal=principal, code=code)
    return {"code": site.code, "name": site.name, "area_code": site.area.code,
            "capabilities": selectors.capabilities_at(principal=principal, area=site.area)}
