from datetime import date, timedelta

import chinese_calendar
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bianmin.core.calendar import (
    ADMIN_SOURCE,
    CONFIRMED_SOURCE,
    ESTIMATE_SOURCE,
    VERSION_KEY,
    add_working_days,
    day_kind,
    deadline_with_status,
    is_working_day,
    next_working_day,
    schedule_confirmed,
    seed_years,
    working_day_on_or_after,
    working_days_between,
)
from bianmin.core.models import AuditEntry, CalendarDay, CalendarYear

D = date


def days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


# --- the published schedules ------------------------------------------------------------------


def test_2025_spring_festival(work_calendar):
    for d in days(D(2025, 1, 28), D(2025, 2, 4)):
        assert not is_working_day(d), d
    assert is_working_day(D(2025, 1, 26))  # Sunday worked
    assert is_working_day(D(2025, 2, 8))  # Saturday worked
    assert day_kind(D(2025, 1, 26)) == CalendarDay.Kind.WORKDAY
    assert CalendarDay.objects.get(date=D(2025, 1, 29)).name == "春节"


def test_2025_national_day_and_mid_autumn(work_calendar):
    for d in days(D(2025, 10, 1), D(2025, 10, 8)):
        assert not is_working_day(d), d
    assert is_working_day(D(2025, 9, 28))  # Sunday
    assert is_working_day(D(2025, 10, 11))  # Saturday
    assert not is_working_day(D(2025, 10, 12))  # an ordinary Sunday


def test_2026_schedule(work_calendar):
    assert not is_working_day(D(2026, 1, 1)) and not is_working_day(D(2026, 1, 2))
    assert is_working_day(D(2026, 1, 4))  # Sunday worked for New Year
    for d in days(D(2026, 2, 15), D(2026, 2, 23)):
        assert not is_working_day(d), d
    assert is_working_day(D(2026, 2, 14)) and is_working_day(D(2026, 2, 28))  # Saturdays worked
    assert not is_working_day(D(2026, 5, 5)) and is_working_day(D(2026, 5, 9))
    for d in days(D(2026, 10, 1), D(2026, 10, 7)):
        assert not is_working_day(d), d
    assert is_working_day(D(2026, 9, 20)) and is_working_day(D(2026, 10, 10))
    assert schedule_confirmed(2025) and schedule_confirmed(2026)


def test_every_day_of_2025_and_2026_agrees_with_chinesecalendar(work_calendar):
    for d in days(D(2025, 1, 1), D(2026, 12, 31)):
        assert is_working_day(d) == chinese_calendar.is_workday(d), d


def test_2027_is_an_estimate(work_calendar):
    year = CalendarYear.objects.get(year=2027)
    assert not year.confirmed and year.source == ESTIMATE_SOURCE
    assert not schedule_confirmed(2027)
    assert not is_working_day(D(2027, 10, 1)) and not is_working_day(D(2027, 2, 8))
    assert CalendarDay.objects.filter(date__year=2027, source=ESTIMATE_SOURCE).exists()
    assert not CalendarDay.objects.filter(date=D(2027, 3, 8)).exists()  # 妇女节 is a half day, not a day off


def test_years_without_data_follow_the_weekday_rule(fresh_calendar):
    assert is_working_day(D(2031, 10, 1))  # a Wednesday; nothing seeded
    assert not is_working_day(D(2031, 10, 4))  # Saturday
    assert not schedule_confirmed(2031)


# --- counting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # golden week: the period starts the day after
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # Friday → the Sunday worked
        (D(2025, 9, 28), 3, D(2025, 10, 9)),  # Sep 29, Sep 30, Oct 9
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),  # the eve of 春节 → after the holiday
        (D(2025, 1, 27), 5, D(2025, 2, 10)),  # Feb 5, 6, 7, 8 (Saturday worked), 10
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2025, 6, 6), 0, D(2025, 6, 6)),
        (D(2025, 10, 9), -1, D(2025, 9, 30)),
        (D(2025, 10, 9), -2, D(2025, 9, 29)),
    ],
)
def test_add_working_days(work_calendar, start, n, expected):
    assert add_working_days(start, n) == expected


