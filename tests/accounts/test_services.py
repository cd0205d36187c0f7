"""Services of accounts: users, roles, keys, passwords; each audited, each scoped."""

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, PASSWORD, TAIJIANG
from django.utils import timezone

from bianmin.accounts import services
from bianmin.accounts.models import ApiKey, RoleAssignment, User
from bianmin.accounts.principals import principal_for_user
from bianmin.accounts.roles import Role
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry

GOOD = "Fuzhou-2026-ok"


def _p(user):
    return principal_for_user(user, ip="10.0.0.8")


@pytest.fixture
def gulou_admin(make_user):
    return make_user(Role.DISTRICT_ADMIN, GULOU, username="gulou_admin")


# --- users and passwords -------------------------------------------------------------------------------


def test_user_create_hashes_password_forces_change_and_audits(gulou_admin):
    user = services.user_create(actor=_p(gulou_admin), username="zhang", password=GOOD, display_name="张三",
                                mobile="138 0000 1234")
    assert user.password != GOOD and user.check_password(GOOD)
    assert user.must_change_password and user.password_expired()
    assert user.mobile == "13800001234"
    row = AuditEntry.objects.get(action=AuditEntry.Action.CREATE, target_type="accounts.user", target_id=str(user.pk))
    assert row.actor == gulou_admin and row.ip == "10.0.0.8"
    assert GOOD not in str(row.changes)


@pytest.mark.parametrize("password, fragment", [
    ("Short-1a", "至少"),  # under 10 characters
    ("alllowercaseletters", "三类"),  # one character class
    ("Password123", "常见"),  # common password (3 classes, 11 long)
])
def test_user_create_rejects_weak_passwords_in_chinese(gulou_admin, password, fragment):
    with pytest.raises(Invalid) as exc:
        services.user_create(actor=_p(gulou_admin), username="li", password=password)
    assert fragment in exc.value.message
    assert exc.value.field == "password"
    assert not User.objects.filter(username="li").exists()
    assert not AuditEntry.objects.filter(target_type="accounts.user", action="create").exists()


def test_user_create_duplicate_and_bad_mobile(gulou_admin):
    with pytest.raises(Conflict):
        services.user_create(actor=_p(gulou_admin), username="gulou_admin", password=GOOD)
    with pytest.raises(Invalid) as exc:
        services.user_create(actor=_p(gulou_admin), username="wang", password=GOOD, mobile="12345")
    assert exc.value.field == "mobile" and "手机号码" in exc.value.message
    assert not User.objects.filter(username="wang").exists()


def test_user_create_needs_users_manage(make_user):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)
    with pytest.raises(Forbidden):
        services.user_create(actor=_p(clerk), username="x1", password=GOOD)


def test_password_change_checks_old_rules_and_audits_without_secret(make_user):
    user = make_user(Role.WINDOW_CLERK, GUDONG)
    user.must_change_password = True
    user.save()
    with pytest.raises(Invalid) as exc:
        services.password_change(actor=_p(user), user=user, old_password="wrong", new_password=GOOD)
    assert exc.value.field == "old_password"
    with pytest.raises(Invalid):
        services.password_change(actor=_p(user), user=user, old_password=PASSWORD, new_password=PASSWORD)
    with pytest.raises(Invalid) as exc:
        services.password_change(actor=_p(user), user=user, old_password=PASSWORD, new_password="abcdefghij")
    assert exc.value.field == "new_password"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    services.password_change(actor=_p(user), user=user, old_password=PASSWORD, new_password=GOOD)
    user.refresh_from_db()
    assert user.check_password(GOOD) and not user.must_change_password and not user.password_expired()
    row = AuditEntry.objects.get(action="update", target_id=str(user.pk))
    assert row.changes == {"password": "已修改"}


def test_password_expires_after_max_age(make_user, settings):
    settings.BIANMIN_PASSWORD_MAX_AGE_DAYS = 90
    user = make_user(Role.WINDOW_CLERK, GUDONG)
    assert not user.password_expired()
    user.password_changed_at = timezone.now() - timezone.timedelta(days=91)
    assert user.password_expired()


