"""Routes of accounts (log-in, password, audit log, whoami API, the staff pages for users and keys)."""

from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap
from scope_matrix import GUDONG, Capability, Exempt, KeyScoped, Public, Req, Scoped, Staff

ROUTES = [
    Public("accounts:login"),
    Exempt("accounts:logout", reason="POST-only log-out of one's own session; tests/accounts/test_login.py"),
    Staff("accounts:password_change"),
    Capability("accounts:audit", cap=Cap.AUDIT_VIEW),
    Capability("accounts:audit_export_csv", cap=Cap.AUDIT_VIEW),
    Capability("accounts:audit_export_xlsx", cap=Cap.AUDIT_VIEW),
    Staff("api:whoami"),
    Scoped("api:whoami_area", make=lambda w: f"/api/v1/whoami/areas/{GUDONG}"),
    Scoped("api:whoami_site", make=lambda w: f"/api/v1/whoami/sites/{w.site(GUDONG).code}"),
    KeyScoped("api:whoami_area", make=lambda w: f"/api/v1/whoami/areas/{GUDONG}", scopes=["cases.intake"]),
    KeyScoped("api:whoami_site", make=lambda w: f"/api/v1/whoami/sites/{w.site(GUDONG).code}",
              scopes=["evaluations.device"]),
]

# --- 账号管理 and 接口密钥管理 (scoped staff pages) ------------------------------------------------------
# Users are managed by holders of Cap.USERS_MANAGE (district and city admins), keys by holders of
# Cap.KEYS_MANAGE (center managers too). The "owner" of a user record is a district admin bound
# to 鼓东 itself; of a key record, the center manager of 鼓东.

_MANAGERS = ("district", "other", "city")


def _user_in_gudong(w):
    """A window clerk of 鼓东, made through the services as the city admin."""
    from bianmin.accounts import services

    w._n += 1
    user = services.user_create(actor=None, username=f"m_staffui_{w._n}", password="Matrix-Passw0rd!",
                                display_name="矩阵窗口人员")
    assignment = services.role_assign(actor=w.principal("city"), user=user, role="window_clerk", area=w.areas[GUDONG])
    return user, assignment


def _key_in_gudong(w):
    from bianmin.accounts import services

    site = w.site(GUDONG)
    key, _ = services.apikey_create(actor=w.principal("city"), name="矩阵自助终端", kind="device", area=site.area,
                                    site=site, scopes=["evaluations.kiosk"])
    return key


def _user_url(w, suffix=""):
    return f"/accounts/users/{_user_in_gudong(w)[0].pk}/{suffix}"


def _revoke_role(w):
    user, assignment = _user_in_gudong(w)
    return Req(f"/accounts/users/{user.pk}/roles/{assignment.pk}/revoke/", method="post")


def _assign_role(w):
    user, _ = _user_in_gudong(w)
    return Req(f"/accounts/users/{user.pk}/roles/", method="post",
               data={"role": "followup_agent", "area": GUDONG})


ROUTES += [
    Capability("accounts:users", cap=Cap.USERS_MANAGE, allowed=_MANAGERS),
    Capability("accounts:user_new", cap=Cap.USERS_MANAGE, allowed=_MANAGERS),
    Capability("accounts:users_export", cap=Cap.USERS_MANAGE, allowed=_MANAGERS),
    Scoped("accounts:user_detail", make=lambda w: _user_url(w), role=Role.DISTRICT_ADMIN),
    Scoped("accounts:user_role_assign", make=_assign_role, role=Role.DISTRICT_ADMIN, ok=(302,)),
    Scoped("accounts:user_role_revoke", make=_revoke_role, role=Role.DISTRICT_ADMIN, ok=(302,)),
    Scoped("accounts:user_role_revoke", make=lambda w: _revoke_role(w).url, role=Role.DISTRICT_ADMIN),  # the confirmation
    Scoped("accounts:user_password_reset", make=lambda w: Req(_user_url(w, "password/"), method="post"),
           role=Role.DISTRICT_ADMIN, ok=(302,)),
    Scoped("accounts:user_unlock", make=lambda w: Req(_user_url(w, "unlock/"), method="post"),
           role=Role.DISTRICT_ADMIN, ok=(302,)),
    Capability("accounts:keys", cap=Cap.KEYS_MANAGE, allowed=_MANAGERS),
    Capability("accounts:key_new", cap=Cap.KEYS_MANAGE, allowed=_MANAGERS),
    Capability("accounts:keys_export", cap=Cap.KEYS_MANAGE, allowed=_MANAGERS),
    Scoped("accounts:key_detail", make=lambda w: f"/accounts/keys/{_key_in_gudong(w).pk}/", role=Role.CENTER_MANAGER),
    Scoped("accounts:key_issued", make=lambda w: f"/accounts/keys/{_key_in_gudong(w).pk}/issued/",
           role=Role.CENTER_MANAGER),
    Scoped("accounts:key_revoke", make=lambda w: Req(f"/accounts/keys/{_key_in_gudong(w).pk}/revoke/", method="post"),
           role=Role.CENTER_MANAGER, ok=(302,)),
]
