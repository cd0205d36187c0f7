"""The catalog API: public guides and search, staff writes with the error statuses of the issue."""

import pytest
from conftest import CITY, GUDONG, GUXI
from django.test import Client

from bianmin.catalog.models import Item, StandardItem, UnmappedCode


@pytest.fixture
def published(dibao, item_at):
    from bianmin.catalog.services import item_publish

    item = item_at(dibao, promised_limit_days=10)
    item_publish(actor=None, item=item)
    return item


def test_public_guide_by_implementation_code_and_by_code_at_site(client, published):
    resp = client.get(f"/api/v1/guides/{published.implementation_code}")
    assert resp.status_code == 200
    data = resp.json()
    assert data["name"] == "最低生活保障对象认定" and data["promised_limit_days"] == 10 and data["legal_limit_days"] == 30
    assert data["materials"][0]["trust_level"] == "A" and data["published_version"] == 1
    assert "最低生活保障" in resp.content.decode("utf-8")  # Chinese not escaped
    resp = client.get(f"/api/v1/guides/{published.standard_item.code}?site=C-GUDONG")
    assert resp.json()["implementation_code"] == published.implementation_code
    shared = client.get(f"/api/v1/guides/{published.standard_item.code}").json()
    assert shared["implementations"][0]["site_code"] == "C-GUDONG"


def test_unknown_item_or_site_is_404(client, published):
    for url in ["/api/v1/guides/NOPE", f"/api/v1/guides/{published.standard_item.code}?site=NOPE",
                "/api/v1/guides/sites/NOPE", "/api/v1/guides/sites/NOPE/export", "/api/v1/guides/NOPE/versions"]:
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert resp.json()["code"] == "not_found" and resp.json()["message"]


def test_classified_and_inactive_items_are_not_public(client, dibao, item_at):
    from bianmin.catalog.services import item_update, standard_item_update

    item = item_at(dibao, promised_limit_days=10)
    standard_item_update(actor=None, standard_item=dibao, changes={"is_classified": True})
    assert client.get(f"/api/v1/guides/{item.implementation_code}").status_code == 404
    standard_item_update(actor=None, standard_item=dibao, changes={"is_classified": False})
    item_update(actor=None, item=item, changes={"active": False})
    assert client.get(f"/api/v1/guides/{item.implementation_code}").status_code == 404
    assert client.get("/api/v1/guides/sites/C-GUDONG").json()["count"] == 0


def test_site_list_and_provincial_export(client, published):
    from bianmin.catalog.services import mapping_create

    mapping_create(actor=None, system="provincial_hall", external_code="FJ-DB", standard_item=published.standard_item)
    data = client.get("/api/v1/guides/sites/C-GUDONG").json()
    assert data["count"] == 1 and data["items"][0]["implementation_code"] == published.implementation_code
    export = client.get("/api/v1/guides/sites/C-GUDONG/export").json()
    assert export["format"] == "bianmin-site-items/1"
    assert export["items"][0]["mappings"] == {"provincial_hall": "FJ-DB"}
    assert export["items"][0]["acceptance_conditions"]


