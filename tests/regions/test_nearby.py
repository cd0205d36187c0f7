"""GET /api/v1/sites/nearby: within reach, nearest first, distance and minutes, filters, bad input."""

import pytest

from bianmin.regions import selectors

from .conftest import moved

ORIGIN = (119.30, 26.08)
URL = "/api/v1/sites/nearby"


@pytest.fixture
def ring(make_site):
    """Sites at known straight-line distances from ORIGIN."""
    lng, lat = ORIGIN
    spots = {
        "A300": dict(north_m=300), "B600": dict(north_m=-600), "C1000": dict(north_m=1000),
        "D4000": dict(north_m=-4000), "E8000": dict(north_m=8000), "F800E": dict(east_m=800),
    }
    sites = {}
    for code, move in spots.items():
        x, y = moved(lng, lat, **move)
        sites[code] = make_site(code, lng=x, lat=y, address=f"{code}路1号", hours="周一至周五 8:30-17:30", phone="0591-12345678")
    return sites


def get(client, **params):
    return client.get(URL, {"lng": ORIGIN[0], "lat": ORIGIN[1], **params})


def test_walk_15_minutes_lists_reachable_sites_nearest_first_with_distance_and_minutes(client, ring):
    body = get(client).json()
    # 15 min × 75 m/min ÷ 1.3 ≈ 865 m of straight line.
    assert [s["code"] for s in body["items"]] == ["A300", "B600", "F800E"]
    first = body["items"][0]
    assert first["distance_m"] == 300
    assert first["minutes"] == 6  # 300 m × 1.3 / 75 m/min = 5.2 → 6
    assert first["name"] == "测试场所A300" and first["address"] == "A300路1号" and first["kind_name"] == "便民服务中心"
    assert body["count"] == 3 and body["mode"] == "walk" and body["mode_name"] == "步行"
    assert body["speed_m_per_min"] == 75.0 and body["detour_factor"] == 1.3 and body["reach_m"] == 865


def test_site_east_of_origin_is_found_although_degrees_of_longitude_are_shorter(client, ring):
    # Guards the bounding box: a box as wide in longitude degrees as in latitude degrees misses it.
    codes = [s["code"] for s in get(client).json()["items"]]
    assert "F800E" in codes
    assert next(s for s in get(client).json()["items"] if s["code"] == "F800E")["distance_m"] == 800


def test_drive_reaches_further_than_walk(client, ring):
    body = get(client, mode="drive").json()
    # 15 min × 416.7 m/min ÷ 1.3 ≈ 4808 m.
    assert [s["code"] for s in body["items"]] == ["A300", "B600", "F800E", "C1000", "D4000"]
    assert body["items"][-1]["minutes"] == 13  # 4000 × 1.3 / 416.67 = 12.48 → 13
    assert body["reach_m"] == 4808


def test_cut_off_follows_minutes(client, ring):
    # C at 1000 m needs 1000 × 1.3 / 75 = 17.3 minutes on foot.
    assert "C1000" not in [s["code"] for s in get(client, minutes=17).json()["items"]]
    reached = get(client, minutes=18).json()["items"]
    assert "C1000" in [s["code"] for s in reached]
    assert next(s for s in reached if s["code"] == "C1000")["minutes"] == 18
    assert [s["code"] for s in get(client, minutes=120, mode="drive").json()["items"]][-1] == "E8000"


def test_kind_filter_and_limit(client, ring, make_site):
    x, y = moved(*ORIGIN, north_m=100)
    make_site("K100", kind="kiosk", lng=x, lat=y, venue="pharmacy")
    assert [s["code"] for s in get(client, kind="kiosk").json()["items"]] == ["K100"]
    assert "K100" not in [s["code"] for s in get(client, kind="center").json()["items"]]
    assert [s["code"] for s in get(client, limit=2).json()["items"]] == ["K100", "A300"]


def test_inactive_sites_and_sites_without_coordinates_are_left_out(client, ring, make_site):
    from bianmin.regions.services import site_update

    site_update(actor=None, site=ring["A300"], active=False)
    make_site("NOLOC")
    codes = [s["code"] for s in get(client).json()["items"]]
    assert "A300" not in codes and "NOLOC" not in codes


def test_nothing_within_reach_is_an_empty_list_not_an_error(client, ring):
    response = client.get(URL, {"lng": 118.0, "lat": 25.0})
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["count"] == 0


@pytest.mark.parametrize("params, field, fragment", [
    ({"lng": 200}, "lng", "经度"),
    ({"lng": 19.3}, "lng", "中国境内"),
    ({"lat": 60}, "lat", "纬度"),
    ({"lat": -26.08}, "lat", "纬度"),
    ({"lng": "nan"}, "lng", "lng：应为有限的数值"),  # the API's one bound on every number (issue 21.4)
    ({"lat": "inf"}, "lat", "lat：应为有限的数值"),
    ({"minutes": 0}, "minutes", "1 至 120"),
    ({"minutes": 121}, "minutes", "1 至 120"),
    ({"mode": "fly"}, "mode", "步行"),
    ({"kind": "shop"}, "kind", "便民服务中心"),
    ({"limit": 0}, "limit", "1 至 100"),
    ({"limit": 101}, "limit", "1 至 100"),
    ({"lng": "abc"}, "lng", "数字"),
    ({"minutes": "1.5"}, "minutes", "整数"),
])
def test_bad_parameters_are_422_in_chinese_naming_the_field(client, areas, params, field, fragment):
    response = get(client, **params)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert fragment in body["message"]


def test_missing_coordinates_are_422(client, areas):
    response = client.get(URL, {"lat": 26.08})
    assert response.status_code == 422
    assert response.json()["field"] == "lng" and "缺少" in response.json()["message"]


def test_haversine_matches_a_known_distance():
    # One degree of latitude on the mean-radius sphere: 111.195 km.
    assert selectors.haversine_m(119.3, 26.0, 119.3, 27.0) == pytest.approx(111195, abs=1)
    # 鼓楼 to 平潭's seat: 0.58° of latitude (64.5 km) and 0.49° of longitude (49 km) → about 81 km.
    assert 80000 < selectors.haversine_m(119.30, 26.08, 119.79, 25.50) < 82000


def test_database_box_leaves_only_nearby_rows_for_exact_distances(ring, monkeypatch):
    # Exact distances are computed only for rows inside the box (A, B, F), never for C/D/E:
    # with thousands of sites, the database does the coarse cut on the indexed columns.
    computed = []
    real = selectors.haversine_m

    def counting(lng1, lat1, lng2, lat2):
        computed.append((lng2, lat2))
        return real(lng1, lat1, lng2, lat2)

    monkeypatch.setattr(selectors, "haversine_m", counting)
    found = selectors.sites_nearby(lng=ORIGIN[0], lat=ORIGIN[1], minutes=15, mode="walk")
    assert [n.site.code for n in found] == ["A300", "B600", "F800E"]
    assert len(computed) == 3
