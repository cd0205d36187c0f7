"""The terminal register: a terminal at a kiosk site with its own device key; who may register."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import GUDONG, GUXI

from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound

from .conftest import bearer, heartbeat, principal


def test_register_makes_a_device_key_with_the_kiosk_scopes(make_terminal, kiosk_sites):
    from bianmin.accounts.models import ApiKey
    from bianmin.core.models import AuditEntry

    terminal, raw = make_terminal("gudong")
    key = ApiKey.objects.get(pk=terminal.api_key_id)
    assert key.kind == "device" and key.scopes == ["kiosks.terminal", "evaluations.kiosk"]
    assert key.digest == ApiKey.digest_of(raw) and raw not in str(key.__dict__)
    # Bound to the township of the kiosk (its center's area): the kiosk channel evaluates its cases.
    assert key.area_id == kiosk_sites["gudong_center"].area_id and key.site_id is None
    assert terminal.location_kind == "township" and terminal.state == "pending"
    assert AuditEntry.objects.filter(target_type="kiosks.terminal", target_id=str(terminal.pk), action="create").exists()


def test_register_refuses_a_site_that_is_not_a_kiosk_site(kiosk_sites, city_admin, kiosk_items):
    from bianmin.kiosks.models import Terminal
    from bianmin.kiosks.services import terminal_register

    with pytest.raises(Invalid, match="自助服务终端点"):
        terminal_register(actor=principal(city_admin), site=kiosk_sites["gudong_center"], code="T1", serial="S1",
                          model="M", operator="O", installed_on=date(2020, 1, 1))
    assert not Terminal.objects.exists()


def test_register_refuses_duplicates_and_future_dates(make_terminal):
    make_terminal("gudong", code="T-A", serial="SN-A")
    with pytest.raises(Conflict, match="终端编号已存在"):
        make_terminal("gudong", code="T-A", serial="SN-B")
    with pytest.raises(Conflict, match="序列号已登记"):
        make_terminal("gudong", code="T-B", serial="SN-A")
    with pytest.raises(Invalid, match="安装日期"):
        make_terminal("gudong", code="T-C", serial="SN-C", installed_on=date(2999, 1, 1))


def test_register_follows_the_scope_rule(kiosk_sites, kiosk_items, make_user):
    from bianmin.kiosks.services import terminal_register

    spec = {"code": "T9", "serial": "S9", "model": "M", "operator": "O", "installed_on": date(2020, 1, 1)}
    sibling = make_user("center_manager", GUXI)
    with pytest.raises(NotFound):
        terminal_register(actor=principal(sibling), site=kiosk_sites["gudong"], **spec)
    clerk = make_user("window_clerk", GUDONG)
    with pytest.raises(Forbidden):
        terminal_register(actor=principal(clerk), site=kiosk_sites["gudong"], **spec)


def test_register_api_shows_the_key_once_and_422_in_chinese(client, login, manager, kiosk_sites, kiosk_items):
    login(manager)
    body = {"site_code": "K-GD", "code": "t-new", "serial": "SN-NEW", "model": "ZZ", "operator": "运维",
            "installed_on": "2021-03-01"}
    response = client.post("/api/v1/kiosk/terminals", body, content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    assert data["terminal"]["code"] == "T-NEW" and len(data["device_key"]) > 30
    assert client.get("/api/v1/kiosk/terminals/T-NEW").json()["key_prefix"] == data["device_key"][:len(data["terminal"]["key_prefix"])]
    bad = client.post("/api/v1/kiosk/terminals", {**body, "code": "T-2", "serial": "S-2", "site_code": "C-GD"},
                      content_type="application/json")
    assert bad.status_code == 422 and "自助服务终端点" in bad.json()["message"]
    other = client.post("/api/v1/kiosk/terminals", {**body, "code": "T-3", "serial": "S-3", "site_code": "K-GX"},
                        content_type="application/json")
    assert other.status_code == 404


def test_key_rotation_stops_the_old_key_at_once(client, make_terminal, city_admin):
    from bianmin.kiosks.services import terminal_key_rotate

    terminal, old = make_terminal("gudong")
    assert heartbeat(client, terminal, old).status_code == 200
    terminal, new = terminal_key_rotate(actor=principal(city_admin), terminal=terminal)
    assert heartbeat(client, terminal, old).status_code == 401
    assert heartbeat(client, terminal, new).status_code == 200


def test_retired_terminal_keys_no_longer_work(client, make_terminal, city_admin):
    from bianmin.kiosks.services import terminal_retire

    terminal, raw = make_terminal("gudong")
    with pytest.raises(Invalid):
        terminal_retire(actor=principal(city_admin), terminal=terminal, reason=" ")
    terminal_retire(actor=principal(city_admin), terminal=terminal, reason="设备报废")
    assert client.get(f"/api/v1/kiosk/terminals/{terminal.code}/config", **bearer(raw)).status_code == 401