def test_next_working_day_and_on_or_after(work_calendar):
    assert next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert next_working_day(D(2025, 10, 9)) == D(2025, 10, 10)
    assert working_day_on_or_after(D(2025, 10, 3)) == D(2025, 10, 9)
    assert working_day_on_or_after(D(2025, 10, 9)) == D(2025, 10, 9)


def test_working_days_between(work_calendar):
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 9)) == 1
    assert working_days_between(D(2025, 10, 9), D(2025, 9, 30)) == -1
    assert working_days_between(D(2025, 5, 5), D(2025, 5, 5)) == 0
    assert working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == sum(
        chinese_calendar.is_workday(d) for d in days(D(2025, 1, 1), D(2025, 12, 31))
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(min_value=D(2024, 11, 1), max_value=D(2027, 6, 30)), st.integers(-80, 80))
def test_between_is_the_inverse_of_add(work_calendar, start, n):
    end = add_working_days(start, n)
    if n >= 0:
        assert working_days_between(start, end) == n
    if n > 0:
        assert is_working_day(end) and end > start
        # a plain count, independent of the prefix sums used by working_days_between
        assert sum(is_working_day(d) for d in days(start + timedelta(days=1), end)) == n
    if n < 0:
        # the mirror image: |n| working days in [end, start), end itself one of them
        assert is_working_day(end) and end < start
        assert sum(is_working_day(d) for d in days(end, start - timedelta(days=1))) == -n
        assert working_days_between(end - timedelta(days=1), start - timedelta(days=1)) == -n


# --- confirmed or estimated -------------------------------------------------------------------


def test_deadline_in_a_confirmed_year_is_confirmed(work_calendar):
    deadline = deadline_with_status(D(2026, 3, 2), 10)
    assert deadline.date == add_working_days(D(2026, 3, 2), 10)
    assert deadline.confirmed and deadline.note == ""


def test_deadline_reaching_an_unconfirmed_year_is_flagged(work_calendar):
    deadline = deadline_with_status(D(2026, 12, 20), 20)
    assert deadline.date.year == 2027
    assert not deadline.confirmed
    assert "预估" in deadline.note


def test_confirming_a_year_is_seen_at_once(work_calendar):
    assert not deadline_with_status(D(2027, 3, 1), 5).confirmed
    year = CalendarYear.objects.get(year=2027)
    year.confirmed = True
    year.save()
    assert deadline_with_status(D(2027, 3, 1), 5).confirmed


# --- seeding ----------------------------------------------------------------------------------


def test_seeding_is_idempotent(work_calendar):
    before = list(CalendarDay.objects.values_list("date", "kind", "name", "source"))
    result = seed_years(years=[2025, 2026, 2027])
    assert result.days_written == 0 and result.days_removed == 0
    assert list(CalendarDay.objects.values_list("date", "kind", "name", "source")) == before
    assert CalendarYear.objects.count() == 3
    assert CalendarYear.objects.get(year=2025).source == CONFIRMED_SOURCE


def test_seeding_never_overwrites_an_edited_day(work_calendar):
    day = CalendarDay.objects.get(date=D(2025, 10, 8))
    day.kind, day.name, day.source, day.edited = CalendarDay.Kind.WORKDAY, "本地调整", ADMIN_SOURCE, True
    day.save()
    extra = CalendarDay.objects.create(date=D(2025, 6, 3), kind=CalendarDay.Kind.HOLIDAY, name="本地假日",
                                       source=ADMIN_SOURCE, edited=True)
    seed_years(years=[2025])
    day.refresh_from_db()
    assert (day.kind, day.name) == (CalendarDay.Kind.WORKDAY, "本地调整")
    assert CalendarDay.objects.filter(pk=extra.pk).exists()
    assert is_working_day(D(2025, 10, 8)) and not is_working_day(D(2025, 6, 3))


