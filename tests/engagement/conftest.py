"""Engagement fixtures: the matrix's area tree, a few centers, and principals of the roles that
take part (the city's handler and its leader who signs, a district admin, a township manager,
a follow-up agent)."""

from __future__ import annotations

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, TAIJIANG
from evaluations.conftest import django_db_setup, sites  # noqa: F401  (the cache table; three centers)


def principal(user):
    from bianmin.accounts.principals import principal_for_user

    return principal_for_user(user, ip="127.0.0.1")


@pytest.fixture
def calendar(db):
    from bianmin.core import calendar as cal

    cal.invalidate()
    cal.seed_years(years=[2021, 2025, 2026])
    yield cal
    cal.invalidate()


@pytest.fixture
def people(make_user, areas, calendar):
    """Users and their principals: handler (city admin), leader (签发人, city), gulou (district
    admin), taijiang (another district's admin), gudong (township manager), guxi (its sibling),
    agent (鼓楼 回访员)."""
    spec = {"handler": ("city_admin", CITY), "leader": ("leader", CITY), "gulou": ("district_admin", GULOU),
            "taijiang": ("district_admin", TAIJIANG), "gudong": ("center_manager", GUDONG),
            "guxi": ("center_manager", GUXI), "agent": ("followup_agent", GULOU)}
    users = {k: make_user(role, code, display_name={"leader": "孙春影"}.get(k, "测试用户")) for k, (role, code) in spec.items()}
    return {"users": users, **{k: principal(u) for k, u in users.items()}}
