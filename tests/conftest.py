"""Shared fixtures: a small area tree and users with roles bound to areas.

Tree (official codes):
    福州市 350100000000
      鼓楼区 350102000000
        鼓东街道 350102001000 — 中山社区 350102001001
        鼓西街道 350102002000 — (first village of 鼓西)
      台江区 350103000000
        (first township of 台江)
"""

from __future__ import annotations

import pytest

CITY = "350100000000"
GULOU = "350102000000"
GUDONG = "350102001000"
GUXI = "350102002000"
TAIJIANG = "350103000000"
PASSWORD = "Test-Passw0rd!"


@pytest.fixture
def areas(db):
    """The demo city's real division codes: city, two districts, their townships and villages."""
    from django.conf import settings

    from bianmin.regions.models import Area
    from bianmin.regions.services import areas_load, read_area_file

    info = read_area_file(settings.BASE_DIR / "regions" / "data" / "350100-2023.csv")
    wanted = [r for r in info.rows if r["code"] == CITY or r["code"].startswith(("350102", "350103"))]
    areas_load(rows=wanted)
    return {a.code: a for a in Area.objects.all()}


@pytest.fixture
def make_user(db, areas):
    """make_user("window_clerk", GUDONG) → a user holding that role at that area."""
    from bianmin.accounts.models import RoleAssignment, User

    counter = {"n": 0}

    def _make(role: str, area_code: str, *, username: str | None = None, site=None, **fields):
        counter["n"] += 1
        user = User(username=username or f"{role}_{area_code}_{counter['n']}", display_name=fields.pop("display_name", "测试用户"), **fields)
        user.set_password(PASSWORD)
        user.save()
        RoleAssignment.objects.create(user=user, role=role, area=areas[area_code], site=site)
        return user

    return _make


@pytest.fixture
def login(client):
    """login(user) → the test client logged in as that user (bypassing the form)."""

    def _login(user, c=None):
        c = c or client
        c.force_login(user)
        return c

    return _login


@pytest.fixture(autouse=True)
def _forget_calendar_copy():
    """The working-day calendar keeps a per-process copy of its rows; a test's rows are rolled
    back at its end, so their copy must not reach the next test. No database access."""
    from bianmin.core.calendar import forget_local_copy

    forget_local_copy()
    yield
    forget_local_copy()


@pytest.fixture(autouse=True)
def _forget_cached_pages():
    """Public pages are cached in this process (core/pagecache.py) under content versions that a
    test's rollback takes back: what one test cached must not answer the next. No database access."""
    from django.core.cache import caches

    caches["pages"].clear()
    yield
    caches["pages"].clear()
