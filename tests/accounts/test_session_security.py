"""Inactivity time-out and forced password change."""

import pytest
from conftest import GUDONG, PASSWORD
from django.utils import timezone

from bianmin.accounts.middleware import now_seconds
from bianmin.accounts.models import User
from bianmin.accounts.roles import Role
from bianmin.core.models import AuditEntry


@pytest.fixture
def clerk(make_user):
    return make_user(Role.WINDOW_CLERK, GUDONG, username="gudong_clerk")


def _idle(client, seconds):
    """Move the session's last request into the past instead of waiting."""
    session = client.session
    session["last_seen"] = now_seconds() - seconds
    session.save()


def test_idle_session_is_logged_out_with_a_chinese_notice(client, login, clerk, settings):
    settings.BIANMIN_IDLE_TIMEOUT_MINUTES = 30
    login(clerk)
    assert client.get("/staff/").status_code == 200
    _idle(client, 31 * 60)
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    page = client.get(response["Location"]).content.decode()
    assert "由于长时间未操作，您已退出登录" in page
    # Shown once only.
    assert "由于长时间未操作" not in client.get("/accounts/login/").content.decode()
    assert AuditEntry.objects.filter(action="logout", changes__reason="timeout", actor=clerk).count() == 1


def test_activity_within_the_limit_keeps_the_session(client, login, clerk, settings):
    settings.BIANMIN_IDLE_TIMEOUT_MINUTES = 30
    login(clerk)
    _idle(client, 29 * 60)
    assert client.get("/staff/").status_code == 200
    # The request refreshed the clock: another 29 minutes later the user is still in.
    assert client.session["last_seen"] >= now_seconds() - 5
    _idle(client, 29 * 60)
    assert client.get("/staff/").status_code == 200


def test_expired_password_forces_the_change_page(client, login, clerk, settings):
    settings.BIANMIN_PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(pk=clerk.pk).update(password_changed_at=timezone.now() - timezone.timedelta(days=91))
    login(clerk)
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    page = client.get("/accounts/password/").content.decode()
    assert "密码已过期" in page
    api = client.get("/api/v1/whoami")
    assert api.status_code == 403 and api.json()["code"] == "password_expired"
    bad = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password": "short", "new_password2": "short"})
    assert bad.status_code == 422 and "密码过短" in bad.content.decode()
    ok = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password": "Fuzhou-2026-ok",
                                               "new_password2": "Fuzhou-2026-ok"})
    assert ok.status_code == 302 and ok["Location"] == "/staff/"
    # Still logged in after the change (session hash updated), and free to go.
    assert client.get("/staff/").status_code == 200


def test_password_change_mismatch_and_wrong_old(client, login, clerk):
    login(clerk)
    r = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password": "Fuzhou-2026-ok",
                                              "new_password2": "Fuzhou-2026-no"})
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.content.decode()
    r = client.post("/accounts/password/", {"old_password": "nope", "new_password": "Fuzhou-2026-ok",
                                              "new_password2": "Fuzhou-2026-ok"})
    assert r.status_code == 422 and "原密码不正确" in r.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(PASSWORD)


def test_must_change_password_after_admin_reset(client, login, clerk):
    User.objects.filter(pk=clerk.pk).update(must_change_password=True)
    login(clerk)
    assert client.get("/staff/")["Location"] == "/accounts/password/"
