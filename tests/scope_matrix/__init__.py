"""The scope matrix: every route of the project, classified, and checked against the scope rule.

`tests/test_scope_matrix.py` walks Django's URL resolver (ninja's /api/ routes included) and
fails when a route is in no entry below. Each app lists its routes in its own module,
`tests/scope_matrix/<app>.py`, as a list named ROUTES; the module is found automatically.

Routes are named by their URL name with its namespace ("accounts:audit", "api:whoami_site",
"healthz"), as printed by the failing test. Everything under /admin/ is covered by `Admin`.

Entry kinds (import them with `from scope_matrix import Public, Staff, …`):

    Public("api:area_detail", make=lambda w: f"/api/v1/areas/{GUDONG}")
        Anyone, anonymous included, gets `ok` (default 200). `make` builds the URL (or a Req,
        below) from the World; routes without parameters may omit it (reversed by name).

    Staff("staff-home")
        Any logged-in staff user gets `ok`; anonymous gets 401 (/api/) or a redirect to log-in.

    Capability("accounts:audit", cap=Cap.AUDIT_VIEW)
        A page for holders of a capability anywhere: the city admin (or `allowed`, a tuple of
        World user names) gets `ok`; the other matrix users get 403 (or `denied`).

    Scoped("api:whoami_site", make=lambda w: f"/api/v1/whoami/sites/{w.site(GUDONG).code}", role=Role.WINDOW_CLERK)
        A record of township A (鼓东 GUDONG). `make` is called afresh for every user, creates
        the record in 鼓东 (through your services: w.principal("city") is a city admin,
        w.site(GUDONG) a service center of 鼓东) and returns the URL or a Req. Checks:
            owner     `role` at 鼓东 GUDONG          → ok (default 200)
            sibling   `role` at 鼓西 GUXI            → 404 (not 403: existence is not revealed)
            district  district admin of 鼓楼 GULOU   → ok
            other     district admin of 台江 TAIJIANG → 404
            anonymous                               → 401 (/api/) or redirect to log-in
        `ok_for` overrides the users expected to succeed, e.g. ok_for=("owner",) when the
        district admin lacks the capability (then "district" expects `denied`, default 403).

    KeyScoped("api:intake_get", make=…, scopes=["cases.intake"])
        A route for API keys. Keys are bound to a service center of 鼓东 (owner) and of 鼓西
        (sibling). Checks: no key → 401, owner key revoked → 401, sibling key → 404,
        owner key → ok. `make(w)` creates the record in 鼓东 as for Scoped.

    DeviceScoped("api:kiosk_heartbeat", device=make_terminal, make=lambda w, t: Req(…))
        A route for a device's own key (a kiosk terminal). `device(w, code)` makes a device in
        township `code` and returns (device, raw key); `make(w, device)` builds the request for
        it. Checks: no key → 401, the owner's key revoked → 401, the key of a device of 鼓西 → 404,
        the owner's key → ok. via="cookie": the key in the pairing cookie of a device's browser
        (pages): no or revoked cookie → 302 to `login` (the pairing page); the sibling check
        is skipped (such pages name no record: the cookie itself says which device).

    Exempt("accounts:logout", reason="…")
        Not walked by the matrix (say why, and where it is tested instead).

A `make` function may return a plain URL string (GET) or `Req(url, method="post", data={…},
json=True)`. For a write route the record is created afresh for each user, so the sibling's
attempt meets a record that exists, and `ok` lists the success statuses (e.g. (200, 201, 302)).

The World (`w`) gives: w.areas[code], w.user(name, role=None), w.principal(name, role=None),
w.site(code, kind="center"), w.key(code, scopes) → raw key, with names "owner", "sibling",
"district", "other", "city" (city admin, superuser) and area constants from conftest.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conftest import CITY, GUDONG, GULOU, GUXI, TAIJIANG

__all__ = [
    "Admin", "Capability", "DeviceScoped", "Exempt", "KeyScoped", "Public", "Req", "Scoped", "Staff", "World", "all_entries",
    "CITY", "GUDONG", "GULOU", "GUXI", "TAIJIANG",
]


@dataclass
class Req:
    url: str
    method: str = "get"
    data: Any = None
    json: bool = False


Make = Callable[["World"], "str | Req"]


@dataclass
class Entry:
    name: str
    make: Make | None = None
    ok: tuple[int, ...] = (200,)
    module: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        return f"{type(self).__name__}({self.name})"


@dataclass
class Public(Entry):
    pass


@dataclass
class Staff(Entry):
    pass


@dataclass
class Capability(Entry):
    cap: str = ""
    allowed: tuple[str, ...] = ("city",)
    denied: tuple[int, ...] = (403,)


@dataclass
class Scoped(Entry):
    role: str = "window_clerk"
    ok_for: tuple[str, ...] = ("owner", "district")
    denied: tuple[int, ...] = (403,)


@dataclass
class KeyScoped(Entry):
    scopes: tuple[str, ...] | list[str] = ()


@dataclass
class DeviceScoped(Entry):
    device: Callable | None = None
    via: str = "key"
    cookie: str = "bianmin_device"
    login: str = "/kiosk/pair/"


@dataclass
class Exempt(Entry):
    reason: str = ""


@dataclass
class Admin(Entry):
    """Every route under the prefix `name` (e.g. "admin/") is the Django admin."""


# --- the people and places of the matrix --------------------------------------------------------------

USER_AREAS = {"owner": GUDONG, "sibling": GUXI, "district": GULOU, "other": TAIJIANG, "city": CITY}
DEFAULT_ROLES = {"district": "district_admin", "other": "district_admin", "city": "city_admin"}


class World:
    """Users, sites and keys of the matrix, made on demand within one test."""

    def __init__(self, areas: dict):
        self.areas = areas
        self._users: dict[tuple[str, str], Any] = {}
        self._sites: dict[tuple[str, str], Any] = {}
        self._n = 0

    def user(self, name: str, role: str | None = None):
        from bianmin.accounts.models import RoleAssignment, User

        role = role or DEFAULT_ROLES.get(name, "window_clerk")
        key = (name, role)
        if key not in self._users:
            self._n += 1
            user = User(username=f"m_{name}_{role}_{self._n}", display_name=f"矩阵{name}",
                        is_staff=name == "city", is_superuser=name == "city")
            # The matrix logs in with force_login: no password, so no slow Argon2 hashing per user
            # (a user without a password date is not considered expired).
            user.set_unusable_password()
            user.save()
            RoleAssignment.objects.create(user=user, role=role, area=self.areas[USER_AREAS[name]])
            self._users[key] = user
        return self._users[key]

    def principal(self, name: str = "city", role: str | None = None):
        from bianmin.accounts.principals import principal_for_user

        return principal_for_user(self.user(name, role), ip="127.0.0.1")

    def site(self, code: str = GUDONG, kind: str = "center"):
        from bianmin.regions.services import site_create

        if (code, kind) not in self._sites:
            self._n += 1
            self._sites[(code, kind)] = site_create(
                actor=None, code=f"M{code}{self._n:03d}", name=f"矩阵{self.areas[code].name}{kind}", kind=kind,
                area=self.areas[code],
            )
        return self._sites[(code, kind)]

    def key(self, code: str, scopes, *, revoked: bool = False) -> str:
        from bianmin.accounts import services

        site = self.site(code)
        key, raw = services.apikey_create(actor=None, name=f"矩阵密钥{self._n}", kind="system", area=site.area,
                                          site=site, scopes=list(scopes))
        if revoked:
            services.apikey_revoke(actor=None, key=key)
        return raw


def all_entries() -> list[Entry]:
    """Every ROUTES list of every module of this package, each entry tagged with its module."""
    entries: list[Entry] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for entry in getattr(module, "ROUTES", []):
            entry.module = info.name
            entries.append(entry)
    return entries
