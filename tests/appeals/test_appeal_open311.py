"""Open311 GeoReport v2: the standard's endpoints, formats and error shape, and a round trip
through an existing Open311 client library (georeport) against a live test server."""

import xml.etree.ElementTree as ET

import pytest
import requests
from conftest import GUDONG, GULOU

from bianmin.appeals.models import Appeal, Channel


@pytest.fixture
def open311_key(areas):
    _key, raw = _create_key(areas[GULOU], ["open311"])
    return raw


def _create_key(area, scopes):
    from bianmin.accounts.models import ApiKey

    raw = f"o311_test_{area.code}_{'-'.join(scopes)}_secret_value_long_enough"
    key = ApiKey.objects.create(name="随手拍", kind="system", prefix="o311_test", digest=ApiKey.digest_of(raw),
                                area=area, scopes=scopes)
    return key, raw


def post(client, fmt="json", **data):
    return client.post(f"/open311/v2/requests.{fmt}", data=data)


GOOD = dict(service_code="complaint", lat="26.08", long="119.30", description="中山路便民服务站周末不开门",
            first_name="三", last_name="张", phone="13812345678")


def test_services_in_json_and_xml(client, db):
    body = client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in body] == ["consult", "help", "complaint", "report", "suggestion"]
    assert body[2]["service_name"] == "投诉" and body[2]["metadata"] is True
    xml = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code").text == "consult"


