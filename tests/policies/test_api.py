"""The open policy API: public reads, keys with their own limit, ETag and 304, the changes feed
for copy-keeping systems (withdrawals included), policies for an item, matching."""

from __future__ import annotations

import json

import pytest
from conftest import CITY, GUDONG
from django.test import Client, override_settings

from bianmin.policies import services


@pytest.fixture
def key(areas):
    from bianmin.accounts import services as accounts

    def _make(scopes=("policies.read",), *, revoked=False):
        k, raw = accounts.apikey_create(actor=None, name="政策副本系统", kind="system", area=areas[CITY], scopes=list(scopes))
        if revoked:
            accounts.apikey_revoke(actor=None, key=k)
        return k, raw

    return _make


@pytest.fixture
def policy(content, publish):
    return publish(content())


def test_one_policy_with_every_field_and_an_etag(policy, client):
    response = client.get(f"/api/v1/policies/{policy.code}")
    assert response.status_code == 200
    body = response.json()
    for field in ("category_label", "lead_department", "handling_office", "handling_phone", "valid_from", "valid_until",
                  "benefits", "conditions", "materials", "procedure", "document_number", "issuing_body", "source_url",
                  "industries", "sizes", "areas", "tags", "no_application", "attachments", "items"):
        assert field in body
    assert body["in_force"] is True and body["lead_department"]["name"] == "福州市人力资源和社会保障局"
    assert body["title"] == "2026年福州市失业保险稳岗返还" and body["no_application"] is True
    assert response["ETag"].startswith('"p') and response["Content-Type"].startswith("application/json")


def test_unchanged_answers_304_and_a_change_a_new_etag(policy, client, editors, content):
    first = client.get(f"/api/v1/policies/{policy.code}")
    again = client.get(f"/api/v1/policies/{policy.code}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    weak = client.get(f"/api/v1/policies/{policy.code}", HTTP_IF_NONE_MATCH=f'W/{first["ETag"]}, "other"')
    assert weak.status_code == 304
    draft = services.policy_revise(actor=editors["a"], policy_id=policy.pk)
    services.policy_update(actor=editors["a"], policy_id=draft.pk, data=content(benefits="中小微企业按90%返还。"))
    services.policy_submit(actor=editors["a"], policy_id=draft.pk)
    services.policy_approve(actor=editors["b"], policy_id=draft.pk)
    changed = client.get(f"/api/v1/policies/{policy.code}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed["ETag"] != first["ETag"]


def test_a_withdrawn_or_unknown_policy_is_404_in_chinese(policy, client, editors):
    services.policy_withdraw(actor=editors["a"], policy_id=policy.pk, reason="废止")
    for code in (policy.code, "no-such-code", "x" * 60):
        response = client.get(f"/api/v1/policies/{code}")
        assert response.status_code == 404 and "不存在" in response.json()["message"]


def test_a_key_with_the_scope_reads_an_unknown_key_is_refused(policy, key):
    _, raw = key()
    ok = Client().get(f"/api/v1/policies/{policy.code}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok.status_code == 200
    assert Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY=raw).status_code == 200
    bad = Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY="not-a-key")
    assert bad.status_code == 401 and bad.json()["message"] == "接口密钥无效或已吊销"
    _, revoked = key(revoked=True)
    assert Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY=revoked).status_code == 401
    _, other = key(scopes=("cases.intake",))
    refused = Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY=other)
    assert refused.status_code == 403 and "policies.read" in refused.json()["message"]


@override_settings(BIANMIN_POLICY_API_KEY_PER_MINUTE=3, BIANMIN_POLICY_API_ANON_PER_MINUTE=2)
def test_each_key_has_its_own_limit_counted_in_the_shared_counters(policy, key):
    from bianmin.core.models import RateCounter

    _, one = key()
    _, two = key()
    statuses = [Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY=one).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY=one)
    assert limited.status_code == 429 and "频繁" in limited.json()["message"] and limited.json()["retry_after"] > 0
    assert Client().get(f"/api/v1/policies/{policy.code}", HTTP_X_API_KEY=two).status_code == 200
    # Anonymous callers share a limit per address, apart from the keys.
    anonymous = [Client().get("/api/v1/policies").status_code for _ in range(3)]
    assert anonymous == [200, 200, 429]
    assert RateCounter.objects.filter(bucket__contains="policy-api:key:").count() == 2


