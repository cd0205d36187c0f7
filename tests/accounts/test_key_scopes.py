"""Who may mint which key: the matrix of role × scope. Scopes that stand for an outside system
(provincial 好差评, 12345, Open311, the provincial hall's intake) are granted only at the level
that owns the connection — the city by default — never by the unit being evaluated (a center
manager's "provincial" key posted a 5-star evaluation of its own case; a 12345 key rewrote a
complaint about its own center)."""

from __future__ import annotations

import pytest
from conftest import CITY, GUDONG, GULOU

from bianmin.accounts import services
from bianmin.accounts.models import ApiKey
from bianmin.accounts.principals import KEY_SCOPE_CAPABILITIES, OUTSIDE_SYSTEM_SCOPES, principal_for_user
from bianmin.core.errors import Forbidden

ROLES = {  # role → the area it is held at
    "city_admin": CITY, "district_admin": GULOU, "center_manager": GUDONG, "window_clerk": GUDONG,
    "followup_agent": GUDONG, "inspector": GUDONG, "policy_editor": GUDONG,
}
# A terminal's own key (the kiosk register makes it) is a device key of its site, like an evaluator.
DEVICE_SCOPES = {"evaluations.device", "evaluations.kiosk", "kiosks.terminal"}
# Reading what is public anyway (the policy library) judges no one: any key manager may grant it.
READ_SCOPES = {"policies.read"}
# Expected: who may grant what, for a key of 鼓东街道 (inside every role's area).
MAY_GRANT = {
    "city_admin": set(KEY_SCOPE_CAPABILITIES),
    "district_admin": DEVICE_SCOPES | READ_SCOPES,
    "center_manager": DEVICE_SCOPES | READ_SCOPES,
}


def test_the_scope_lists_cover_every_scope():
    assert OUTSIDE_SYSTEM_SCOPES | DEVICE_SCOPES | READ_SCOPES == set(KEY_SCOPE_CAPABILITIES)
    assert OUTSIDE_SYSTEM_SCOPES == {"cases.intake", "evaluations.provincial", "appeals.12345", "open311"}


@pytest.mark.parametrize("scope", sorted(KEY_SCOPE_CAPABILITIES))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_role_by_scope(make_user, areas, role, scope):
    actor = principal_for_user(make_user(role, ROLES[role]))
    kind = ApiKey.Kind.DEVICE if scope in DEVICE_SCOPES else ApiKey.Kind.SYSTEM
    if scope in MAY_GRANT.get(role, set()):
        key, _raw = services.apikey_create(actor=actor, name="k", kind=kind, area=areas[GUDONG], scopes=[scope])
        assert key.scopes == [scope]
    else:
        with pytest.raises(Forbidden):
            services.apikey_create(actor=actor, name="k", kind=kind, area=areas[GUDONG], scopes=[scope])
        assert not ApiKey.objects.exists()


@pytest.mark.parametrize("scope", sorted(OUTSIDE_SYSTEM_SCOPES))
def test_the_owning_level_is_configurable(settings, make_user, areas, scope):
    settings.BIANMIN_OUTSIDE_SYSTEM_KEY_LEVEL = "district"
    district = principal_for_user(make_user("district_admin", GULOU))
    key, _ = services.apikey_create(actor=district, name="k", kind="system", area=areas[GUDONG], scopes=[scope])
    assert key.scopes == [scope]
    manager = principal_for_user(make_user("center_manager", GUDONG))
    with pytest.raises(Forbidden):
        services.apikey_create(actor=manager, name="k2", kind="system", area=areas[GUDONG], scopes=[scope])


def test_a_center_manager_cannot_mint_a_provincial_key_on_the_page(client, make_user, areas):
    client.force_login(make_user("center_manager", GUDONG))
    r = client.post("/accounts/keys/new/", {"kind": "system", "name": "省好差评", "area": GUDONG,
                                            "scopes": ["evaluations.provincial"]})
    assert r.status_code == 403 and "只能由市级密钥管理员授予" in r.content.decode()
    assert not ApiKey.objects.exists()


def test_every_scope_has_its_chinese_name_in_the_one_table():
    """Issue 22.9: a scope is shown by its Chinese name wherever a person reads it; the names live
    next to what each scope grants (accounts.principals), used by the key pages, exports and admin."""
    from bianmin.accounts import admin, forms, views
    from bianmin.accounts.principals import KEY_SCOPE_LABELS

    assert set(KEY_SCOPE_LABELS) == set(KEY_SCOPE_CAPABILITIES)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in KEY_SCOPE_LABELS.values())
    assert admin.KEY_SCOPE_LABELS is forms.KEY_SCOPE_LABELS is views.KEY_SCOPE_LABELS is KEY_SCOPE_LABELS
