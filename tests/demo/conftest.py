"""Fixtures of the project-level demo tests: a working-day calendar for the generator's deadlines."""

from __future__ import annotations

import pytest


@pytest.fixture
def work_calendar(db):
    from bianmin.core import calendar

    calendar.invalidate()
    calendar.seed_years(years=[2025, 2026, 2027])
    yield calendar
    calendar.invalidate()