def test_search_filters_and_list_etag(policy, client):
    response = client.get("/api/v1/policies", {"q": "稳岗补贴", "in_force": "true"})
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 1 and data["items"][0]["code"] == policy.code and data["items"][0]["in_force"] is True
    again = client.get("/api/v1/policies", {"q": "稳岗补贴", "in_force": "true"}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    other = client.get("/api/v1/policies", {"q": "稳岗"}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert other.status_code == 200  # another query, another tag


@pytest.mark.parametrize("params, field", [
    ({"category": "x"}, "category"), ({"size": "huge"}, "size"), ({"industry": "Z"}, "industry"),
    ({"department": "NOPE"}, "department"), ({"page": "0"}, "page"), ({"per_page": "500"}, "per_page"),
    ({"q": "政" * 101}, "q"), ({"in_force": "maybe"}, "in_force"),
])
def test_bad_search_parameters_are_422_in_chinese(db, client, params, field):
    response = client.get("/api/v1/policies", params)
    assert response.status_code == 422 and response.json()["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])


def test_an_unknown_area_is_404(db, client):
    assert client.get("/api/v1/policies", {"area": "999999"}).status_code == 404


def test_the_changes_feed_gives_each_code_once_withdrawals_as_deletes(content, publish, editors, client):
    a = publish(content())
    b = publish(content(title="2026年福州市一次性吸纳就业补贴"))
    first = client.get("/api/v1/policies/changes", {"since": 0})
    data = first.json()
    assert [c["code"] for c in data["changes"]] == [a.code, b.code] and data["cursor"] == 2 and not data["has_more"]
    assert data["changes"][0]["policy"]["title"] == a.title and data["changes"][0]["action"] == "upsert"
    assert client.get("/api/v1/policies/changes", {"since": 0}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.policy_withdraw(actor=editors["a"], policy_id=a.pk, reason="废止")
    revision = services.policy_revise(actor=editors["a"], policy_id=b.pk)
    services.policy_submit(actor=editors["a"], policy_id=revision.pk)
    services.policy_approve(actor=editors["b"], policy_id=revision.pk)
    later = client.get("/api/v1/policies/changes", {"since": 2}).json()
    assert [(c["code"], c["action"], c["reason"]) for c in later["changes"]] == [
        (a.code, "delete", "withdrawn"), (b.code, "upsert", "revised")]
    assert later["changes"][0]["policy"] is None and later["changes"][1]["policy"]["version"] == 2
    # From the start, each code appears once, at its latest change.
    everything = client.get("/api/v1/policies/changes", {"since": 0}).json()
    assert [(c["code"], c["seq"]) for c in everything["changes"]] == [(a.code, 3), (b.code, 4)]
    assert everything["cursor"] == 4


def test_the_changes_feed_pages_with_has_more(content, publish, client):
    codes = [publish(content(title=f"政策{i}")).code for i in range(3)]
    page = client.get("/api/v1/policies/changes", {"since": 0, "limit": 2}).json()
    assert page["has_more"] and [c["code"] for c in page["changes"]] == codes[:2]
    rest = client.get("/api/v1/policies/changes", {"since": page["cursor"], "limit": 2}).json()
    assert not rest["has_more"] and [c["code"] for c in rest["changes"]] == codes[2:]
    assert client.get("/api/v1/policies/changes", {"since": -1}).status_code == 422


def test_policies_for_an_item_by_item_code_or_guide_code(content, publish, areas, pdepts):
    from bianmin.catalog.services import item_create, standard_item_create
    from bianmin.regions.models import ServiceSite

    si = standard_item_create(actor=None, code="350108004000", name="创业担保贷款申请受理", item_type="benefit",
                              competent_department=pdepts["rsj"], implementing_body="街道", legal_limit_days=15,
                              materials=[{"name": "居民身份证", "trust_level": "A"}])
    site = ServiceSite.objects.create(code="C-GD", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG])
    item = item_create(actor=None, standard_item=si, area=site.area, site=site, promised_limit_days=5)
    policy = publish(content(title="福州市创业担保贷款及贴息", aliases="创业贷", items=[si]))
    publish(content(title="无关政策"))
    client = Client()
    for code in (si.code, item.implementation_code):
        data = client.get(f"/api/v1/policies/by-item/{code}").json()
        assert data["item"]["name"] == "创业担保贷款申请受理" and [p["code"] for p in data["items"]] == [policy.code]
    assert client.get("/api/v1/policies/by-item/nope").status_code == 404
    detail = client.get(f"/api/v1/policies/{policy.code}").json()
    assert detail["items"] == [{"code": si.code, "name": si.name, "url": f"/catalog/guide/{si.code}/"}]


def test_match_gives_reasons_and_warns_of_a_pilot_code(policy, client):
    from bianmin.core.validators import CREDIT_CHARSET, make_credit_code

    good = make_credit_code("350102", 42)
    pilot = good[:17] + next(c for c in CREDIT_CHARSET if c != good[17])
    response = client.post("/api/v1/policies/match", data=json.dumps(
        {"credit_code": pilot, "industry": "65", "size": "micro", "area_code": GUDONG}), content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["warnings"] and "试点代码" in data["warnings"][0]
    match = data["matches"][0]
    assert match["policy"]["code"] == policy.code and match["eligible"] is True
    assert {c["key"] for c in match["conditions"]} == {"industry", "size", "area", "age", "tags"}
    bad = client.post("/api/v1/policies/match", data=json.dumps({"credit_code": "123"}), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "credit_code"
    section = client.post("/api/v1/policies/match", data=json.dumps({"industry": "C"}), content_type="application/json")
    assert section.status_code == 422 and section.json()["field"] == "industry"


def test_filters_route_lists_choices(policy, client):
    data = client.get("/api/v1/policies/filters").json()
    assert {"value": "employment", "label": "稳岗就业"} in data["categories"]
    assert {"value": "C", "label": "制造业"} in data["industries"] and len(data["industries"]) == 117
    assert [d["value"] for d in data["departments"]] == ["P-RSJ"]


def test_openapi_documents_the_routes_with_unique_schema_names(db, client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/policies/{code}" in schema["paths"] and "/api/v1/policies/changes" in schema["paths"]
    ours = [name for name in schema["components"]["schemas"] if name.startswith("Policy")]
    assert {"PolicyOut", "PolicyListOut", "PolicyChangesOut", "PolicyMatchOut", "PolicyErrorOut"} <= set(ours)
    responses = schema["paths"]["/api/v1/policies/{code}"]["get"]["responses"]
    assert {"200", "304", "404", "429"} <= set(responses)
