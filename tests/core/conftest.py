"""Fixtures of the core tests: the cache table (the default cache is the database) and a
working-day calendar seeded with the years the tests need."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # migrate does not create the DatabaseCache table; `bianmin up` runs createcachetable.
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture
def fresh_calendar(db):
    """An empty calendar and no in-process copy left over from another test."""
    from bianmin.core import calendar

    calendar.invalidate()
    yield calendar
    calendar.invalidate()


@pytest.fixture
def work_calendar(fresh_calendar):
    """2025 and 2026 as published (chinesecalendar), 2027 as an estimate (holidays)."""
    fresh_calendar.seed_years(years=[2025, 2026, 2027])
    return fresh_calendar