def test_versions_and_compare(client, published):
    from bianmin.catalog.services import item_publish, item_update

    item_update(actor=None, item=published, changes={"hours": "全天"})
    item_publish(actor=None, item=published)
    versions = client.get(f"/api/v1/guides/{published.implementation_code}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    diff = client.get(f"/api/v1/guides/{published.implementation_code}/compare?a=1&b=2").json()
    assert {"field": "hours", "label": "办理时间", "old": "周一至周五 8:30-17:30", "new": "全天"} in diff
    assert client.get(f"/api/v1/guides/{published.implementation_code}/compare?a=9").status_code == 404
    assert client.get(f"/api/v1/guides/{published.implementation_code}/compare?a=x").status_code == 422


def test_search_endpoint(client, published):
    resp = client.get("/api/v1/guides/search", {"q": "低保", "area": GUDONG})
    assert resp.status_code == 200
    data = resp.json()
    assert data["items"][0]["name"] == "最低生活保障对象认定" and data["items"][0]["where"][0]["site_code"] == "C-GUDONG"
    assert client.get("/api/v1/guides/search", {"q": "低保", "area": GUXI}).json()["count"] == 0
    assert client.get("/api/v1/guides/search", {"q": ""}).status_code == 422
    assert client.get("/api/v1/guides/search").status_code == 422
    assert client.get("/api/v1/guides/search", {"q": "低保", "area": "999999"}).status_code == 404
    assert client.get("/api/v1/guides/search", {"q": "低保", "limit": 1000}).status_code == 422


def _admin(make_user):
    c = Client()
    c.force_login(make_user("city_admin", CITY))
    return c


def _body(**over):
    body = {"code": "NEW1", "name": "新事项", "item_type": "benefit", "department_code": "D-民政",
            "implementing_body": "乡镇人民政府（街道办事处）", "legal_limit_days": 10,
            "materials": [{"name": "居民身份证", "trust_level": "A"}]}
    body.update(over)
    return body


def test_standard_item_create_duplicate_and_bad_input(make_user, depts, dibao):
    c = _admin(make_user)
    assert c.post("/api/v1/catalog/standard-items", _body(), content_type="application/json").status_code == 201
    resp = c.post("/api/v1/catalog/standard-items", _body(), content_type="application/json")
    assert resp.status_code == 409 and "已存在" in resp.json()["message"]
    resp = c.post("/api/v1/catalog/standard-items", _body(code="NEW2", item_type="nope"), content_type="application/json")
    assert resp.status_code == 422 and resp.json()["field"] == "item_type"
    resp = c.post("/api/v1/catalog/standard-items", _body(code="NEW3", department_code="X"), content_type="application/json")
    assert resp.status_code == 404
    resp = c.post("/api/v1/catalog/standard-items", "{bad json", content_type="application/json")
    assert resp.status_code == 400
    assert not StandardItem.objects.filter(code__in=["NEW2", "NEW3"]).exists()
    resp = Client().post("/api/v1/catalog/standard-items", _body(code="NEW4"), content_type="application/json")
    assert resp.status_code == 401


def test_item_create_and_edit_through_the_api(make_user, dibao, sites):
    mgr = Client()
    mgr.force_login(make_user("center_manager", GUDONG))
    resp = mgr.post("/api/v1/catalog/items", {"code": dibao.code, "site_code": "C-GUDONG", "promised_limit_days": 31},
                    content_type="application/json")
    assert resp.status_code == 422 and "法定时限" in resp.json()["message"]
    assert not Item.objects.exists()
    resp = mgr.post("/api/v1/catalog/items", {"code": dibao.code, "site_code": "C-GUDONG", "promised_limit_days": 10,
                                              "window_number": "2"}, content_type="application/json")
    assert resp.status_code == 201
    item_id = resp.json()["id"]
    resp = mgr.post("/api/v1/catalog/items", {"code": dibao.code, "site_code": "C-GUDONG"}, content_type="application/json")
    assert resp.status_code == 409
    resp = mgr.patch(f"/api/v1/catalog/items/{item_id}", {"changes": {"acceptance_conditions": "本地改"}},
                     content_type="application/json")
    assert resp.status_code == 422 and "共享要素" in resp.json()["message"] and resp.json()["code"] == "shared_element"
    resp = mgr.patch(f"/api/v1/catalog/items/{item_id}", {"changes": {"promised_limit_days": 40}},
                     content_type="application/json")
    assert resp.status_code == 422
    resp = mgr.patch(f"/api/v1/catalog/items/{item_id}", {"changes": {"promised_limit_days": 5, "hours": "周末"}},
                     content_type="application/json")
    assert resp.status_code == 200 and resp.json()["promised_limit_days"] == 5
    assert mgr.post(f"/api/v1/catalog/items/{item_id}/publish", {"note": "x"}, content_type="application/json").status_code == 201
    # unknown site / item → 404
    assert mgr.post("/api/v1/catalog/items", {"code": dibao.code, "site_code": "NOPE"},
                    content_type="application/json").status_code == 404
    assert mgr.post("/api/v1/catalog/items", {"code": "NOPE", "site_code": "C-GUDONG"},
                    content_type="application/json").status_code == 404
    assert mgr.patch("/api/v1/catalog/items/999999", {"changes": {}}, content_type="application/json").status_code == 404


def test_sibling_township_cannot_reach_the_item(make_user, dibao, item_at):
    item = item_at(dibao, promised_limit_days=10)
    other = Client()
    other.force_login(make_user("center_manager", GUXI))
    assert other.patch(f"/api/v1/catalog/items/{item.pk}", {"changes": {"phone": "1"}},
                       content_type="application/json").status_code == 404
    assert other.post("/api/v1/catalog/items", {"code": dibao.code, "site_code": "C-GUDONG"},
                      content_type="application/json").status_code == 404
    assert other.get("/api/v1/catalog/items?site=C-GUDONG").status_code == 404
    assert other.get("/api/v1/catalog/items").json() == []
    assert other.get("/api/v1/catalog/items?offset=-5").status_code == 422
    assert other.get("/api/v1/catalog/items?limit=0").status_code == 422
    assert other.post(f"/api/v1/catalog/items/{item.pk}/publish", {}, content_type="application/json").status_code == 404
    # a center manager may not change shared elements
    resp = other.patch(f"/api/v1/catalog/standard-items/{dibao.code}", {"changes": {"fee": "x"}},
                       content_type="application/json")
    # Shared elements are edited at the city (CATALOG_EDIT there): the city lies outside a
    # township's scope, so the scope rule answers 404 (core.scoping.require).
    assert resp.status_code == 404


def test_standard_item_patch_versions_up(make_user, dibao):
    c = _admin(make_user)
    resp = c.patch(f"/api/v1/catalog/standard-items/{dibao.code}", {"changes": {"fee": "工本费5元"}},
                   content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == 2
    resp = c.patch(f"/api/v1/catalog/standard-items/{dibao.code}", {"changes": {"legal_limit_days": -1}},
                   content_type="application/json")
    assert resp.status_code == 422


def test_mapping_resolve_reports_unmapped_codes(make_user, dibao):
    c = _admin(make_user)
    resp = c.post("/api/v1/catalog/mappings", {"system": "hotline_12345", "external_code": "12345-0001", "code": dibao.code},
                  content_type="application/json")
    assert resp.status_code == 201
    resp = c.post("/api/v1/catalog/mappings", {"system": "hotline_12345", "external_code": "12345-0001", "code": dibao.code},
                  content_type="application/json")
    assert resp.status_code == 409
    resp = c.get("/api/v1/catalog/mappings/resolve", {"system": "hotline_12345", "code": "12345-0001"})
    assert resp.json()["code"] == dibao.code
    resp = c.get("/api/v1/catalog/mappings/resolve", {"system": "hotline_12345", "code": "12345-9999", "name": "路灯"})
    assert resp.status_code == 404 and resp.json()["code"] == "unmapped"
    assert UnmappedCode.objects.filter(external_code="12345-9999", external_name="路灯").exists()
    assert c.get("/api/v1/catalog/mappings/resolve", {"system": "x", "code": "1"}).status_code == 422
    assert Client().get("/api/v1/catalog/mappings/resolve", {"system": "hotline_12345", "code": "1"}).status_code == 401


def test_stationing_api(make_user, depts, sites):
    mgr = Client()
    mgr.force_login(make_user("center_manager", GUDONG))
    body = {"department_code": "D-民政", "site_code": "C-GUDONG", "window_number": "2", "staff_count": 2, "since": "2021-03-01"}
    resp = mgr.post("/api/v1/catalog/stationings", body, content_type="application/json")
    assert resp.status_code == 201
    assert mgr.post("/api/v1/catalog/stationings", body, content_type="application/json").status_code == 409
    bad = dict(body, department_code="D-残联", since="2021-13-01")
    assert mgr.post("/api/v1/catalog/stationings", bad, content_type="application/json").status_code == 422
    sid = resp.json()["id"]
    resp = mgr.patch(f"/api/v1/catalog/stationings/{sid}", {"changes": {"keeps_separate_office": True}},
                     content_type="application/json")
    assert resp.status_code == 200 and resp.json()["keeps_separate_office"] is True
    other = Client()
    other.force_login(make_user("center_manager", GUXI))
    assert other.patch(f"/api/v1/catalog/stationings/{sid}", {"changes": {"staff_count": 9}},
                       content_type="application/json").status_code == 404
    assert other.post("/api/v1/catalog/stationings", dict(body, department_code="D-残联"),
                      content_type="application/json").status_code == 404
