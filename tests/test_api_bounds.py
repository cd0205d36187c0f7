"""Every integer and date parameter of the API (path and query), read from the OpenAPI schema so
that a new route is walked without being listed: its bounds are documented, a value just past
them is a 422 naming the parameter in Chinese, and the bounds themselves are no 500.
(page=99999999999999999999 on /cases, offset/limit of that size on /evaluations, and
date_to=9999-12-31 on the rates were 500s.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import CITY

from bianmin.api import api

SCHEMA = api.get_openapi_schema()
CHINESE = re.compile("[\u4e00-\u9fff]")


def _kind(schema: dict) -> str | None:
    for s in [schema, *schema.get("anyOf", [])]:
        if s.get("type") == "integer":
            return "integer"
        if s.get("format") == "date":
            return "date"
    return None


def _bounds(schema: dict) -> dict:
    for s in [schema, *schema.get("anyOf", [])]:
        if s.get("type") == "integer":
            return s
    return schema


def _routed(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


PARAMS = [
    (method, path, p["name"], p["in"], _kind(p["schema"]), _bounds(p["schema"]), op.get("parameters", []))
    for path, ops in SCHEMA["paths"].items() for method, op in ops.items()
    for p in op.get("parameters", []) if _kind(p["schema"])
]


def test_the_walk_covers_the_known_boundary_failures():
    seen = {(path, name) for _m, path, name, *_ in PARAMS}
    assert {("/api/v1/cases", "page"), ("/api/v1/evaluations", "offset"), ("/api/v1/evaluations", "limit"),
            ("/api/v1/figures/rates", "date_to"), ("/api/v1/cases/multi-trip", "since")} <= seen
    assert len(PARAMS) > 50


@pytest.mark.parametrize("method,path,name,where,kind,bounds,params", PARAMS,
                         ids=[f"{m.upper()} {p} {n}" for m, p, n, *_ in PARAMS])
def test_every_integer_and_date_parameter_is_bounded(client, areas, make_user, method, path, name, where, kind,
                                                      bounds, params):
    from bianmin.accounts.models import ApiKey
    from bianmin.accounts.principals import KEY_SCOPE_CAPABILITIES

    client.force_login(make_user("city_admin", CITY))
    raw = "bounds-" + "k" * 40
    ApiKey.objects.create(name="边界测试", prefix=raw[:8], digest=ApiKey.digest_of(raw), area=areas[CITY],
                          scopes=sorted(KEY_SCOPE_CAPABILITIES))

    def call(value):
        values = {}
        for p in params:  # every other parameter gets a plausible value
            k = _kind(p["schema"])
            values[p["name"]] = (1 if k == "integer" else "2026-01-01" if k == "date" else "x", p["in"])
        values[name] = (value, where)
        url = path
        for key, (v, place) in values.items():
            if place == "path":
                url = url.replace("{" + key + "}", str(v))
        query = {k: v for k, (v, place) in values.items() if place == "query"}
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        if method == "get":
            return client.get(url, QUERY_STRING=qs, HTTP_X_API_KEY=raw)
        return getattr(client, method)(url, "{}", content_type="application/json", QUERY_STRING=qs,
                                       HTTP_X_API_KEY=raw)

    if kind == "integer":
        assert "minimum" in bounds and "maximum" in bounds, "未声明取值范围"
        past = [bounds["minimum"] - 1, bounds["maximum"] + 1, 10**20]
        edges = [bounds["minimum"], bounds["maximum"]]
    else:
        past = ["0001-01-01", "9999-12-31"]
        edges = ["1900-01-01", "2999-12-31"]
    for value in past:
        r = call(value)
        if where == "path" and not _routed(r.wsgi_request.path_info):
            # A path declared with an int converter: "-1" matches no route, answered in the error shape.
            assert r.status_code == 404 and r.json()["code"] == "not_found" and CHINESE.search(r.json()["message"])
            continue
        assert r.status_code == 422, (value, r.status_code, r.content[:300])
        body = r.json()
        assert body["code"] == "invalid" and CHINESE.search(body["message"])
        assert name in {e["field"] for e in body["errors"]}
    for value in edges:
        r = call(value)
        assert r.status_code < 500, (value, r.status_code)


def test_day_range_holds_for_the_days_the_platform_uses():
    from bianmin.core.validators import EARLIEST_DAY, LATEST_DAY

    assert EARLIEST_DAY < dt.date(1950, 1, 1) and LATEST_DAY > dt.date(2200, 1, 1)
