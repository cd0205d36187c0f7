"""The scope rule over every route: users of two sibling townships (鼓东, 鼓西), of their district
(鼓楼) and of another district (台江), each reaching only what is theirs. A record of another
township is 404, not 403, so that its existence is not revealed. The entries live in
tests/scope_matrix/<app>.py; the format is described in tests/scope_matrix/__init__.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from scope_matrix import (
    Admin,
    Capability,
    DeviceScoped,
    Exempt,
    KeyScoped,
    Public,
    Req,
    Scoped,
    Staff,
    World,
    all_entries,
)

ENTRIES = all_entries()
LOGIN_URL = "/accounts/login/"
MATRIX_USERS = ("owner", "sibling", "district", "other")


def _routes(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """(route, qualified name) of every URL pattern, resolvers included (ninja's /api/ too)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            yield route, f"{namespace}{p.name}" if p.name else route


def _of(kind) -> list:
    return [e for e in ENTRIES if type(e) is kind]


def _ids(entries) -> list[str]:
    return [f"{e.module}:{e.name}" for e in entries]


@pytest.fixture
def world(areas) -> World:
    return World(areas)


def _send(client: Client, req: str | Req, **headers):
    req = Req(req) if isinstance(req, str) else req
    send = getattr(client, req.method.lower())
    if req.json:
        return send(req.url, data=json.dumps(req.data), content_type="application/json", **headers)
    if req.data is None:
        return send(req.url, **headers)
    return send(req.url, req.data, **headers)


def _url_of(req: str | Req) -> str:
    return req if isinstance(req, str) else req.url


def _as(world: World, who: str | None, role: str | None = None) -> Client:
    client = Client()
    if who is not None:
        client.force_login(world.user(who, role))
    return client


def _make(entry, world: World) -> str | Req:
    return entry.make(world) if entry.make else reverse(entry.name)


def _assert_anonymous_refused(entry, world: World) -> None:
    req = _make(entry, world)
    response = _send(Client(), req)
    if _url_of(req).startswith("/api/"):
        assert response.status_code == 401, f"{entry.label}: anonymous got {response.status_code}, expected 401"
    else:
        assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL), (
            f"{entry.label}: anonymous got {response.status_code} {response.get('Location', '')}, expected the log-in page"
        )


def _explain(entry, who: str, response, expected) -> str:
    body = response.content[:300].decode(errors="replace") if not getattr(response, "streaming", False) else "<stream>"
    return f"{entry.label} as {who}: got {response.status_code}, expected {expected}. {body}"


# --- every route is classified ------------------------------------------------------------------------


def test_every_route_is_classified():
    covered = {e.name for e in ENTRIES if not isinstance(e, Admin)}
    prefixes = tuple(e.name for e in _of(Admin))
    missing = sorted({(route, name) for route, name in _routes()
                      if name not in covered and not route.startswith(prefixes)})
    assert not missing, (
        "Routes missing from the scope matrix (add them to tests/scope_matrix/<app>.py; format in its __init__.py):\n"
        + "\n".join(f"  {name!r:50} /{route}" for route, name in missing)
    )


def test_every_entry_names_an_existing_route():
    names = {name for _, name in _routes()}
    routes = [route for route, _ in _routes()]
    stale = [e.label for e in ENTRIES
             if (isinstance(e, Admin) and not any(r.startswith(e.name) for r in routes))
             or (not isinstance(e, Admin) and e.name not in names)]
    assert not stale, f"Entries naming no route (renamed or removed?): {stale}"


def test_exemptions_give_a_reason():
    assert all(e.reason.strip() for e in _of(Exempt))


# --- the checks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", _of(Public), ids=_ids(_of(Public)))
def test_public(entry, world):
    response = _send(Client(), _make(entry, world))
    assert response.status_code in entry.ok, _explain(entry, "anonymous", response, entry.ok)


@pytest.mark.parametrize("entry", _of(Staff), ids=_ids(_of(Staff)))
def test_staff(entry, world):
    _assert_anonymous_refused(entry, world)
    for who in MATRIX_USERS:
        response = _send(_as(world, who), _make(entry, world))
        assert response.status_code in entry.ok, _explain(entry, who, response, entry.ok)


@pytest.mark.parametrize("entry", _of(Capability), ids=_ids(_of(Capability)))
def test_capability(entry, world):
    _assert_anonymous_refused(entry, world)
    for who in (*MATRIX_USERS, "city"):
        expected = entry.ok if who in entry.allowed else entry.denied
        response = _send(_as(world, who), _make(entry, world))
        assert response.status_code in expected, _explain(entry, who, response, expected)


def check_scoped(entry, world):
    _assert_anonymous_refused(entry, world)
    # Outsiders first: for a write route, their attempt must meet an untouched record.
    for who in ("sibling", "other", "owner", "district"):
        role = entry.role if who in ("owner", "sibling") else None
        if who in entry.ok_for:
            expected = entry.ok
        elif who in ("sibling", "other"):
            expected = (404,)
        else:
            expected = entry.denied
        response = _send(_as(world, who, role), entry.make(world))
        assert response.status_code in expected, _explain(entry, who, response, expected)


