"""Accounts hardening (issue 21.9): look-alike user names, password history and the published
demo password, failed log-ins limited per address, unknown names not flooding the audit log."""

from __future__ import annotations

import pytest
from conftest import GUDONG, GULOU, PASSWORD

from bianmin.accounts import services
from bianmin.accounts.models import PasswordHistory, User
from bianmin.accounts.principals import principal_for_user
from bianmin.accounts.usernames import username_key
from bianmin.core.errors import Conflict, Invalid
from bianmin.core.models import AuditEntry

LOGIN = "/accounts/login/"


@pytest.fixture
def admin(make_user):
    return principal_for_user(make_user("district_admin", GULOU, username="gl_admin"))


@pytest.mark.parametrize("lookalike", [
    "gudong_clеrk",  # Cyrillic е
    "Gudong_Clerk",  # case
    "GUDONG_CLERK",
    "ｇｕｄｏｎｇ_ｃｌｅｒｋ",  # full-width
    "gudong_c1erk",  # digit one for l
    "gudοng_clerk",  # Greek ο
])
def test_names_that_read_the_same_are_refused(make_user, admin, lookalike):
    make_user("window_clerk", GUDONG, username="gudong_clerk")
    with pytest.raises(Conflict) as exc:
        services.user_create(actor=admin, username=lookalike, password="Another-Passw0rd!")
    assert exc.value.field == "username" and "形近" in exc.value.message
    assert User.objects.filter(username=lookalike).count() == 0


def test_the_key_also_guards_the_model(make_user):
    """Any way of creating a user (the Django admin's form included) runs the model's check."""
    from django.core.exceptions import ValidationError

    make_user("window_clerk", GUDONG, username="gudong_clerk")
    with pytest.raises(ValidationError):
        User(username="gudong_clеrk").full_clean(exclude=["password"])
    assert username_key("gudong_clerk") == username_key("GUDONG_CLЕRK")
    assert username_key("gudong_clerk") != username_key("guxi_clerk")


def test_the_published_demo_password_is_refused(make_user):
    from bianmin.accounts.demo import DEMO_PASSWORD

    user = make_user("window_clerk", GUDONG)
    with pytest.raises(Invalid) as exc:
        services.password_change(actor=None, user=user, old_password=PASSWORD, new_password=DEMO_PASSWORD)
    assert "演示密码" in exc.value.message and exc.value.field == "new_password"


def test_the_last_five_passwords_are_refused(make_user):
    user = make_user("window_clerk", GUDONG)
    used = [PASSWORD] + [f"Rotat1on-{i}-Pass!" for i in range(1, 6)]
    for old, new in zip(used, used[1:], strict=False):
        services.password_change(actor=None, user=User.objects.get(pk=user.pk), old_password=old, new_password=new)
    current = used[-1]
    assert PasswordHistory.objects.filter(user=user).count() == PasswordHistory.KEEP
    for recent in used[-5:-1]:  # the four before the current one: refused
        with pytest.raises(Invalid, match="最近 5 次"):
            services.password_change(actor=None, user=User.objects.get(pk=user.pk), old_password=current,
                                     new_password=recent)
    # The sixth one back is allowed again.
    services.password_change(actor=None, user=User.objects.get(pk=user.pk), old_password=current,
                             new_password=used[0])
    # An administrator's reset follows the same rule.
    with pytest.raises(Invalid, match="最近 5 次"):
        services.password_reset(actor=None, user=User.objects.get(pk=user.pk), new_password=current)


def test_failed_log_ins_are_limited_per_address(client, make_user, settings):
    """One address could lock every account by name: past its limit an address is refused without
    its attempts reaching an account, which stays usable from elsewhere."""
    settings.BIANMIN_LOCKOUT_ATTEMPTS = 5
    settings.BIANMIN_LOGIN_FAILURES_PER_ADDRESS = 6
    victims = [make_user("window_clerk", GUDONG, username=f"victim_{c}") for c in "abcd"]
    for victim in victims:
        for _ in range(5):
            client.post(LOGIN, {"username": victim.username, "password": "wrong"}, REMOTE_ADDR="198.51.100.66")
    locked = [v.username for v in User.objects.filter(pk__in=[v.pk for v in victims]) if v.is_locked()]
    assert locked == ["victim_a"]  # the 6 failures the address was allowed locked one account, not four
    # Even the right password from that address is refused now; from another address it works.
    r = client.post(LOGIN, {"username": "victim_b", "password": PASSWORD}, REMOTE_ADDR="198.51.100.66")
    assert r.status_code == 200 and "_auth_user_id" not in client.session
    r = client.post(LOGIN, {"username": "victim_b", "password": PASSWORD}, REMOTE_ADDR="203.0.113.5")
    assert r.status_code == 302
    assert AuditEntry.objects.filter(action="login_failed", changes__reason="address_limited").exists()


def test_audit_rows_for_unknown_names_are_limited_per_address(client, db, settings):
    settings.BIANMIN_LOGIN_UNKNOWN_AUDIT_PER_ADDRESS = 3
    settings.BIANMIN_LOGIN_FAILURES_PER_ADDRESS = 1000
    for i in range(10):
        client.post(LOGIN, {"username": f"nobody{i}", "password": "x"}, REMOTE_ADDR="198.51.100.77")
    assert AuditEntry.objects.filter(action="login_failed", ip="198.51.100.77").count() == 3
    client.post(LOGIN, {"username": "nobody", "password": "x"}, REMOTE_ADDR="198.51.100.78")
    assert AuditEntry.objects.filter(action="login_failed", ip="198.51.100.78").count() == 1
