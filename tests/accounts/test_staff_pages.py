"""The scoped staff pages of accounts: 账号管理 (users and their roles) and 接口密钥管理 (keys of
window evaluators, kiosks and outside systems), run by district admins and center managers for
their own areas. Writes go through the services; out-of-scope records are 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, PASSWORD, TAIJIANG
from django.test import Client
from django.utils import timezone
from scope_matrix import World
from scope_matrix.evaluations import completed_case

from bianmin.accounts.models import ApiKey, RoleAssignment, User
from bianmin.accounts.roles import Role
from bianmin.core.models import AuditEntry
from bianmin.regions.models import Window

RAW_KEY = re.compile(r"(bm_[0-9a-f]{8}_[A-Za-z0-9_\-]+)")
TEMP_PASSWORD_BLOCK = re.compile(r'<p class="secret">([^<]+)</p>')


@pytest.fixture
def world(areas):
    return World(areas)


@pytest.fixture
def gudong_manager(make_user):
    return make_user(Role.CENTER_MANAGER, GUDONG, username="gd_manager")


@pytest.fixture
def guxi_manager(make_user):
    return make_user(Role.CENTER_MANAGER, GUXI, username="gx_manager")


@pytest.fixture
def gulou_admin(make_user):
    return make_user(Role.DISTRICT_ADMIN, GULOU, username="gl_admin")


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _issue_evaluator(client, window, name="鼓东中心 9 号窗口评价器"):
    return client.post("/accounts/keys/new/", {"kind": "evaluator", "name": name, "window": window.pk})


# --- 接口密钥管理 -----------------------------------------------------------------------------------------


def test_center_manager_issues_a_window_evaluator_key_that_works_for_that_window(world, gudong_manager):
    case = completed_case(world)  # completed at window 9 of a 鼓东 center
    window = case.window
    manager = _as(gudong_manager)

    form = manager.get("/accounts/keys/new/?kind=evaluator").content.decode()
    assert f'value="{window.pk}"' in form and "9号窗口" in form

    r = _issue_evaluator(manager, window)
    key = ApiKey.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/accounts/keys/{key.pk}/issued/"
    assert (key.kind, key.window, key.site, key.area, key.scopes) == (
        "device", window, window.site, window.site.area, ["evaluations.device"])
    assert key.created_by == gudong_manager
    assert AuditEntry.objects.filter(action="key", target_id=str(key.pk), actor=gudong_manager,
                                     changes__op="create").count() == 1

    page = manager.get(r["Location"])
    body = page.content.decode()
    raw = RAW_KEY.search(body).group(1)
    assert ApiKey.digest_of(raw) == key.digest
    assert "只显示这一次" in body and "无法再次显示" in body
    assert page["Cache-Control"] == "no-store"
    assert key.digest not in body

    # The key works on the device channel for that window's case.
    api = Client().post("/api/v1/evaluations/device", {"acceptance_number": case.acceptance_number, "grade": 5},
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 201, api.content
    assert case.evaluations.get().device_key_id == key.pk


def test_the_raw_key_is_shown_once_only(world, gudong_manager):
    window = Window.objects.create(site=world.site(GUDONG), number="3", name="社会事务")
    manager = _as(gudong_manager)
    issued = _issue_evaluator(manager, window)["Location"]
    first = manager.get(issued).content.decode()
    raw = RAW_KEY.search(first).group(1)
    for url in (issued, issued.replace("issued/", ""), "/accounts/keys/"):
        again = manager.get(url)
        assert again.status_code == 200
        assert raw not in again.content.decode()
    assert "现已无法再次查看" in manager.get(issued).content.decode()


def test_sibling_manager_gets_404_for_the_key_and_cannot_pick_the_other_centers_window(
        world, gudong_manager, guxi_manager):
    gudong_window = Window.objects.create(site=world.site(GUDONG), number="1", name="综合受理")
    guxi_window = Window.objects.create(site=world.site(GUXI), number="1", name="综合受理")
    _issue_evaluator(_as(gudong_manager), gudong_window)
    key = ApiKey.objects.get()
    sibling = _as(guxi_manager)

    for url in (f"/accounts/keys/{key.pk}/", f"/accounts/keys/{key.pk}/issued/", f"/accounts/keys/{key.pk}/revoke/"):
        assert sibling.get(url).status_code == 404, url
    assert sibling.post(f"/accounts/keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
    assert key.name not in sibling.get("/accounts/keys/").content.decode()

    form = sibling.get("/accounts/keys/new/?kind=evaluator").content.decode()
    assert f'value="{guxi_window.pk}"' in form and f'value="{gudong_window.pk}"' not in form
    r = _issue_evaluator(sibling, gudong_window, name="越权评价器")
    assert r.status_code == 422 and "请选择您辖区内的窗口" in r.content.decode()
    assert ApiKey.objects.count() == 1


def test_revoke_asks_for_confirmation_then_the_key_gets_401(world, gudong_manager):
    case = completed_case(world)
    manager = _as(gudong_manager)
    raw = RAW_KEY.search(manager.get(_issue_evaluator(manager, case.window)["Location"]).content.decode()).group(1)
    key = ApiKey.objects.get()

    confirm = manager.get(f"/accounts/keys/{key.pk}/revoke/")
    assert confirm.status_code == 200 and "确认吊销" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # a GET changes nothing

    r = manager.post(f"/accounts/keys/{key.pk}/revoke/")
    assert r.status_code == 302 and r["Location"] == f"/accounts/keys/{key.pk}/"
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEntry.objects.filter(action="key", target_id=str(key.pk), changes__op="revoke").count() == 1
    assert "已吊销" in manager.get(f"/accounts/keys/{key.pk}/").content.decode()

    api = Client().post("/api/v1/evaluations/device", {"acceptance_number": case.acceptance_number, "grade": 5},
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 401

    again = manager.post(f"/accounts/keys/{key.pk}/revoke/")
    assert again.status_code == 409 and "该密钥已吊销" in again.content.decode()


def test_kiosk_and_system_keys(world, gulou_admin, areas, make_user):
    admin = _as(gulou_admin)
    site = world.site(GUXI)
    r = admin.post("/accounts/keys/new/", {"kind": "kiosk", "name": "鼓西自助终端", "site": site.pk})
    assert r.status_code == 302
    kiosk = ApiKey.objects.get(name="鼓西自助终端")
    assert (kiosk.kind, kiosk.site, kiosk.window, kiosk.scopes) == ("device", site, None, ["evaluations.kiosk"])

    # An outside system's key is the city's to grant (accounts/test_key_scopes.py), for any area.
    refused = admin.post("/accounts/keys/new/", {"kind": "system", "name": "鼓楼 12345 对接", "area": GULOU,
                                                 "scopes": ["appeals.12345", "cases.intake"]})
    assert refused.status_code == 403
    r = _as(make_user(Role.CITY_ADMIN, CITY)).post("/accounts/keys/new/", {
        "kind": "system", "name": "鼓楼 12345 对接", "area": GULOU, "scopes": ["appeals.12345", "cases.intake"]})
    assert r.status_code == 302
    system = ApiKey.objects.get(name="鼓楼 12345 对接")
    assert (system.kind, system.area, system.site, sorted(system.scopes)) == (
        "system", areas[GULOU], None, ["appeals.12345", "cases.intake"])

    listing = admin.get("/accounts/keys/?kind=kiosk").content.decode()
    assert "鼓西自助终端" in listing and "鼓楼 12345 对接" not in listing
    listing = admin.get("/accounts/keys/?kind=system&status=active").content.decode()
    assert "鼓楼 12345 对接" in listing and "鼓西自助终端" not in listing
    assert "鼓西自助终端" in admin.get(f"/accounts/keys/?site={site.pk}").content.decode()
    assert "鼓西自助终端" in admin.get("/accounts/keys/?q=自助").content.decode()


def test_key_bad_input_shows_the_form_again_and_writes_nothing(world, gudong_manager, areas):
    window = Window.objects.create(site=world.site(GUDONG), number="2", name="社会事务")
    manager = _as(gudong_manager)
    cases = [
        ({"kind": "evaluator", "name": "", "window": window.pk}, "请填写密钥名称"),
        ({"kind": "evaluator", "name": "无窗口"}, "请选择绑定的窗口"),
        ({"kind": "evaluator", "name": "窗口不存在", "window": 999999}, "请选择您辖区内的窗口"),
        ({"kind": "kiosk", "name": "场所越权", "site": world.site(GUXI).pk}, "请选择您辖区内的服务场所"),
        ({"kind": "system", "name": "区划越权", "area": GULOU, "scopes": ["cases.intake"]}, "请选择您辖区内的区划"),
        ({"kind": "system", "name": "无权限范围", "area": GUDONG}, "至少选择一项权限范围"),
        ({"kind": "system", "name": "假权限", "area": GUDONG, "scopes": ["root"]}, "未知的权限范围"),
    ]
    for data, message in cases:
        r = manager.post("/accounts/keys/new/", data)
        assert r.status_code == 422, data
        assert message in r.content.decode(), data
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.filter(action="key").exists()


def test_key_pages_need_keys_manage(make_user):
    clerk = _as(make_user(Role.WINDOW_CLERK, GUDONG))
    for url in ("/accounts/keys/", "/accounts/keys/new/"):
        assert clerk.get(url).status_code == 403


# --- 账号管理 ---------------------------------------------------------------------------------------------------


def test_district_admin_creates_a_clerk_in_a_township_who_can_log_in(gulou_admin, areas):
    admin = _as(gulou_admin)
    form = admin.get("/accounts/users/new/").content.decode()
    assert f'value="{GUDONG}"' in form and f'value="{TAIJIANG}"' not in form
    assert 'value="window_clerk"' in form and 'value="city_admin"' not in form

    r = admin.post("/accounts/users/new/", {
        "username": "gd_clerk_new", "display_name": "林晓", "mobile": "13912345678", "password": "",
        "role": "window_clerk", "area": GUDONG,
    })
    clerk = User.objects.get(username="gd_clerk_new")
    assert r.status_code == 302 and r["Location"] == f"/accounts/users/{clerk.pk}/"
    assert clerk.must_change_password and clerk.display_name == "林晓"
    assignment = clerk.role_assignments.get()
    assert (assignment.role, assignment.area, assignment.active) == ("window_clerk", areas[GUDONG], True)
    assert AuditEntry.objects.filter(target_type="accounts.user", target_id=str(clerk.pk), actor=gulou_admin).exists()
    assert AuditEntry.objects.filter(target_type="accounts.roleassignment", target_id=str(assignment.pk)).exists()

    page = admin.get(r["Location"])
    body = page.content.decode()
    password = TEMP_PASSWORD_BLOCK.search(body).group(1)
    assert "只显示这一次" in body and "139****5678" in body and "13912345678" not in body
    assert password not in admin.get(r["Location"]).content.decode()  # shown once

    c = Client()
    login = c.post("/accounts/login/", {"username": "gd_clerk_new", "password": password})
    assert login.status_code == 302 and c.session.get("_auth_user_id") == str(clerk.pk)
    # The temporary password must be changed first.
    assert c.get("/staff/")["Location"].startswith("/accounts/password/")


def test_refused_role_leaves_no_user_behind(gulou_admin):
    admin = _as(gulou_admin)
    r = admin.post("/accounts/users/new/", {"username": "would_be_city", "display_name": "越权", "role": "city_admin",
                                            "area": GULOU, "password": "Strong-Passw0rd!"})
    assert r.status_code == 403 and "不能分配超出本人权限的角色" in r.content.decode()
    assert not User.objects.filter(username="would_be_city").exists()
    assert not AuditEntry.objects.filter(changes__username="would_be_city").exists()


def test_user_create_bad_input(gulou_admin, make_user):
    make_user(Role.WINDOW_CLERK, GUDONG, username="taken")
    admin = _as(gulou_admin)
    base = {"username": "newbie", "display_name": "新人", "role": "window_clerk", "area": GUDONG}
    cases = [
        ({**base, "username": ""}, 422, "请填写用户名"),
        ({**base, "role": "emperor"}, 422, "角色不存在"),
        ({**base, "area": TAIJIANG}, 422, "请选择您辖区内的区划"),
        ({**base, "mobile": "12345"}, 422, "手机"),
        ({**base, "password": "short"}, 422, "密码过短"),
        ({**base, "username": "taken"}, 409, "该用户名已被使用"),
    ]
    before = User.objects.count()
    for data, status, message in cases:
        r = admin.post("/accounts/users/new/", data)
        assert r.status_code == status, (data, r.status_code)
        assert message in r.content.decode(), data
    assert User.objects.count() == before


def test_user_list_is_scoped_filtered_and_masks_phones(gulou_admin, make_user, areas):
    make_user(Role.WINDOW_CLERK, GUDONG, username="gd_a", display_name="陈一", mobile="13800001111")
    make_user(Role.FOLLOWUP_AGENT, GUXI, username="gx_b", display_name="李二")
    make_user(Role.WINDOW_CLERK, TAIJIANG, username="tj_c", display_name="张三")
    locked = make_user(Role.WINDOW_CLERK, GUXI, username="gx_locked",
                       locked_until=timezone.now() + timedelta(minutes=10))
    admin = _as(gulou_admin)

    body = admin.get("/accounts/users/").content.decode()
    assert "gd_a" in body and "gx_b" in body and "tj_c" not in body
    assert "138****1111" in body and "13800001111" not in body

    def names(query):
        r = admin.get(f"/accounts/users/?{query}")
        assert r.status_code == 200
        return {u for u in ("gd_a", "gx_b", "tj_c", locked.username, "gl_admin") if f">{u}<" in r.content.decode()}

    assert names(f"area={GUDONG}") == {"gd_a"}
    assert names("role=followup_agent") == {"gx_b"}
    assert names("q=李") == {"gx_b"}
    assert names("status=locked") == {"gx_locked"}
    assert "gx_locked" not in names("status=normal")
    bad = admin.get(f"/accounts/users/?area={TAIJIANG}")
    assert bad.status_code == 422 and "请选择您辖区内的区划" in bad.content.decode()


def test_user_pages_out_of_scope_are_404_and_need_users_manage(gulou_admin, make_user, gudong_manager):
    taijiang_clerk = make_user(Role.WINDOW_CLERK, TAIJIANG)
    admin = _as(gulou_admin)
    for url in (f"/accounts/users/{taijiang_clerk.pk}/",):
        assert admin.get(url).status_code == 404
    for suffix in ("password/", "unlock/", "roles/"):
        assert admin.post(f"/accounts/users/{taijiang_clerk.pk}/{suffix}", {"role": "window_clerk",
                                                                              "area": GUDONG}).status_code == 404
    assert not RoleAssignment.objects.filter(user=taijiang_clerk, area__code=GUDONG).exists()
    # A center manager holds no USERS_MANAGE: the list is refused, a user is not found.
    manager = _as(gudong_manager)
    assert manager.get("/accounts/users/").status_code == 403
    assert manager.get(f"/accounts/users/{gulou_admin.pk}/").status_code == 404


def test_assign_and_revoke_roles(gulou_admin, make_user, world, areas):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)
    admin = _as(gulou_admin)
    site = world.site(GUDONG)
    r = admin.post(f"/accounts/users/{clerk.pk}/roles/", {"role": "followup_agent", "area": GUDONG, "site": site.pk})
    assert r.status_code == 302
    added = RoleAssignment.objects.get(user=clerk, role="followup_agent")
    assert added.site == site and added.active

    # Not grantable, unknown, outside the scope, a site outside the area: the page again, nothing written.
    for data, status, message in [
        ({"role": "city_admin", "area": GUDONG}, 403, "不能分配超出本人权限的角色"),
        ({"role": "emperor", "area": GUDONG}, 422, "角色不存在"),
        ({"role": "inspector", "area": TAIJIANG}, 422, "请选择您辖区内的区划"),
        ({"role": "inspector", "area": GUXI, "site": site.pk}, 422, "所在场所不在所辖区划范围内"),
        ({"role": "followup_agent", "area": GUDONG}, 409, "该用户在此区划已有此角色"),
    ]:
        r = admin.post(f"/accounts/users/{clerk.pk}/roles/", data)
        assert r.status_code == status, data
        assert message in r.content.decode(), data
    assert RoleAssignment.objects.filter(user=clerk).count() == 2

    r = admin.post(f"/accounts/users/{clerk.pk}/roles/{added.pk}/revoke/")
    assert r.status_code == 302
    added.refresh_from_db()
    assert not added.active
    again = admin.post(f"/accounts/users/{clerk.pk}/roles/{added.pk}/revoke/")
    assert again.status_code == 409 and "该角色分配已撤销" in again.content.decode()
    # An assignment id of another user is not found under this user.
    other = make_user(Role.WINDOW_CLERK, GUXI)
    other_assignment = other.role_assignments.get()
    assert admin.post(f"/accounts/users/{clerk.pk}/roles/{other_assignment.pk}/revoke/").status_code == 404
    other_assignment.refresh_from_db()
    assert other_assignment.active


def test_password_reset_shows_the_new_password_once_and_unlock(gulou_admin, make_user):
    clerk = make_user(Role.WINDOW_CLERK, GUXI, locked_until=timezone.now() + timedelta(minutes=20), failed_logins=5)
    admin = _as(gulou_admin)
    assert "解除锁定" in admin.get(f"/accounts/users/{clerk.pk}/").content.decode()
    r = admin.post(f"/accounts/users/{clerk.pk}/unlock/")
    assert r.status_code == 302
    clerk.refresh_from_db()
    assert clerk.locked_until is None and clerk.failed_logins == 0
    assert AuditEntry.objects.filter(target_id=str(clerk.pk), changes__unlocked=True).exists()

    r = admin.post(f"/accounts/users/{clerk.pk}/password/")
    assert r.status_code == 302
    body = admin.get(f"/accounts/users/{clerk.pk}/").content.decode()
    password = TEMP_PASSWORD_BLOCK.search(body).group(1)
    clerk.refresh_from_db()
    assert clerk.check_password(password) and not clerk.check_password(PASSWORD) and clerk.must_change_password
    assert password not in admin.get(f"/accounts/users/{clerk.pk}/").content.decode()
    assert AuditEntry.objects.filter(target_id=str(clerk.pk), changes__password="已重置").exists()


def test_no_takeover_of_an_account_that_holds_more_than_the_caller(gulou_admin, make_user, areas):
    """A city admin who also holds a clerk role in 鼓东 shows in 鼓楼's list, but the district
    admin may neither reset their password nor clear their lockout."""
    boss = make_user(Role.CITY_ADMIN, CITY, username="boss")
    RoleAssignment.objects.create(user=boss, role=Role.WINDOW_CLERK, area=areas[GUDONG])
    admin = _as(gulou_admin)
    page = admin.get(f"/accounts/users/{boss.pk}/").content.decode()
    assert "只能由上级管理员处理" in page
    assert "市级管理员" not in page  # the role outside the district is not shown
    for suffix in ("password/", "unlock/"):
        r = admin.post(f"/accounts/users/{boss.pk}/{suffix}")
        assert r.status_code == 403 and "请联系上级管理员" in r.content.decode()
    boss.refresh_from_db()
    assert boss.check_password(PASSWORD)


def test_menu_shows_the_pages_to_those_who_may_use_them(gulou_admin, gudong_manager, make_user):
    home = _as(gulou_admin).get("/staff/").content.decode()
    assert "账号管理" in home and "接口密钥管理" in home
    home = _as(gudong_manager).get("/staff/").content.decode()
    assert "账号管理" not in home and "接口密钥管理" in home
    home = _as(make_user(Role.WINDOW_CLERK, GUDONG)).get("/staff/").content.decode()
    assert "账号管理" not in home and "接口密钥管理" not in home