def test_seeding_skips_an_edited_year(work_calendar):
    CalendarDay.objects.filter(date__year=2027).delete()
    CalendarYear.objects.filter(year=2027).update(edited=True, confirmed=True, source="国办发明电〔2026〕1号")
    result = seed_years(years=[2027])
    assert result.skipped_years == [2027]
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert CalendarYear.objects.get(year=2027).confirmed


def test_seeding_removes_its_own_stale_days_only(work_calendar):
    stale = CalendarDay.objects.create(date=D(2026, 3, 3), kind=CalendarDay.Kind.HOLIDAY, name="旧推算",
                                       source=ESTIMATE_SOURCE)
    kept = CalendarDay.objects.create(date=D(2026, 3, 4), kind=CalendarDay.Kind.HOLIDAY, name="本地",
                                      source="福州市通知")
    result = seed_years(years=[2026])
    assert result.days_removed == 1
    assert not CalendarDay.objects.filter(pk=stale.pk).exists()
    assert CalendarDay.objects.filter(pk=kept.pk).exists()


def test_an_estimate_is_replaced_by_the_published_schedule(fresh_calendar):
    """A year first seeded as an estimate becomes confirmed once chinesecalendar knows it."""
    CalendarYear.objects.create(year=2026, confirmed=False, source=ESTIMATE_SOURCE)
    CalendarDay.objects.create(date=D(2026, 4, 6), kind=CalendarDay.Kind.HOLIDAY, name="清明节（补假）",
                               source=ESTIMATE_SOURCE)  # holidays' guess; the real one gave Apr 4–6
    CalendarDay.objects.create(date=D(2026, 3, 9), kind=CalendarDay.Kind.HOLIDAY, name="错误推算",
                               source=ESTIMATE_SOURCE)
    seed_years(years=[2026])
    year = CalendarYear.objects.get(year=2026)
    assert year.confirmed and year.source == CONFIRMED_SOURCE
    assert CalendarDay.objects.get(date=D(2026, 4, 6)).source == CONFIRMED_SOURCE
    assert is_working_day(D(2026, 3, 9))


def test_seed_calendar_command_for_some_years(fresh_calendar, capsys):
    call_command("seed_calendar", "--years", "2025", "2027")
    out = capsys.readouterr().out
    assert "处理 2 个年度" in out
    assert set(CalendarYear.objects.values_list("year", "confirmed")) == {(2025, True), (2027, False)}


def test_seed_calendar_command_default_range(fresh_calendar):
    call_command("seed_calendar", verbosity=0)
    this_year = timezone.localdate().year
    years = dict(CalendarYear.objects.values_list("year", "confirmed"))
    assert min(years) == 2004 and max(years) == max(2026, this_year + 2)
    assert all(years[y] for y in range(2004, 2027))
    assert not any(years[y] for y in range(2027, max(years) + 1))
    assert not is_working_day(D(2015, 9, 3))  # the 70th anniversary holiday (a Thursday)
    assert is_working_day(D(2015, 9, 6))  # the Sunday worked for it
    for d in days(D(2004, 1, 1), D(2004, 12, 31)):
        assert is_working_day(d) == chinese_calendar.is_workday(d), d


def test_seed_calendar_command_rejects_absurd_years(fresh_calendar):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="年份超出范围"):
        call_command("seed_calendar", "--years", "30000")
    assert not CalendarYear.objects.exists()


# --- the in-process copy ----------------------------------------------------------------------


def test_saving_or_deleting_a_day_is_seen_at_once(work_calendar):
    d = D(2025, 6, 4)  # a Wednesday
    assert is_working_day(d)
    row = CalendarDay.objects.create(date=d, kind=CalendarDay.Kind.HOLIDAY, name="临时", source=ADMIN_SOURCE)
    assert not is_working_day(d)
    assert add_working_days(D(2025, 6, 3), 1) == D(2025, 6, 5)
    row.delete()
    assert is_working_day(d)


