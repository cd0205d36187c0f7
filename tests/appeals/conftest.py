"""Fixtures for appeals: principals for users, an appeal factory, a hand-built calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import GUDONG, GULOU, GUXI

from bianmin.core.validators import make_credit_code, make_id_number

ID_NUMBER = make_id_number("350102", dt.date(1985, 6, 1), 123)
CREDIT_CODE = make_credit_code("350102", 7)


@pytest.fixture
def as_principal():
    from bianmin.accounts.principals import principal_for_user

    return lambda user: principal_for_user(user, ip="127.0.0.1")


@pytest.fixture
def clerk(make_user):
    return make_user("window_clerk", GUDONG, display_name="鼓东窗口")


@pytest.fixture
def manager(make_user):
    return make_user("center_manager", GUDONG, display_name="鼓东负责人")


@pytest.fixture
def guxi_clerk(make_user):
    return make_user("window_clerk", GUXI, display_name="鼓西窗口")


@pytest.fixture
def district(make_user):
    return make_user("district_admin", GULOU, display_name="鼓楼区管理员")


@pytest.fixture
def register(areas, as_principal):
    """register(actor_user, **overrides) → an appeal registered through the service."""
    from bianmin.appeals.services import appeal_register

    def _register(user=None, **kw):
        fields = dict(kind="complaint", channel="phone", area=areas[GUDONG], title="窗口排队时间过长",
                      content="上午在鼓东街道便民服务中心办理社保，排队两个小时。", party_type="person",
                      name="张三", mobile="13812345678")
        fields.update(kw)
        return appeal_register(actor=as_principal(user) if user is not None else None, **fields)

    return _register


@pytest.fixture
def department(areas):
    from bianmin.catalog.models import Department

    return Department.objects.create(code="D-GD-MZ", name="鼓东街道民政办", category="民政", area=areas[GUDONG])
