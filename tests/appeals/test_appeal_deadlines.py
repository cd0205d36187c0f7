"""Deadlines in working days on a hand-built calendar; due-soon warnings and escalation."""

import datetime as dt

import pytest
from conftest import GULOU

from bianmin.appeals.models import AppealEvent, DeadlineRule
from bianmin.appeals.services import appeal_reply, appeals_check_deadlines
from bianmin.core.models import CalendarDay, OutboxMessage


def next_weekdays(start, n):
    days, d = [], start
    while len(days) < n:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    return days


def count_working(start, n, holidays, workdays=()):
    d, left = start, n
    while left:
        d += dt.timedelta(days=1)
        if (d in workdays) or (d.weekday() < 5 and d not in holidays):
            left -= 1
    return d


@pytest.fixture
def hand_calendar(db):
    """The next two weekdays are holidays; the next Saturday is a 调休 working day."""
    from django.utils import timezone

    today = timezone.localdate()
    holidays = next_weekdays(today, 2)
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    for d in holidays:
        CalendarDay.objects.create(date=d, kind="holiday", name="测试假日")
    CalendarDay.objects.create(date=saturday, kind="workday", name="测试调休")
    return today, set(holidays), {saturday}


def test_due_date_counts_working_days_of_the_calendar(hand_calendar, register, clerk):
    today, holidays, workdays = hand_calendar
    appeal = register(clerk, kind="complaint")
    assert appeal.due_date == count_working(today, 5, holidays, workdays)
    assert appeal.due_date != count_working(today, 5, set())  # the holidays moved it
    consult = register(clerk, kind="consult")
    assert consult.due_date == count_working(today, 2, holidays, workdays)


def test_deadline_rules_are_configurable(hand_calendar, register, clerk):
    today, holidays, workdays = hand_calendar
    DeadlineRule.objects.create(kind="complaint", reply_days=3, contact_days=1, warn_days=1)
    assert register(clerk, kind="complaint").due_date == count_working(today, 3, holidays, workdays)


def test_due_soon_then_escalation_once_each(hand_calendar, register, clerk, areas):
    today, holidays, workdays = hand_calendar
    appeal = register(clerk, kind="complaint")
    due = appeal.due_date
    plain_due = count_working(today, 5, set())
    # The day after a plain Monday–Friday count would have run out, the holidays keep it in time.
    assert appeals_check_deadlines(today=plain_due + dt.timedelta(days=1))["escalated"] == 0
    appeal.refresh_from_db()
    assert appeal.escalated_to is None
    # On the deadline day (0 working days left ≤ 1): warned, and only once however often it runs.
    appeals_check_deadlines(today=due)
    assert appeals_check_deadlines(today=due)["warned"] == 0
    assert appeal.events.filter(kind=AppealEvent.Kind.DUE_SOON).count() == 1
    # The day after: escalated to the district above the township, once.
    after = due + dt.timedelta(days=1)
    assert appeals_check_deadlines(today=after)["escalated"] == 1
    assert appeals_check_deadlines(today=after + dt.timedelta(days=3))["escalated"] == 0
    appeal.refresh_from_db()
    assert appeal.escalated_to.code == GULOU and appeal.escalated_for == due
    assert appeal.events.filter(kind=AppealEvent.Kind.ESCALATED).count() == 1
    notes = OutboxMessage.objects.filter(channel="notify").values_list("payload__template", flat=True)
    assert sorted(notes) == ["appeal_due_soon", "appeal_escalated"]


def test_late_reply_is_not_on_time(hand_calendar, register, clerk, as_principal):
    appeal = register(clerk)
    appeal.due_date = appeal.registered_at.date() - dt.timedelta(days=1)
    appeal.save()
    appeal = appeal_reply(actor=as_principal(clerk), appeal=appeal, reply="迟到的答复")
    assert appeal.replied_on_time is False


def test_closed_appeals_are_not_escalated(hand_calendar, register, clerk, as_principal):
    appeal = register(clerk, kind="suggestion", party_type="anonymous")
    appeal_reply(actor=as_principal(clerk), appeal=appeal, reply="感谢")
    assert appeals_check_deadlines(today=appeal.due_date + dt.timedelta(days=30)) == {"warned": 0, "escalated": 0}


def test_registering_queues_the_daily_sweep_once(register, clerk, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from bianmin.appeals.tasks import check_deadlines

    with django_capture_on_commit_callbacks(execute=True):
        register(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        register(clerk)
    from django.utils import timezone

    from bianmin.appeals.tasks import DAILY_AT

    queued = DBTaskResult.objects.filter(task_path=check_deadlines.module_path)
    assert queued.count() == 1
    assert timezone.localtime(queued.get().run_after).time() == DAILY_AT