def check_key_scoped(entry, world):
    from scope_matrix import GUDONG, GUXI

    def call(raw: str | None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}
        return _send(Client(), entry.make(world), **headers)

    checks = [
        ("no key", None, (401,)),
        ("revoked key", world.key(GUDONG, entry.scopes, revoked=True), (401,)),
        ("sibling key", world.key(GUXI, entry.scopes), (404,)),
        ("owner key", world.key(GUDONG, entry.scopes), entry.ok),
    ]
    for who, raw, expected in checks:
        response = call(raw)
        assert response.status_code in expected, _explain(entry, who, response, expected)


def check_device_scoped(entry, world):
    from scope_matrix import GUDONG, GUXI

    from bianmin.accounts.models import ApiKey
    from bianmin.accounts.services import apikey_revoke

    def call(device, raw: str | None):
        client = Client()
        headers = {}
        if raw and entry.via == "cookie":
            client.cookies[entry.cookie] = raw
        elif raw:
            headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        return _send(client, entry.make(world, device), **headers)

    refused = (401,) if entry.via == "key" else (302,)
    owner, owner_raw = entry.device(world, GUDONG)
    revoked, revoked_raw = entry.device(world, GUDONG)
    apikey_revoke(actor=None, key=ApiKey.objects.get(digest=ApiKey.digest_of(revoked_raw)))
    checks = [("no key", owner, None, refused), ("revoked key", revoked, revoked_raw, refused)]
    if entry.via == "key":
        _sibling, sibling_raw = entry.device(world, GUXI)
        checks.append(("sibling key", owner, sibling_raw, (404,)))
    checks.append(("owner key", owner, owner_raw, entry.ok))
    for who, device, raw, expected in checks:
        response = call(device, raw)
        assert response.status_code in expected, _explain(entry, who, response, expected)
        if response.status_code == 302:
            # Refused: the pairing page; let in: anywhere else.
            assert (response["Location"] == entry.login) == (who != "owner key"), _explain(
                entry, who, response, f"{'not ' if who == 'owner key' else ''}{entry.login}")


@pytest.mark.parametrize("entry", _of(DeviceScoped), ids=_ids(_of(DeviceScoped)))
def test_device_scoped(entry, world):
    check_device_scoped(entry, world)


@pytest.mark.parametrize("entry", _of(Scoped), ids=_ids(_of(Scoped)))
def test_scoped(entry, world):
    check_scoped(entry, world)


@pytest.mark.parametrize("entry", _of(KeyScoped), ids=_ids(_of(KeyScoped)))
def test_key_scoped(entry, world):
    check_key_scoped(entry, world)


def test_the_matrix_catches_a_leak(world):
    """A route that shows a 鼓东 record to everyone (here the public site API, posing as a
    scoped route) must fail the checks, or the matrix proves nothing."""
    from scope_matrix import GUDONG

    leaky = Scoped("api:site_detail", make=lambda w: f"/api/v1/sites/{w.site(GUDONG).code}")
    with pytest.raises(AssertionError, match="anonymous got 200"):
        check_scoped(leaky, world)
    leaky_key = KeyScoped("api:site_detail", make=leaky.make, scopes=["cases.intake"])
    with pytest.raises(AssertionError, match="as no key: got 200"):
        check_key_scoped(leaky_key, world)


def test_the_matrix_catches_a_sibling_leak(world, monkeypatch):
    """The same for a route that refuses anonymous callers but lets the sibling township in:
    a principal that sees every area (the scope rule switched off) must be caught as 'sibling'."""
    from scope_matrix import GUDONG

    from bianmin.core.principal import Principal

    monkeypatch.setattr(Principal, "sees_area", lambda self, area: True)
    entry = Scoped("api:whoami_site", make=lambda w: f"/api/v1/whoami/sites/{w.site(GUDONG).code}")
    with pytest.raises(AssertionError, match="as sibling: got 200"):
        check_scoped(entry, world)


def test_admin_is_for_staff_only(world):
    """Every model registered in the admin: its list opens for the city admin (superuser) and
    sends anyone else to the admin's log-in."""
    city = _as(world, "city")
    clerk = _as(world, "owner")
    anonymous = Client()
    assert city.get("/admin/").status_code == 200
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert city.get(url).status_code == 200, url
        for client in (clerk, anonymous):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


def test_the_matrix_catches_a_device_leak(world, monkeypatch):
    """A device route that serves any terminal to any kiosk key must fail the device checks."""
    from scope_matrix import kiosks

    from bianmin.kiosks import selectors
    from bianmin.kiosks.models import Terminal

    monkeypatch.setattr(selectors, "device_terminal", lambda *, actor, code: Terminal.objects.get(code=code))
    entry = DeviceScoped("api:kiosk_config", device=kiosks.terminal,
                         make=lambda w, t: f"/api/v1/kiosk/terminals/{t.code}/config")
    with pytest.raises(AssertionError, match="as sibling key: got 200"):
        check_device_scoped(entry, world)