def test_service_definition_and_unknown_code(client, db):
    body = client.get("/open311/v2/services/complaint.json").json()
    assert body["service_code"] == "complaint" and body["attributes"][0]["code"] == "area_code"
    missing = client.get("/open311/v2/services/potholes.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "service_code“potholes”不存在"}]
    xml = client.get("/open311/v2/services/potholes.xml")
    root = ET.fromstring(xml.content)
    assert xml.status_code == 404 and root.tag == "errors" and root.find("error/code").text == "404"


def test_discovery(client, db):
    body = client.get("/open311/v2/discovery.json").json()
    assert body["endpoints"][0]["url"].endswith("/open311/v2/")
    assert "text/xml" in body["endpoints"][0]["formats"]


def test_create_lands_in_the_keys_area(client, areas, open311_key):
    response = post(client, api_key=open311_key, **GOOD, **{"attribute[area_code]": GUDONG})
    assert response.status_code == 201, response.content
    number = response.json()[0]["service_request_id"]
    appeal = Appeal.objects.get(number=number)
    assert appeal.channel == Channel.OPEN311 and appeal.area.code == GUDONG and appeal.is_public
    assert appeal.name == "张三" and appeal.lat == 26.08


@pytest.mark.parametrize("missing,status,needle", [
    ("api_key", 400, "api_key"),
    ("service_code", 400, "service_code"),
    ("description", 400, "description"),
])
def test_missing_required_fields(client, areas, open311_key, missing, status, needle):
    data = dict(GOOD, api_key=open311_key)
    data.pop(missing)
    response = post(client, **data)
    assert response.status_code == status
    errors = response.json()
    assert errors[0]["code"] == status and needle in errors[0]["description"]
    assert not Appeal.objects.exists()


def test_missing_location_unknown_code_bad_key_bad_phone(client, areas, open311_key):
    data = dict(GOOD, api_key=open311_key)
    no_location = {k: v for k, v in data.items() if k not in ("lat", "long")}
    assert post(client, **no_location).status_code == 400
    assert post(client, **dict(data, service_code="graffiti")).status_code == 404
    wrong = post(client, "xml", **dict(data, api_key="nope"))
    assert wrong.status_code == 403 and ET.fromstring(wrong.content).find("error/code").text == "403"
    bad_phone = post(client, **dict(data, phone="123"))
    assert bad_phone.status_code == 400 and "手机号码" in bad_phone.json()[0]["description"]
    outside = post(client, **dict(data, **{"attribute[area_code]": "350103001000"}))
    assert outside.status_code == 400
    assert not Appeal.objects.exists()


def test_key_without_open311_scope_is_refused(client, areas):
    _key, raw = _create_key(areas[GULOU], ["appeals.12345"])
    assert post(client, api_key=raw, **GOOD).status_code == 403


def test_list_filters_and_privacy(client, areas, open311_key, register, clerk):
    first = post(client, api_key=open311_key, **GOOD).json()[0]["service_request_id"]
    post(client, api_key=open311_key, **dict(GOOD, service_code="suggestion"))
    register(clerk)  # a phone appeal: never listed publicly
    listed = client.get("/open311/v2/requests.json").json()
    assert len(listed) == 2 and all("13812345678" not in str(r) and "张" not in str(r) for r in listed)
    assert [r["service_request_id"] for r in client.get("/open311/v2/requests.json?service_code=complaint").json()] == [first]
    assert client.get("/open311/v2/requests.json?status=closed").json() == []
    assert len(client.get("/open311/v2/requests.json?status=open").json()) == 2
    only = client.get(f"/open311/v2/requests.json?service_request_id={first}&service_code=suggestion").json()
    assert [r["service_request_id"] for r in only] == [first]  # the id overrides other filters
    assert client.get("/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2026-12-31T00:00:00Z").status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests.json?status=pending").status_code == 400
    assert client.get("/open311/v2/requests/SQ0000.json").status_code == 404


def test_html_in_description_is_escaped_in_xml(client, areas, open311_key):
    number = post(client, api_key=open311_key, **dict(GOOD, description="<script>alert(1)</script>")).json()[0]["service_request_id"]
    raw = client.get(f"/open311/v2/requests/{number}.xml").content
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw


def test_round_trip_with_georeport_client(transactional_db, areas, live_server):
    """An existing Open311 client (georeport, PyPI) reads what a spec-conformant POST created,
    in JSON and in XML. georeport cannot create requests, so the POST is a plain form post as
    the spec describes it (and as every Open311 client sends it)."""
    from georeport import GeoReport

    _key, raw = _create_key(areas[GULOU], ["open311"])
    base = f"{live_server.url}/open311/v2"
    created = requests.post(f"{base}/requests.json", data=dict(GOOD, api_key=raw), timeout=10)
    assert created.status_code == 201
    number = created.json()[0]["service_request_id"]

    for fmt in ("json", "xml"):
        client = GeoReport(base, output_format=fmt)
        services = client.get_service_list()
        assert {s["service_code"] for s in services} == {"consult", "help", "complaint", "report", "suggestion"}
        definition = client.get_service_definition("complaint")
        assert definition["service_code"] == "complaint"
        one = client.get_service_request(number)
        assert one["service_request_id"] == number and one["status"] == "open"
        assert one["description"] == GOOD["description"]
        listed = client.get_service_requests(service_code="complaint", status="open")
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is a dict
        assert [r["service_request_id"] for r in listed] == [number]

    # The reply reaches the Open311 client as status and status notes.
    from bianmin.accounts.models import RoleAssignment, User
    from bianmin.accounts.principals import principal_for_user
    from bianmin.appeals.services import appeal_assign, appeal_reply

    boss = User.objects.create(username="boss", display_name="负责人")
    RoleAssignment.objects.create(user=boss, role="center_manager", area=areas[GULOU])
    actor = principal_for_user(boss)
    appeal = Appeal.objects.get(number=number)
    appeal = appeal_assign(actor=actor, appeal=appeal, owner=boss)
    appeal_reply(actor=actor, appeal=appeal, reply="已协调周末安排值班人员")
    one = GeoReport(base).get_service_request(number)
    assert one["status"] == "closed" and "已协调周末安排值班人员" in one["status_notes"]


def test_control_characters_never_reach_the_public_feed(client, open311_key):
    """One POST with "c\\x07d\\x00e" made requests.xml no longer well-formed (and a NUL is a 500
    on PostgreSQL): the text is cleaned where it enters."""
    r = post(client, api_key=open311_key, **{**GOOD, "description": "c\x07d\x00e 中山路"})
    assert r.status_code == 201, r.content
    assert Appeal.objects.get(channel=Channel.OPEN311).content == "cde 中山路"
    feed = client.get("/open311/v2/requests.xml")
    root = ET.fromstring(feed.content)  # well-formed
    assert root.find("request/description").text == "cde 中山路"


def test_a_description_has_a_length_limit(client, open311_key):
    r = post(client, api_key=open311_key, **{**GOOD, "description": "长" * 5001})
    assert r.status_code == 400 and "5000" in r.json()[0]["description"]
    assert not Appeal.objects.exists()
