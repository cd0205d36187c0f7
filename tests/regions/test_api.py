"""Area and site API: 6/9/12-digit codes, children, sites of an area, site detail; unknown → 404."""

import pytest
from conftest import GUDONG, GULOU, GUXI, TAIJIANG


@pytest.mark.parametrize("code", ["350102", "350102000", "350102000000"])
def test_area_by_6_9_or_12_digit_code(client, areas, code):
    response = client.get(f"/api/v1/areas/{code}")
    assert response.status_code == 200
    assert response.json() == {"code": GULOU, "name": "鼓楼区", "level": "district", "level_name": "县（市）区",
                               "parent_code": "350100000000", "is_functional_zone": False}


def test_township_and_village_codes(client, areas):
    assert client.get("/api/v1/areas/350102001").json()["name"] == "鼓东街道"
    village = client.get("/api/v1/areas/350102001001").json()
    assert village["name"] == "中山社区" and village["parent_code"] == GUDONG and village["level_name"] == "村（社区）"


@pytest.mark.parametrize("code", ["350199", "999999999999", "35010", "abcdef", "3501020010001", "３５０１０２", "-350102"])
def test_unknown_or_malformed_code_is_404_json_in_chinese(client, areas, code):
    response = client.get(f"/api/v1/areas/{code}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and "不存在" in body["message"] and body["field"] == "code"


def test_children(client, areas):
    body = client.get("/api/v1/areas/350102/children").json()
    assert [a["name"] for a in body][:3] == ["鼓东街道", "鼓西街道", "温泉街道"]
    assert all(a["parent_code"] == GULOU and a["level"] == "township" for a in body)
    assert TAIJIANG not in [a["code"] for a in body]
    assert client.get("/api/v1/areas/350102001001/children").json() == []
    assert client.get("/api/v1/areas/350109/children").status_code == 404


@pytest.fixture
def sites(make_site):
    center = make_site("C1", area_code=GUDONG, lng=119.30, lat=26.07, hours="周一至周五 8:30-17:30")
    from bianmin.regions.services import window_create

    window_create(actor=None, site=center, number="2", name="社保医保窗口")
    window_create(actor=None, site=center, number="1", name="综合受理窗口")
    make_site("S1", kind="station", area_code="350102001001", parent_site=center, venue="community")
    make_site("K1", kind="kiosk", area_code=GUDONG, parent_site=center, venue="convenience_store")
    make_site("C2", area_code=GUXI)
    make_site("C3", area_code="350103001000")  # 瀛洲街道, 台江区: outside 鼓楼
    return center


def test_sites_of_an_area_subtree_centers_first_paginated(client, sites):
    body = client.get("/api/v1/areas/350102001/sites").json()
    assert [s["code"] for s in body["items"]] == ["C1", "K1", "S1"] and body["count"] == 3
    district = client.get("/api/v1/areas/350102/sites", {"page_size": 2}).json()
    assert district["count"] == 4 and [s["code"] for s in district["items"]] == ["C1", "C2"]
    page2 = client.get("/api/v1/areas/350102/sites", {"page_size": 2, "page": 2}).json()
    assert [s["code"] for s in page2["items"]] == ["K1", "S1"]
    assert [s["code"] for s in client.get("/api/v1/areas/350102/sites", {"kind": "center"}).json()["items"]] == ["C1", "C2"]


@pytest.mark.parametrize("params, field", [({"kind": "shop"}, "kind"), ({"page": 0}, "page"), ({"page_size": 500}, "page_size")])
def test_sites_of_an_area_bad_params_422(client, sites, params, field):
    response = client.get("/api/v1/areas/350102/sites", params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_site_detail_with_windows_and_hours(client, sites):
    body = client.get("/api/v1/sites/C1").json()
    assert body["name"] == "测试场所C1" and body["hours"] == "周一至周五 8:30-17:30"
    assert body["windows"] == [{"number": "1", "name": "综合受理窗口"}, {"number": "2", "name": "社保医保窗口"}]
    assert client.get("/api/v1/sites/S1").json()["parent_site_code"] == "C1"


def test_unknown_or_inactive_site_is_404(client, sites):
    from bianmin.regions.services import site_update

    response = client.get("/api/v1/sites/NOPE")
    assert response.status_code == 404 and "不存在" in response.json()["message"]
    site_update(actor=None, site=sites, active=False)
    assert client.get("/api/v1/sites/C1").status_code == 404
