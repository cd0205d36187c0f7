"""Log-in: lockout after repeated failures (persisted on the user row), one message that does not
tell whether a username exists, audit of log-in, failure and log-out with the address."""

import pytest
from conftest import GUDONG, PASSWORD
from django.contrib.auth import authenticate
from django.utils import timezone

from bianmin.accounts.models import User
from bianmin.accounts.roles import Role
from bianmin.accounts.services import LOGIN_FAILED_MESSAGE
from bianmin.core.models import AuditEntry

LOGIN = "/accounts/login/"


@pytest.fixture
def clerk(make_user):
    return make_user(Role.WINDOW_CLERK, GUDONG, username="gudong_clerk")


def _post(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="192.0.2.7")


def test_login_page_is_chinese(client):
    body = client.get(LOGIN).content.decode()
    assert "工作人员登录" in body and "用户名" in body and "密码" in body


def test_successful_login_audited_with_ip_and_resets_counter(client, clerk):
    User.objects.filter(pk=clerk.pk).update(failed_logins=3)
    response = _post(client, "gudong_clerk", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/staff/"
    clerk.refresh_from_db()
    assert clerk.failed_logins == 0
    row = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN)
    assert row.actor == clerk and row.ip == "192.0.2.7"


def test_wrong_password_counts_and_is_audited(client, clerk):
    response = _post(client, "gudong_clerk", "wrong-password")
    assert response.status_code == 200
    assert LOGIN_FAILED_MESSAGE in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.failed_logins == 1 and clerk.locked_until is None
    row = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN_FAILED)
    assert row.ip == "192.0.2.7" and row.target_id == str(clerk.pk) and row.changes["reason"] == "wrong_password"
    assert "wrong-password" not in str(row.changes)


def test_lockout_after_n_failures_even_with_right_password(client, clerk, settings):
    settings.BIANMIN_LOCKOUT_ATTEMPTS = 3
    settings.BIANMIN_LOCKOUT_MINUTES = 30
    for _ in range(3):
        _post(client, "gudong_clerk", "wrong-password")
    clerk.refresh_from_db()
    assert clerk.is_locked()
    assert timezone.timedelta(minutes=29) < clerk.locked_until - timezone.now() <= timezone.timedelta(minutes=30)
    response = _post(client, "gudong_clerk", PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert LOGIN_FAILED_MESSAGE in response.content.decode()
    assert AuditEntry.objects.filter(action="login_failed", changes__reason="locked").count() == 1
    assert not AuditEntry.objects.filter(action="login").exists()


def test_lock_expires_and_counting_starts_afresh(client, clerk, settings):
    settings.BIANMIN_LOCKOUT_ATTEMPTS = 3
    User.objects.filter(pk=clerk.pk).update(failed_logins=3, locked_until=timezone.now() - timezone.timedelta(seconds=1))
    _post(client, "gudong_clerk", "wrong-password")
    clerk.refresh_from_db()
    assert clerk.failed_logins == 1 and clerk.locked_until is None
    assert _post(client, "gudong_clerk", PASSWORD).status_code == 302


def test_locked_and_unknown_user_get_the_same_answer(client, clerk, settings):
    settings.BIANMIN_LOCKOUT_ATTEMPTS = 1
    _post(client, "gudong_clerk", "wrong-password")
    locked = _post(client, "gudong_clerk", PASSWORD).content.decode()
    unknown = _post(client, "no_such_user", PASSWORD).content.decode()
    wrong = _post(client, "gudong_clerk", "x").content.decode()
    for body in (locked, unknown, wrong):
        assert LOGIN_FAILED_MESSAGE in body
    assert "锁定至" not in locked and "不存在" not in unknown
    row = AuditEntry.objects.get(changes__reason="unknown_user")
    assert row.actor_label == "no_such_user" and row.target_id == ""


def test_lockout_is_persisted_on_the_row_so_other_processes_see_it(clerk, settings):
    """Another server process shares only the database: a fresh authenticate() after the
    lock, with a user object loaded anew, still refuses."""
    settings.BIANMIN_LOCKOUT_ATTEMPTS = 2
    assert authenticate(None, username="gudong_clerk", password="a") is None
    assert authenticate(None, username="gudong_clerk", password="b") is None
    assert User.objects.get(pk=clerk.pk).locked_until is not None
    assert authenticate(None, username="gudong_clerk", password=PASSWORD) is None


def test_admin_login_goes_through_the_lockout(client, make_user, settings):
    settings.BIANMIN_LOCKOUT_ATTEMPTS = 2
    admin = make_user(Role.CITY_ADMIN, "350100000000", username="boss", is_staff=True, is_superuser=True)
    for _ in range(2):
        client.post("/admin/login/", {"username": "boss", "password": "nope"})
    admin.refresh_from_db()
    assert admin.is_locked()
    client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_logout_audited(client, clerk):
    _post(client, "gudong_clerk", PASSWORD)
    response = client.post("/accounts/logout/", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 302
    row = AuditEntry.objects.get(action=AuditEntry.Action.LOGOUT)
    assert row.actor == clerk and row.changes == {"reason": "user"} and row.ip == "192.0.2.7"


def test_inactive_user_cannot_log_in(client, clerk):
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    response = _post(client, "gudong_clerk", PASSWORD)
    assert response.status_code == 200 and LOGIN_FAILED_MESSAGE in response.content.decode()


def test_empty_form_is_chinese(client):
    body = client.post(LOGIN, {"username": "", "password": ""}).content.decode()
    assert "这个字段是必填项" in body or "必填" in body


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted(settings):
    """Four servers failing the same account at once: with the row locked while counting, no
    failure is lost (a read-then-write counter could end at 1 instead of 4)."""
    import threading

    from django.db import connection

    settings.BIANMIN_LOCKOUT_ATTEMPTS = 4
    user = User(username="racer")
    user.set_password(PASSWORD)
    user.save()
    barrier = threading.Barrier(4)
    errors = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            authenticate(None, username="racer", password="wrong")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    user.refresh_from_db()
    assert user.failed_logins == 4 and user.is_locked()
    assert AuditEntry.objects.filter(action="login_failed", target_id=str(user.pk)).count() == 4