def test_password_reset_scoped_and_forces_change(make_user):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)
    gulou = make_user(Role.DISTRICT_ADMIN, GULOU)
    taijiang = make_user(Role.DISTRICT_ADMIN, TAIJIANG)
    with pytest.raises(NotFound):
        services.password_reset(actor=_p(taijiang), user=clerk, new_password=GOOD)
    services.password_reset(actor=_p(gulou), user=clerk, new_password=GOOD)
    clerk.refresh_from_db()
    assert clerk.must_change_password and clerk.check_password(GOOD)


def test_no_takeover_of_an_account_with_more_than_the_actor_manages(make_user, areas):
    """A city admin who also serves as a clerk in 鼓东 is seen by 鼓楼's district admin, but that
    admin may neither reset the password nor clear the lockout: the account holds more than it."""
    boss = make_user(Role.CITY_ADMIN, CITY, username="boss")
    RoleAssignment.objects.create(user=boss, role=Role.WINDOW_CLERK, area=areas[GUDONG])
    staff = make_user(Role.WINDOW_CLERK, GUDONG, username="ops", is_staff=True)
    gulou = make_user(Role.DISTRICT_ADMIN, GULOU)
    for target in (boss, staff):
        with pytest.raises(Forbidden, match="超出您管理范围"):
            services.password_reset(actor=_p(gulou), user=target, new_password=GOOD)
        with pytest.raises(Forbidden, match="超出您管理范围"):
            services.lockout_clear(actor=_p(gulou), user=target)
    boss.refresh_from_db()
    assert boss.check_password(PASSWORD) and not boss.must_change_password
    assert not AuditEntry.objects.filter(target_type="accounts.user", target_id=str(boss.pk)).exists()
    services.password_reset(actor=_p(make_user(Role.CITY_ADMIN, CITY)), user=boss, new_password=GOOD)


# --- role assignments -----------------------------------------------------------------------------------


def test_role_assign_within_scope_and_audited(gulou_admin, areas, make_user):
    target = make_user(Role.WINDOW_CLERK, GUXI)
    assignment = services.role_assign(actor=_p(gulou_admin), user=target, role=Role.FOLLOWUP_AGENT, area=areas[GUDONG])
    assert assignment.active and assignment.area.code == GUDONG
    row = AuditEntry.objects.get(target_type="accounts.roleassignment", target_id=str(assignment.pk))
    assert row.action == "create" and row.area_code == GUDONG and row.changes["role"] == "followup_agent"


def test_role_assign_outside_scope_is_not_found(gulou_admin, areas, make_user):
    target = make_user(Role.WINDOW_CLERK, GUXI)
    with pytest.raises(NotFound):
        services.role_assign(actor=_p(gulou_admin), user=target, role=Role.WINDOW_CLERK, area=areas[TAIJIANG])
    assert not RoleAssignment.objects.filter(area__code=TAIJIANG).exists()


def test_role_assign_cannot_escalate(gulou_admin, areas, make_user):
    target = make_user(Role.WINDOW_CLERK, GUXI)
    with pytest.raises(Forbidden):
        services.role_assign(actor=_p(gulou_admin), user=target, role=Role.CITY_ADMIN, area=areas[GULOU])
    with pytest.raises(Forbidden):  # AUDIT_VIEW and the like are not the district admin's to give
        services.role_assign(actor=_p(gulou_admin), user=target, role=Role.POLICY_EDITOR, area=areas[GULOU])


def test_role_assign_site_must_lie_in_area(gulou_admin, areas, make_user, guxi_site):
    target = make_user(Role.WINDOW_CLERK, GUXI)
    with pytest.raises(Invalid) as exc:
        services.role_assign(actor=_p(gulou_admin), user=target, role=Role.CENTER_MANAGER, area=areas[GUDONG], site=guxi_site)
    assert exc.value.field == "site"
    assert not RoleAssignment.objects.filter(user=target, role=Role.CENTER_MANAGER).exists()


def test_role_revoke_and_reassign(gulou_admin, areas, make_user):
    target = make_user(Role.WINDOW_CLERK, GUDONG)
    assignment = target.role_assignments.get()
    services.role_revoke(actor=_p(gulou_admin), assignment=assignment)
    assignment.refresh_from_db()
    assert not assignment.active
    target = User.objects.get(pk=target.pk)
    assert target.active_assignments() == []
    with pytest.raises(Conflict):
        services.role_revoke(actor=_p(gulou_admin), assignment=assignment)
    again = services.role_assign(actor=_p(gulou_admin), user=target, role=Role.WINDOW_CLERK, area=areas[GUDONG])
    assert again.pk == assignment.pk and again.active
    with pytest.raises(Conflict):
        services.role_assign(actor=_p(gulou_admin), user=target, role=Role.WINDOW_CLERK, area=areas[GUDONG])


