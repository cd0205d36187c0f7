"""An item's places are cut where they are shown: the standard guide lists 20 (nearest first when
given a location, by district otherwise) with the count per district and a link to the rest;
the site's item list is read as rows and answers the same JSON as from model instances."""

import pytest
from conftest import GUDONG, GUXI, TAIJIANG

from bianmin.catalog import selectors


@pytest.fixture
def many_places(areas, dibao, item_at, sites):
    """dibao at 鼓东's and 鼓西's centers, the village station, plus 21 more sites: 14 in 鼓楼
    (spread east of 鼓东 by ~1 km steps) and 7 in 台江's first township."""
    from bianmin.catalog.services import item_create
    from bianmin.core.validators import make_credit_code
    from bianmin.regions.models import Area, ServiceSite

    taijiang_town = Area.objects.filter(parent=areas[TAIJIANG], level="township").order_by("code").first()
    made = [item_at(dibao, "gudong"), item_at(dibao, "guxi"), item_at(dibao, "station")]
    for n in range(21):
        area = taijiang_town if n >= 14 else (areas[GUDONG] if n % 2 else areas[GUXI])
        site = ServiceSite.objects.create(code=f"P-{n:02d}", name=f"测试场所{n:02d}", kind="station", area=area,
                                          lng=119.30 + 0.01 * n, lat=26.08)
        made.append(item_create(actor=None, standard_item=dibao, area=area, site=site,
                                implementing_body_credit_code=make_credit_code("350102", 100 + n, authority="1",
                                                                               category="1")))
    return made


def test_the_standard_guide_lists_twenty_places_with_districts_and_a_link_to_the_rest(client, dibao, many_places):
    data = client.get(f"/api/v1/guides/{dibao.code}").json()
    assert data["implementations_count"] == 24 and len(data["implementations"]) == 20
    assert {d["name"]: d["count"] for d in data["districts"]} == {"鼓楼区": 17, "台江区": 7}
    codes = [p["area_code"] for p in data["implementations"]]
    assert codes == sorted(codes)  # grouped by district (area codes sort by district)
    assert data["more"] == f"/api/v1/guides/{dibao.code}?offset=20&limit=20"
    rest = client.get(data["more"]).json()
    assert len(rest["implementations"]) == 4 and rest["more"] is None
    seen = [p["implementation_code"] for p in data["implementations"] + rest["implementations"]]
    assert len(set(seen)) == 24


def test_nearest_first_when_a_location_is_given(client, dibao, many_places):
    data = client.get(f"/api/v1/guides/{dibao.code}", {"lng": 119.40, "lat": 26.08, "limit": 3}).json()
    found = [p["site_code"] for p in data["implementations"]]
    assert found[0] == "P-10" and set(found[1:]) == {"P-09", "P-11"}
    assert data["implementations"][0]["distance_m"] == 0
    assert data["implementations"][1]["distance_m"] == pytest.approx(999, abs=5)
    assert "lng=119.4" in data["more"] and "offset=3" in data["more"]


def test_one_district_and_bad_input(client, dibao, many_places):
    data = client.get(f"/api/v1/guides/{dibao.code}", {"district": TAIJIANG, "limit": 50}).json()
    assert data["implementations_count"] == 7 and {p["district"] for p in data["implementations"]} == {"台江区"}
    resp = client.get(f"/api/v1/guides/{dibao.code}", {"lng": 119.3})
    assert resp.status_code == 422 and resp.json()["field"] == "lat" and "同时提供" in resp.json()["message"]
    resp = client.get(f"/api/v1/guides/{dibao.code}", {"offset": -1})
    assert resp.status_code == 422 and resp.json()["message"] == "offset：数值过小：不能小于 0"
    resp = client.get(f"/api/v1/guides/{dibao.code}", {"limit": 0})
    assert resp.status_code == 422 and resp.json()["field"] == "limit"


def test_the_page_groups_places_by_district_with_a_link_to_the_rest(client, dibao, many_places):
    page = client.get(f"/catalog/guide/{dibao.code}/").content.decode()
    assert "在哪里办（24 处）" in page and "鼓楼区（17 处）" in page and "台江区（7 处）" in page
    assert page.count('<li><a href="/catalog/guide/') == 12  # six under each district
    assert f"/catalog/guide/{dibao.code}/?district={TAIJIANG}" in page
    one = client.get(f"/catalog/guide/{dibao.code}/", {"district": TAIJIANG}).content.decode()
    assert "台江区（7 处）" in one and one.count('<li><a href="/catalog/guide/') == 7
    near = client.get(f"/catalog/guide/{dibao.code}/", {"lng": "119.40", "lat": "26.08"}).content.decode()
    assert "离您最近的 10 处" in near and "测试场所10" in near and "约 0 米" in near


def test_the_site_list_json_from_rows_is_what_the_instances_gave(client, dibao, make_standard, item_at, sites):
    window = sites["gudong"].windows.get(number="2")
    item_at(dibao, "gudong", window=window, promise_kind="immediate", promised_limit_days=0)
    item_at(make_standard("残疾人证办理", dept="残联"), "gudong", visits_needed=0)
    expected = []
    for it in selectors.site_items(site=sites["gudong"]):
        si = it.standard_item
        expected.append({
            "code": si.code, "implementation_code": it.implementation_code, "name": si.name,
            "department": si.competent_department.name, "item_type": si.get_item_type_display(),
            "promise_kind": it.get_promise_kind_display(), "mode": it.get_mode_display(),
            "legal_limit_days": si.legal_limit_days, "promised_limit_days": it.promised_limit_days,
            "visits_needed": it.visits_needed,
            "window": f"{it.window.number}号窗口 {it.window.name}" if it.window_id else "",
            "url": f"/catalog/guide/{it.implementation_code}/"})
    data = client.get("/api/v1/guides/sites/C-GUDONG").json()
    assert data["items"] == expected and len(expected) == 2
    assert data["items"][0]["window"] == "2号窗口 社会事务" or data["items"][1]["window"] == "2号窗口 社会事务"


def test_places_leave_out_inactive_sites_and_items(dibao, many_places):
    from bianmin.regions.models import ServiceSite

    ServiceSite.objects.filter(code="P-00").update(active=False)
    many_places[-1].active = False
    many_places[-1].save()
    places = selectors.standard_places(standard_item=dibao, limit=500)
    assert places.total == 22 and "P-00" not in {p["site_code"] for p in places.rows}
