"""The Django admin (Chinese, audited, keys shown once, audit log read-only) and the staff home."""

import re

import pytest
from conftest import CITY, GUDONG, GULOU

from bianmin.accounts.menu import register
from bianmin.accounts.models import ApiKey, RoleAssignment, User
from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap
from bianmin.core.models import AuditEntry


@pytest.fixture
def superuser(make_user):
    return make_user(Role.CITY_ADMIN, CITY, username="city_admin", is_staff=True, is_superuser=True)


def test_admin_index_is_chinese(client, login, superuser):
    login(superuser)
    body = client.get("/admin/").content.decode()
    assert "便民 政务服务平台 管理后台" in body
    for label in ("用户", "角色分配", "接口密钥", "审计日志"):
        assert label in body


def test_admin_key_creation_shows_raw_key_once_and_never_the_digest(client, login, superuser, areas):
    login(superuser)
    r = client.post("/admin/accounts/apikey/add/", {
        "name": "12345 平台", "kind": "system", "area": areas[GULOU].pk, "scopes": ["appeals.12345"],
    }, follow=True)
    assert r.status_code == 200
    key = ApiKey.objects.get()
    body = r.content.decode()
    raw = re.search(r"(bm_[0-9a-f]{8}_[A-Za-z0-9_\-]+)", body).group(1)
    assert ApiKey.digest_of(raw) == key.digest and "仅显示这一次" in body
    assert key.digest not in body
    again = client.get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode()
    assert raw not in again and key.digest not in again and key.prefix in again
    assert key.digest not in client.get("/admin/accounts/apikey/").content.decode()
    assert AuditEntry.objects.filter(action="key", target_id=str(key.pk)).count() == 1


def test_admin_key_bad_input_is_refused(client, login, superuser, areas):
    login(superuser)
    r = client.post("/admin/accounts/apikey/add/", {"name": "x", "kind": "system", "area": areas[GULOU].pk, "scopes": []})
    assert r.status_code == 200 and "这个字段是必填项" in r.content.decode()
    assert not ApiKey.objects.exists()


def test_admin_revoke_action(client, login, superuser, areas):
    from bianmin.accounts import services

    key, _ = services.apikey_create(actor=None, name="k", kind="system", area=areas[GULOU], scopes=["cases.intake"])
    login(superuser)
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEntry.objects.filter(action="key", changes__op="revoke", actor=superuser).exists()


def test_admin_role_assignment_change_is_audited(client, login, superuser, make_user, areas):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)
    login(superuser)
    r = client.post("/admin/accounts/roleassignment/add/", {
        "user": clerk.pk, "role": Role.FOLLOWUP_AGENT, "area": areas[GULOU].pk, "active": "on",
    })
    assert r.status_code == 302
    assignment = RoleAssignment.objects.get(role=Role.FOLLOWUP_AGENT)
    row = AuditEntry.objects.get(target_type="accounts.roleassignment", target_id=str(assignment.pk))
    assert row.action == "create" and row.area_code == GULOU and row.actor == superuser


INLINE = {"role_assignments-TOTAL_FORMS": "0", "role_assignments-INITIAL_FORMS": "0"}


def test_admin_created_user_must_change_password(client, login, superuser):
    login(superuser)
    r = client.post("/admin/accounts/user/add/", {
        "username": "newbie", "display_name": "新人", "password1": "Fuzhou-2026-ok", "password2": "Fuzhou-2026-ok",
        "usable_password": "true", **INLINE,
    })
    assert r.status_code == 302, r.context["adminform"].form.errors
    assert User.objects.get(username="newbie").must_change_password
    weak = client.post("/admin/accounts/user/add/", {
        "username": "weak", "password1": "abc", "password2": "abc", "usable_password": "true", **INLINE,
    })
    assert "密码过短" in weak.content.decode() and not User.objects.filter(username="weak").exists()


def test_admin_audit_log_is_read_only(client, login, superuser):
    login(superuser)
    row = AuditEntry.objects.filter(action="login").first()
    assert client.get("/admin/core/auditentry/").status_code == 200
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    assert client.post(f"/admin/core/auditentry/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=row.pk).exists()


def test_staff_home_shows_roles_areas_and_menu(client, login, make_user):
    user = make_user(Role.WINDOW_CLERK, GUDONG)
    login(user)
    body = client.get("/staff/").content.decode()
    assert "窗口人员" in body and "鼓东街道（350102001000）" in body
    assert "修改密码" in body and "审计日志" not in body and "管理后台" not in body


def test_staff_home_menu_entries_follow_capabilities(client, login, superuser, make_user):
    register("测试入口（仅回访）", "accounts:password_change", Cap.FOLLOWUP_WORK, group="测试")
    try:
        login(make_user(Role.WINDOW_CLERK, GUDONG))
        assert "测试入口（仅回访）" not in client.get("/staff/").content.decode()
        login(superuser)
        body = client.get("/staff/").content.decode()
        assert "测试入口（仅回访）" in body and "审计日志" in body and "管理后台" in body
        register("不存在的页面", "nowhere:page", None)
        assert "不存在的页面" not in client.get("/staff/").content.decode()
    finally:
        from bianmin.accounts import menu

        menu._ENTRIES.pop("nowhere:page", None)
        menu.register("修改密码", "accounts:password_change", None, group="账号与安全", order=900)


def test_staff_home_needs_login(client, db):
    r = client.get("/staff/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