def test_role_revoke_by_sibling_is_not_found(make_user):
    gudong_manager = make_user(Role.CENTER_MANAGER, GUDONG)
    target = make_user(Role.WINDOW_CLERK, GUXI)
    taijiang = make_user(Role.DISTRICT_ADMIN, TAIJIANG)
    with pytest.raises(NotFound):
        services.role_revoke(actor=_p(taijiang), assignment=target.role_assignments.get())
    with pytest.raises(NotFound):  # a center manager holds no USERS_MANAGE, and 鼓西 is not theirs
        services.role_revoke(actor=_p(gudong_manager), assignment=target.role_assignments.get())


# --- API keys -------------------------------------------------------------------------------------------


def test_apikey_create_shows_raw_once_and_stores_digest(gulou_admin, areas, gudong_site):
    key, raw = services.apikey_create(actor=_p(gulou_admin), name="鼓东评价器1", kind=ApiKey.Kind.DEVICE,
                                      area=areas[GUDONG], site=gudong_site, scopes=["evaluations.device"])
    assert raw.startswith(key.prefix + "_") and len(raw) > 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.digest == ApiKey.digest_of(raw) and raw not in stored.digest
    assert not any(raw in str(v) for v in ApiKey.objects.filter(pk=key.pk).values().first().values())
    row = AuditEntry.objects.get(action="key", target_id=str(key.pk))
    assert row.changes["op"] == "create" and raw not in str(row.changes) and row.area_code == GUDONG
    _, raw2 = services.apikey_create(actor=_p(gulou_admin), name="二", kind="device", area=areas[GULOU],
                                     scopes=["evaluations.kiosk"])
    assert raw2 != raw


@pytest.mark.parametrize("kwargs, field", [
    ({"scopes": ["nope"]}, "scopes"),
    ({"scopes": []}, "scopes"),
    ({"kind": "toaster"}, "kind"),
    ({"name": ""}, "name"),
])
def test_apikey_create_rejects_bad_input(gulou_admin, areas, kwargs, field):
    args = {"name": "k", "kind": "system", "area": areas[GULOU], "scopes": ["cases.intake"]} | kwargs
    with pytest.raises(Invalid) as exc:
        services.apikey_create(actor=_p(gulou_admin), **args)
    assert exc.value.field == field
    assert not ApiKey.objects.exists()


def test_apikey_site_outside_area_and_out_of_scope(gulou_admin, areas, guxi_site, make_user):
    with pytest.raises(Invalid) as exc:
        services.apikey_create(actor=_p(gulou_admin), name="k", kind="device", area=areas[GUDONG], site=guxi_site,
                               scopes=["evaluations.device"])
    assert exc.value.field == "site"
    taijiang = make_user(Role.DISTRICT_ADMIN, TAIJIANG)
    with pytest.raises(NotFound):
        services.apikey_create(actor=_p(taijiang), name="k", kind="system", area=areas[GULOU], scopes=["cases.intake"])
    assert not ApiKey.objects.exists()


def test_apikey_revoke(gulou_admin, areas, make_user):
    key, _ = services.apikey_create(actor=_p(gulou_admin), name="k", kind="device", area=areas[GUDONG],
                                    scopes=["evaluations.kiosk"])
    guxi_manager = make_user(Role.CENTER_MANAGER, GUXI)
    with pytest.raises(NotFound):
        services.apikey_revoke(actor=_p(guxi_manager), key=key)
    services.apikey_revoke(actor=_p(gulou_admin), key=key)
    key.refresh_from_db()
    assert key.revoked_at is not None and not key.is_active
    with pytest.raises(Conflict):
        services.apikey_revoke(actor=_p(gulou_admin), key=key)
    assert AuditEntry.objects.filter(action="key", target_id=str(key.pk), changes__op="revoke").count() == 1


def test_city_admin_may_manage_everywhere(make_user, areas):
    city = make_user(Role.CITY_ADMIN, CITY)
    key, _ = services.apikey_create(actor=_p(city), name="12345", kind="system", area=areas[TAIJIANG], scopes=["appeals.12345"])
    assert key.area.code == TAIJIANG
