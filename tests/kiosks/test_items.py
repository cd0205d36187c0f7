"""The item list: the city default, an area's override, a terminal's own; the configuration
fetched with an ETag."""

from __future__ import annotations

import pytest
from conftest import GULOU, GUXI

from bianmin.core.errors import NotFound

from .conftest import bearer, principal


def codes(items):
    return [i.code for i in items]


def test_terminal_override_wins_over_the_area_which_wins_over_the_city(make_terminal, kiosk_items, areas, city_admin):
    from bianmin.kiosks.selectors import offered_items
    from bianmin.kiosks.services import item_override_set

    guide = kiosk_items["guide"]
    guide.default_offered = False
    guide.save()
    terminal, _ = make_terminal("gudong")
    other, _ = make_terminal("gudong")
    assert guide.code not in codes(offered_items(terminal=terminal))
    actor = principal(city_admin)
    item_override_set(actor=actor, item=guide, area=areas[GULOU], offered=True)
    assert guide.code in codes(offered_items(terminal=terminal))
    # The nearer area decides: the township withdraws what its district offers.
    item_override_set(actor=actor, item=guide, area=terminal.area, offered=False)
    assert guide.code not in codes(offered_items(terminal=terminal))
    item_override_set(actor=actor, item=guide, terminal=terminal, offered=True)
    assert guide.code in codes(offered_items(terminal=terminal))
    assert guide.code not in codes(offered_items(terminal=other))


def test_overrides_follow_the_scope_rule(kiosk_items, areas, make_user, make_terminal):
    from bianmin.kiosks.services import item_override_set

    terminal, _ = make_terminal("gudong")
    sibling = principal(make_user("center_manager", GUXI))
    with pytest.raises(NotFound):
        item_override_set(actor=sibling, item=kiosk_items["guide"], terminal=terminal, offered=False)


def test_config_etag_and_304(client, make_terminal, kiosk_items, city_admin):
    from bianmin.kiosks.services import item_override_set

    terminal, raw = make_terminal("gudong")
    url = f"/api/v1/kiosk/terminals/{terminal.code}/config"
    first = client.get(url, **bearer(raw))
    assert first.status_code == 200
    data = first.json()
    assert [i["code"] for i in data["items"]] == [kiosk_items[k].code for k in ("social", "house", "guide")]
    assert data["items"][0]["certificate_title"] == "社会保险缴费证明"
    etag = first["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(raw))
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    item_override_set(actor=principal(city_admin), item=kiosk_items["guide"], terminal=terminal, offered=False)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(raw))
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(changed.json()["items"]) == 2


def test_config_304_through_gzip(client, make_terminal, kiosk_items):
    # A terminal that accepts gzip gets a compressed body whose tag GZipMiddleware weakened (W/"…");
    # sending that form back must still mean "unchanged".
    terminal, raw = make_terminal("gudong")
    url = f"/api/v1/kiosk/terminals/{terminal.code}/config"
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip", **bearer(raw))
    assert first.status_code == 200 and first["Content-Encoding"] == "gzip" and first["ETag"].startswith("W/")
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_ACCEPT_ENCODING="gzip", **bearer(raw))
    assert again.status_code == 304


def test_override_api(client, login, make_terminal, kiosk_items, manager):
    terminal, _ = make_terminal("gudong")
    login(manager)
    url = f"/api/v1/kiosk/items/{kiosk_items['guide'].code}/overrides"
    response = client.put(url, {"terminal_code": terminal.code, "offered": False, "note": "屏幕小"},
                          content_type="application/json")
    assert response.status_code == 200 and response.json()["offered"] is False
    assert [o["terminal_code"] for o in client.get("/api/v1/kiosk/items/overrides").json()] == [terminal.code]
    both = client.put(url, {"terminal_code": terminal.code, "area_code": "350102001000", "offered": True},
                      content_type="application/json")
    assert both.status_code == 422 and "之一" in both.json()["message"]
    assert client.delete(f"{url}?terminal_code={terminal.code}").status_code == 204
    assert client.delete(f"{url}?terminal_code={terminal.code}").status_code == 404
    assert client.put("/api/v1/kiosk/items/NOPE/overrides", {"terminal_code": terminal.code, "offered": True},
                      content_type="application/json").status_code == 404
