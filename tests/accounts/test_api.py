"""/api/v1/whoami…: staff session or API key. Keys: none → 401, revoked → 401, another site's
record → 404; last use recorded."""

import pytest
from conftest import GUDONG, GULOU, GUXI
from django.utils import timezone

from bianmin.accounts import services
from bianmin.accounts.models import ApiKey
from bianmin.accounts.roles import Role


@pytest.fixture
def device_key(areas, gudong_site):
    key, raw = services.apikey_create(actor=None, name="鼓东评价器", kind="device", area=areas[GUDONG],
                                      site=gudong_site, scopes=["evaluations.device"])
    return key, raw


def test_no_credentials_is_401_in_chinese(client, db):
    r = client.get("/api/v1/whoami")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized" and "未认证" in r.json()["message"]


def test_unknown_key_is_401(client, db):
    assert client.get("/api/v1/whoami", HTTP_AUTHORIZATION="Bearer bm_nothing_here").status_code == 401
    assert client.get("/api/v1/whoami", HTTP_X_API_KEY="").status_code == 401


def test_key_by_either_header_and_last_use_recorded(client, device_key):
    key, raw = device_key
    assert key.last_used_at is None
    r = client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "key" and body["key"]["prefix"] == key.prefix and body["key"]["scopes"] == ["evaluations.device"]
    assert body["grants"][0]["area_code"] == GUDONG and "evaluation.device" in body["grants"][0]["capabilities"]
    assert raw not in r.content.decode()
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_ip == "203.0.113.9"
    assert client.get("/api/v1/whoami", HTTP_X_API_KEY=raw).status_code == 200


def test_last_use_written_at_most_once_a_minute(client, device_key):
    key, raw = device_key
    client.get("/api/v1/whoami", HTTP_X_API_KEY=raw)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    client.get("/api/v1/whoami", HTTP_X_API_KEY=raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timezone.timedelta(minutes=2))
    client.get("/api/v1/whoami", HTTP_X_API_KEY=raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first


def test_revoked_key_is_401(client, device_key):
    key, raw = device_key
    services.apikey_revoke(actor=None, key=key)
    assert client.get("/api/v1/whoami", HTTP_X_API_KEY=raw).status_code == 401
    assert client.get(f"/api/v1/whoami/sites/{key.site.code}", HTTP_X_API_KEY=raw).status_code == 401


def test_key_of_site_a_asking_for_site_b_is_404(client, device_key, guxi_site):
    key, raw = device_key
    own = client.get(f"/api/v1/whoami/sites/{key.site.code}", HTTP_X_API_KEY=raw)
    assert own.status_code == 200 and own.json()["area_code"] == GUDONG
    other = client.get(f"/api/v1/whoami/sites/{guxi_site.code}", HTTP_X_API_KEY=raw)
    assert other.status_code == 404 and other.json()["message"] == "未找到该记录"
    # Same answer as a site that does not exist: existence is not revealed.
    missing = client.get("/api/v1/whoami/sites/NOPE", HTTP_X_API_KEY=raw)
    assert missing.status_code == 404 and missing.json() == other.json()
    assert client.get(f"/api/v1/whoami/areas/{GUXI}", HTTP_X_API_KEY=raw).status_code == 404
    assert client.get(f"/api/v1/whoami/areas/{GUDONG}", HTTP_X_API_KEY=raw).status_code == 200


def test_staff_session_whoami(client, login, make_user):
    user = make_user(Role.DISTRICT_ADMIN, GULOU)
    login(user)
    body = client.get("/api/v1/whoami").json()
    assert body["kind"] == "user" and body["grants"][0]["role_name"] == "县（市）区管理员"
    area = client.get(f"/api/v1/whoami/areas/{GUDONG}").json()
    assert "users.manage" in area["capabilities"] and area["name"] == "鼓东街道"
    assert client.get("/api/v1/whoami/areas/350103000000").status_code == 404
    assert client.get("/api/v1/whoami/areas/abc").status_code == 404
