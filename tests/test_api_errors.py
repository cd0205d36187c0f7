"""One error contract: every API error is {code, message (Chinese), field} with its status, also
the refusals ninja and Django make before a view runs (a body that is not JSON, not UTF-8 or a
form; a missing CSRF token; an over-long multipart file name; no such route)."""

from __future__ import annotations

import re

import pytest
from conftest import CITY
from django.test import Client

CHINESE = re.compile("[\u4e00-\u9fff]")


def _is_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.content[:200])
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == code and CHINESE.search(body["message"]) and "field" in body
    return body


@pytest.fixture
def staff(client, make_user):
    client.force_login(make_user("city_admin", CITY))
    return client


@pytest.mark.parametrize("body,content_type", [
    (b"{not json", "application/json"),
    ("{\"text\": \"中文\"}".encode("gbk"), "application/json"),
    (b"text=hello&x=1", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_json_is_a_chinese_400(staff, body, content_type):
    r = staff.post("/api/v1/appeals/SQ1/notes", body, content_type=content_type)
    message = _is_error(r, 400, "malformed")["message"]
    assert "Cannot parse" not in message


def test_a_missing_csrf_token_is_a_chinese_403(make_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_user("city_admin", CITY))
    r = browser.post("/api/v1/appeals/SQ1/notes", {"text": "x"}, content_type="application/json")
    assert "CSRF" in _is_error(r, 403, "csrf_failed")["message"]


def test_an_over_long_multipart_file_name_is_a_json_400(staff):
    boundary = "BoUnDaRy"
    name = "长" * 5000 + ".xlsx"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\nabc\r\n--{boundary}--\r\n").encode()
    r = staff.post("/api/v1/catalog/import", body, content_type=f"multipart/form-data; boundary={boundary}")
    _is_error(r, 400, "malformed")


def test_no_such_route_under_the_api_is_a_json_404(client, db):
    _is_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    _is_error(client.get("/api/v1/evaluations/-1"), 404, "not_found")
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and "页面不存在" in page.content.decode()


def test_a_page_without_its_csrf_token_is_a_chinese_page(db):
    r = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})
    assert r.status_code == 403 and "安全校验未通过" in r.content.decode()
