"""Public pages (no log-in) and staff pages, read as a user would."""

import pytest
from conftest import GUDONG, GUXI
from django.test import Client

from bianmin.catalog.models import Item


@pytest.fixture
def item(dibao, item_at):
    return item_at(dibao, promised_limit_days=10, window=None)


def test_search_page(client, item):
    page = client.get("/catalog/", {"q": "低保"}).content.decode()
    assert "最低生活保障对象认定" in page and "鼓东街道便民服务中心" in page
    page = client.get("/catalog/", {"q": "低保", "area": "999"}).content.decode()
    assert "不存在" in page
    page = client.get("/catalog/", {"q": "完全不相关的话"}).content.decode()
    assert "没有找到" in page and "12345" in page


def test_guide_page_is_public_and_printable(client, item):
    resp = client.get(f"/catalog/guide/{item.implementation_code}/")
    page = resp.content.decode()
    assert resp.status_code == 200
    for text in ("受理条件", "申请材料", "居民身份证", "法定办结时限", "30 个工作日", "承诺办结时限", "10 个工作日",
                 "到现场次数", "设定依据", "《社会救助暂行办法》第九条", "打印本指南"):
        assert text in page, text
    assert "@page { size: A4" in open("src/bianmin/catalog/static/catalog/catalog.css").read()
    assert client.get("/catalog/guide/NOPE/").status_code == 404
    assert client.get(f"/catalog/guide/{item.standard_item.code}/").status_code == 200


def test_site_list_page(client, item):
    page = client.get("/catalog/site/C-GUDONG/").content.decode()
    assert "本中心可办事项清单" in page and "最低生活保障对象认定" in page and "福州市民政局" in page
    assert client.get("/catalog/site/NOPE/").status_code == 404


def test_compare_page(client, item):
    from bianmin.catalog.services import item_publish, item_update

    item_publish(actor=None, item=item)
    item_update(actor=None, item=item, changes={"promised_limit_days": 7})
    page = client.get(f"/catalog/guide/{item.implementation_code}/compare/", {"a": 1}).content.decode()
    assert "承诺办结时限" in page and ">10<" in page and ">7<" in page
    assert "版本号应为整数" in client.get(f"/catalog/guide/{item.implementation_code}/compare/", {"a": "x"}).content.decode()


def test_staff_pages_need_log_in(client, item):
    resp = client.get("/catalog/staff/")
    assert resp.status_code == 302 and "/accounts/login" in resp["Location"]


def test_staff_item_edit_in_scope(item, make_user):
    mgr = Client()
    mgr.force_login(make_user("center_manager", GUDONG))
    page = mgr.get("/catalog/staff/").content.decode()
    assert "鼓东街道便民服务中心" in page and "鼓西街道便民服务中心" not in page
    assert "最低生活保障对象认定" in mgr.get("/catalog/staff/site/C-GUDONG/").content.decode()
    form = {"address": "新地址", "phone": "0591-1", "complaint_phone": "", "hours": "", "promised_limit_days": "31",
            "visits_needed": "1", "notes": "", "promise_kind": "promised", "mode": "on_the_spot", "stationed": "on",
            "active": "on", "implementing_body_name": "鼓东街道办事处"}
    resp = mgr.post(f"/catalog/staff/item/{item.pk}/", form)
    assert resp.status_code == 422 and "不能超过法定时限" in resp.content.decode()
    item.refresh_from_db()
    assert item.promised_limit_days == 10 and item.address == ""
    resp = mgr.post(f"/catalog/staff/item/{item.pk}/", dict(form, promised_limit_days="8"))
    assert resp.status_code == 302
    item.refresh_from_db()
    assert (item.promised_limit_days, item.address) == (8, "新地址")
    resp = mgr.post(f"/catalog/staff/item/{item.pk}/", {"action": "publish", "note": "调整"})
    assert resp.status_code == 302 and item.guide_versions.count() == 1
    resp = mgr.post(f"/catalog/staff/item/{item.pk}/", dict(form, promised_limit_days="abc"))
    assert resp.status_code == 422


def test_staff_cannot_reach_a_sibling_township(item, make_user):
    other = Client()
    other.force_login(make_user("center_manager", GUXI))
    assert other.get(f"/catalog/staff/item/{item.pk}/").status_code == 404
    assert other.post(f"/catalog/staff/item/{item.pk}/", {"promised_limit_days": "1"}).status_code == 404
    assert other.get("/catalog/staff/site/C-GUDONG/").status_code == 404
    assert other.post("/catalog/staff/site/C-GUDONG/stationing/", {"department": "1"}).status_code == 404
    assert Item.objects.get(pk=item.pk).promised_limit_days == 10


def test_staff_stationing_form(item, make_user, depts, sites):
    mgr = Client()
    mgr.force_login(make_user("center_manager", GUDONG))
    resp = mgr.post("/catalog/staff/site/C-GUDONG/stationing/", {"department": depts["民政"].pk, "staff_count": "2",
                                                                  "since": "2021-03-01"})
    assert resp.status_code == 302
    st = sites["gudong"].stationings.get()
    assert st.staff_count == 2
    resp = mgr.post("/catalog/staff/site/C-GUDONG/stationing/", {"stationing": st.pk, "staff_count": "x"}, follow=True)
    assert "进驻人数应为非负整数" in resp.content.decode()
    resp = mgr.post("/catalog/staff/site/C-GUDONG/stationing/", {"stationing": st.pk, "staff_count": "3", "active": "on",
                                                                  "keeps_separate_office": "on"})
    st.refresh_from_db()
    assert st.staff_count == 3 and st.keeps_separate_office


def test_export_and_template_downloads(item, make_user):
    from conftest import CITY

    admin = Client()
    admin.force_login(make_user("city_admin", CITY))
    assert admin.get("/catalog/staff/import/").status_code == 200
    assert admin.get("/catalog/staff/export/")["Content-Type"].startswith("application/vnd.openxmlformats")
    assert admin.get("/catalog/staff/export/?template=1").status_code == 200
