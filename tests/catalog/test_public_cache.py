"""Public reads come from the page cache (core/pagecache.py) and are never stale: a publish, a
stationing change, a site edit and a catalog import show on the very next request, also when
the answer was cached by another worker (two separate caches stand for two app servers)."""

import gzip

import pytest
from django.core.cache import caches
from django.test import Client

from bianmin.catalog import services
from bianmin.catalog.xlsx import HEADERS, import_catalog
from bianmin.core import pagecache


@pytest.fixture
def item(dibao, item_at):
    return item_at(dibao, promised_limit_days=10, window=None)


@pytest.fixture
def worker(settings):
    """worker("a") makes the "pages" alias another process's in-memory cache (its own LocMem)."""
    seen = set()

    def _use(name: str):
        settings.CACHES = {**settings.CACHES, "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                          "LOCATION": f"test-worker-{name}"}}
        if name not in seen:
            caches["pages"].clear()
            seen.add(name)
        return caches["pages"]

    return _use


def _page(client, url, **headers) -> str:
    resp = client.get(url, **headers)
    assert resp.status_code == 200
    return resp.content.decode()


def test_the_second_read_comes_from_the_cache(client, item, django_assert_max_num_queries):
    url = f"/catalog/guide/{item.implementation_code}/"
    first = _page(client, url)
    with django_assert_max_num_queries(1):  # the content versions only
        again = _page(client, url)
    assert again == first


def test_a_publish_shows_on_the_next_request(client, item):
    url = f"/api/v1/guides/{item.implementation_code}"
    assert client.get(url).json()["published_version"] == 0
    page = _page(client, f"/catalog/guide/{item.implementation_code}/")
    assert "第1版" not in page
    services.item_update(actor=None, item=item, changes={"hours": "周六上午 9:00-12:00"})
    services.item_publish(actor=None, item=item, note="增加周六办理")
    data = client.get(url).json()
    assert data["published_version"] == 1 and data["hours"] == "周六上午 9:00-12:00"
    page = _page(client, f"/catalog/guide/{item.implementation_code}/")
    assert "第1版" in page and "周六上午 9:00-12:00" in page


def test_a_stationing_change_shows_on_the_next_request(client, item, depts, sites):
    url = "/catalog/site/C-GUDONG/"
    assert "福州市公安局" not in _page(client, url)
    st = services.stationing_create(actor=None, department=depts["户籍"], site=sites["gudong"],
                                    window=sites["gudong"].windows.get(number="2"))
    assert "进驻部门：福州市公安局（2号窗口）" in _page(client, url)
    services.stationing_update(actor=None, stationing=st, changes={"active": False})
    assert "福州市公安局" not in _page(client, url)
    # an item no longer offered at the site leaves its list and JSON at once
    api = "/api/v1/guides/sites/C-GUDONG"
    assert client.get(api).json()["count"] == 1
    services.item_update(actor=None, item=item, changes={"active": False})
    assert client.get(api).json()["count"] == 0
    assert "最低生活保障对象认定" not in _page(client, url)


def test_a_site_edit_shows_on_the_next_request(client, item, sites):
    from bianmin.regions.services import site_update

    guide = f"/catalog/guide/{item.implementation_code}/"
    assert "鼓东路1号" in _page(client, guide)
    assert client.get("/api/v1/sites/C-GUDONG").json()["address"] == "鼓东路1号"
    site_update(actor=None, site=sites["gudong"], address="鼓东路99号")
    assert "鼓东路99号" in _page(client, guide)
    assert client.get("/api/v1/sites/C-GUDONG").json()["address"] == "鼓东路99号"
    assert "鼓东路99号" in _page(client, "/regions/sites/C-GUDONG/")


def _book(rows) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(code, name, days):
    return [code, name, "", "行政给付", "主项", "", "", "D-民政", "乡镇人民政府（街道办事处）", "《某条例》", "自然人", "条件",
            "流程", "", days, "不收费", "", "否", "否", "乡镇,村", "居民身份证:A"]


def test_a_catalog_import_shows_on_the_next_request(client, item, dibao):
    search = "/api/v1/guides/search?q=" + "高龄津贴"
    assert client.get(search).json()["count"] == 0
    standard = f"/api/v1/guides/{dibao.code}"
    assert client.get(standard).json()["legal_limit_days"] == 30
    import_catalog(actor=None, data=_book([_row("N-GAOLING", "高龄津贴申领", 15),
                                           _row(dibao.code, dibao.name, 25)]))
    found = client.get(search).json()
    assert [i["code"] for i in found["items"]] == ["N-GAOLING"]
    assert client.get(standard).json()["legal_limit_days"] == 25
    assert "25 个工作日" in _page(client, f"/catalog/guide/{item.implementation_code}/")


def test_two_workers_each_with_their_own_cache_both_see_a_change(item, worker):
    url = f"/catalog/guide/{item.implementation_code}/"
    a, b = Client(), Client()
    cache_a = worker("a")
    assert "周日全天" not in _page(a, url)
    cache_b = worker("b")
    assert "周日全天" not in _page(b, url)
    assert cache_a is not cache_b
    services.item_update(actor=None, item=item, changes={"hours": "周日全天"})
    worker("a")
    assert "周日全天" in _page(a, url)
    worker("b")
    assert "周日全天" in _page(b, url)


def test_a_conditional_get_gets_304_until_the_content_changes(client, item):
    for url in (f"/catalog/guide/{item.implementation_code}/", f"/api/v1/guides/{item.implementation_code}",
                "/api/v1/guides/search?q=低保", "/catalog/site/C-GUDONG/", "/api/v1/sites/C-GUDONG"):
        first = client.get(url)
        etag, modified = first["ETag"], first["Last-Modified"]
        assert first["Cache-Control"] == "public, no-cache"
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    services.item_update(actor=None, item=item, changes={"notes": "请提前预约"})
    again = client.get(f"/catalog/guide/{item.implementation_code}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag


def test_a_change_rolled_back_moves_nothing(item):
    from django.db import transaction

    before = pagecache.version_of(pagecache.CATALOG)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.item_update(actor=None, item=item, changes={"notes": "不会保存"})
        raise RuntimeError
    assert pagecache.version_of(pagecache.CATALOG) == before
    services.item_update(actor=None, item=item, changes={"notes": "保存"})
    assert pagecache.version_of(pagecache.CATALOG) == before + 1


def test_gzip_for_clients_that_accept_it(client, item):
    url = f"/catalog/guide/{item.implementation_code}/"
    plain = client.get(url)
    for _ in range(2):  # built, then from the cache
        packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
        assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
        assert gzip.decompress(packed.content) == plain.content
    assert not plain.has_header("Content-Encoding")


def test_a_logged_in_reader_gets_their_own_page(client, item, make_user, login):
    from conftest import GUDONG

    url = f"/catalog/guide/{item.implementation_code}/"
    assert "工作人员登录" in _page(client, url)  # cached for the public
    user = make_user("center_manager", GUDONG, display_name="张主任")
    login(user)
    page = _page(client, url)
    assert "工作人员登录" not in page and "退出" in page
    assert "工作人员登录" in _page(Client(), url)  # and the public copy is still the public one


def test_bad_input_is_not_cached_and_keeps_its_error(client, item):
    resp = client.get("/api/v1/guides/search", {"q": ""})
    assert resp.status_code == 422 and resp.json()["field"] == "q" and not resp.has_header("ETag")
    assert client.get("/api/v1/guides/NOPE").status_code == 404
    assert client.get("/api/v1/guides/NOPE").json()["message"] == "事项“NOPE”不存在"


def test_guide_pages_follow_the_policies_feed():
    from bianmin.catalog.extensions import guide_namespaces

    assert pagecache.POLICIES in guide_namespaces()