def test_other_processes_notice_through_the_shared_version(work_calendar, settings):
    d = D(2025, 6, 4)
    settings.BIANMIN_CALENDAR_RECHECK_SECONDS = 3600
    assert is_working_day(d)
    # Another process changes the calendar: no signal reaches us, only the version in the cache.
    CalendarDay.objects.bulk_create([CalendarDay(date=d, kind=CalendarDay.Kind.HOLIDAY, name="他处修改")])
    assert is_working_day(d)  # still our copy: we only look every RECHECK seconds
    settings.BIANMIN_CALENDAR_RECHECK_SECONDS = 0
    assert is_working_day(d)  # looked, but the version did not change
    cache.set(VERSION_KEY, "changed-by-another-process", None)
    assert not is_working_day(d)


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client_cn(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="cityadmin", password="Test-Passw0rd!x",
                                                      display_name="管委会管理员")
    client.force_login(user)
    return client


def test_admin_pages_are_in_chinese(work_calendar, admin_client_cn):
    response = admin_client_cn.get("/admin/core/calendarday/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "工作日历特殊日" in text and "星期" in text and "调休上班" in text
    assert admin_client_cn.get("/admin/core/calendaryear/").status_code == 200


def test_admin_edit_marks_the_day_edited_and_is_audited(work_calendar, admin_client_cn):
    day = CalendarDay.objects.get(date=D(2025, 10, 8))
    response = admin_client_cn.post(f"/admin/core/calendarday/{day.pk}/change/",
                                    {"date": "2025-10-08", "kind": "workday", "name": "本市调整", "source": day.source})
    assert response.status_code == 302, response.content.decode()[:2000]
    day.refresh_from_db()
    assert day.edited and day.kind == "workday" and day.source == ADMIN_SOURCE
    assert is_working_day(D(2025, 10, 8))
    entry = AuditEntry.objects.get(target_type="core.calendarday", target_id=str(day.pk))
    assert entry.action == AuditEntry.Action.UPDATE and entry.actor_label == "cityadmin"
    seed_years(years=[2025])
    day.refresh_from_db()
    assert day.kind == "workday"


def test_admin_confirming_a_year_with_its_notice(work_calendar, admin_client_cn):
    year = CalendarYear.objects.get(year=2027)
    response = admin_client_cn.post(f"/admin/core/calendaryear/{year.pk}/change/",
                                    {"year": 2027, "confirmed": "on", "source": "国办发明电〔2026〕7号"})
    assert response.status_code == 302
    year.refresh_from_db()
    assert year.confirmed and year.edited and year.source == "国办发明电〔2026〕7号"
    assert schedule_confirmed(2027)
    assert seed_years(years=[2027]).skipped_years == [2027]


def test_admin_deleting_a_seeded_day_keeps_it_deleted(work_calendar, admin_client_cn):
    day = CalendarDay.objects.get(date=D(2027, 10, 1))
    response = admin_client_cn.post(f"/admin/core/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, target_type="core.calendarday").exists()
    seed_years(years=[2027])
    assert not CalendarDay.objects.filter(date=D(2027, 10, 1)).exists()
    assert is_working_day(D(2027, 10, 1))


def test_a_missing_cache_table_does_not_break_the_callers_transaction(work_calendar, settings):
    """Other apps' tests (and a fresh install before createcachetable) have no cache table: the
    calendar then works from the database alone, and on PostgreSQL the failed cache query must
    not abort the surrounding transaction."""
    from django.core.cache import caches
    from django.db import transaction

    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                                      "LOCATION": "no_such_cache_table"}}
    caches["default"]  # the new settings take effect
    with transaction.atomic():
        work_calendar.invalidate()
        assert not is_working_day(D(2025, 10, 1))
        CalendarDay.objects.create(date=D(2025, 6, 4), kind=CalendarDay.Kind.HOLIDAY, name="临时")
        assert not is_working_day(D(2025, 6, 4))
        assert CalendarDay.objects.filter(date__year=2025).exists()  # the transaction still works
