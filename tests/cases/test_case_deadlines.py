"""Working-day limits from acceptance: golden week, 调休 weekends, correction pauses, status, the
daily overdue job."""

from __future__ import annotations

from datetime import date

from django.core.management import call_command

from bianmin.cases import services
from bianmin.cases.deadlines import case_clock, due_dates
from bianmin.cases.models import Case, CaseEvent
from bianmin.core.models import OutboxMessage

from .conftest import at, principal

# 2025 National Day: Oct 1–8 off; Sunday Sep 28 and Saturday Oct 11 are working days (调休).
FRI_BEFORE = date(2025, 9, 26)


def test_due_dates_across_golden_week(calendar):
    promised, legal = due_dates(accepted_on=FRI_BEFORE, legal_limit_days=20, promised_limit_days=5)
    # Sep 28 (Sun, 调休), 29, 30, Oct 9, Oct 10 → 5th working day.
    assert promised == date(2025, 10, 10)
    # … Oct 11 (Sat, 调休), 13–17, 20–24, 27–30 → 20th working day.
    assert legal == date(2025, 10, 30)


def _accepted_case(submit, clerk, day, item="dibao"):
    case = submit(day, item=item)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(day))
    return Case.objects.get(pk=case.pk)


def test_accepting_sets_due_dates_from_the_item(submit, clerk, catalog):
    catalog["dibao"].promised_limit_days = 5
    catalog["dibao"].save()
    case = _accepted_case(submit, clerk, FRI_BEFORE)
    assert (case.legal_limit_days, case.promised_limit_days) == (20, 5)
    assert case.accepted_on == FRI_BEFORE
    assert (case.promised_due_on, case.legal_due_on) == (date(2025, 10, 10), date(2025, 10, 30))


def test_correction_pause_pushes_both_due_dates_by_the_working_days_lost(submit, clerk, catalog):
    catalog["dibao"].promised_limit_days = 5
    catalog["dibao"].save()
    actor = principal(clerk)
    case = _accepted_case(submit, clerk, FRI_BEFORE)
    services.case_start(actor=actor, case_id=case.pk, now=at(date(2025, 9, 29)))
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["户口簿"], now=at(date(2025, 9, 29)))
    case.refresh_from_db()
    assert case.suspended_since == date(2025, 9, 29)
    # While paused the case is neither overdue nor due soon, whatever the date says.
    assert case_clock(case, today=date(2025, 10, 20)).status == "paused"
    services.case_receive_correction(actor=actor, case_id=case.pk, now=at(date(2025, 10, 10)))
    case.refresh_from_db()
    # Lost: Sep 30, Oct 9, Oct 10 = 3 working days (the holiday week costs nothing).
    assert case.suspended_days == 3
    assert case.state == "in_progress"
    assert case.suspensions.get().working_days == 3
    assert case.promised_due_on == date(2025, 10, 14)  # 8th working day after Sep 26
    assert case.legal_due_on == date(2025, 11, 4)  # 23rd working day after Sep 26


def test_two_pauses_add_up(submit, clerk):
    actor = principal(clerk)
    case = _accepted_case(submit, clerk, date(2026, 3, 2))  # Monday; promised 15
    base = case.promised_due_on
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["A"], now=at(date(2026, 3, 3)))
    services.case_receive_correction(actor=actor, case_id=case.pk, now=at(date(2026, 3, 5)))  # Wed, Thu
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["B"], now=at(date(2026, 3, 6)))
    services.case_receive_correction(actor=actor, case_id=case.pk, now=at(date(2026, 3, 9)))  # Mon
    case.refresh_from_db()
    assert case.suspended_days == 3
    from bianmin.core.calendar import add_working_days

    assert case.promised_due_on == add_working_days(base, 3)


def test_status_on_time_due_soon_overdue(submit, clerk):
    case = _accepted_case(submit, clerk, date(2026, 3, 2))
    due = case.promised_due_on  # 15 working days after Mon Mar 2 = Mon Mar 23
    assert due == date(2026, 3, 23)
    assert case_clock(case, today=date(2026, 3, 19)).status == "on_time"  # 2 left
    assert case_clock(case, today=date(2026, 3, 20)).status == "due_soon"  # 1 left (Fri → Mon)
    assert case_clock(case, today=date(2026, 3, 23)).status == "due_soon"  # due today
    info = case_clock(case, today=date(2026, 3, 24))
    assert info.status == "overdue" and info.remaining == -1


def test_completion_on_time_or_late(submit, clerk):
    actor = principal(clerk)
    a = _accepted_case(submit, clerk, date(2026, 3, 2))
    services.case_complete(actor=actor, case_id=a.pk, result="approved", now=at(date(2026, 3, 23)))
    b = _accepted_case(submit, clerk, date(2026, 3, 2))
    services.case_complete(actor=actor, case_id=b.pk, result="approved", now=at(date(2026, 3, 24)))
    assert case_clock(Case.objects.get(pk=a.pk), today=date(2026, 4, 1)).status == "done_on_time"
    assert case_clock(Case.objects.get(pk=b.pk), today=date(2026, 4, 1)).status == "done_late"


def test_overdue_job_marks_once_and_notifies_the_owner_through_the_outbox(submit, clerk):
    late = _accepted_case(submit, clerk, date(2026, 3, 2))
    fresh = _accepted_case(submit, clerk, date(2026, 3, 20))
    assert services.cases_mark_overdue(today=date(2026, 3, 24)) == 1
    assert services.cases_mark_overdue(today=date(2026, 3, 25)) == 0  # idempotent
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.overdue and late.overdue_marked_on == date(2026, 3, 24)
    assert not fresh.overdue
    messages = OutboxMessage.objects.filter(channel="notify")
    assert messages.count() == 1
    msg = messages.get()
    assert msg.recipient == clerk.username
    assert late.acceptance_number in msg.payload["text"] and "超过承诺办结时限" in msg.payload["text"]
    assert CaseEvent.objects.filter(case=late, type="overdue").count() == 1


def test_overdue_command_runs_the_same_job(submit, clerk, capsys):
    _accepted_case(submit, clerk, date(2026, 3, 2))
    call_command("mark_overdue_cases", "--date", "2026-03-30")
    call_command("mark_overdue_cases", "--date", "2026-03-30")
    out = capsys.readouterr().out
    assert "新标记超期办件 1 件" in out and "新标记超期办件 0 件" in out


def test_pause_that_moves_the_deadline_past_today_clears_overdue(submit, clerk):
    actor = principal(clerk)
    case = _accepted_case(submit, clerk, date(2026, 3, 2))
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["A"], now=at(date(2026, 3, 3)))
    services.case_receive_correction(actor=actor, case_id=case.pk, now=at(date(2026, 3, 17)))  # 10 days lost
    case.refresh_from_db()
    assert case.promised_due_on == date(2026, 4, 7)  # Qingming (Apr 4–6, 2026) is skipped too
    assert services.cases_mark_overdue(today=date(2026, 3, 30)) == 0


def test_daily_job_queues_itself_once(submit, clerk, django_capture_on_commit_callbacks):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from bianmin.cases.tasks import ensure_daily_overdue, mark_overdue_cases

    case = submit(date(2026, 3, 2))
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(date(2026, 3, 2)))
    ensure_daily_overdue()
    queued = DBTaskResult.objects.filter(task_path=mark_overdue_cases.module_path, status=TaskResultStatus.READY)
    assert queued.count() == 1
    from django.utils import timezone

    assert timezone.localtime(queued.get().run_after).hour == 6


def test_one_clock_while_paused_dates_and_paused_days_move_together(submit, clerk, catalog):
    """Issue 22.5: during a pause the queue said 承诺 11-30, the detail page 法定 11-30 and
    承诺 12-03, and "补正暂停 0 个工作日" after three days paused."""
    actor = principal(clerk)
    case = _accepted_case(submit, clerk, date(2026, 3, 2))  # Mon; promised 15, legal 20
    stored = (case.promised_due_on, case.legal_due_on)
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["户口簿"], now=at(date(2026, 3, 4)))
    case.refresh_from_db()
    clock = case_clock(case, today=date(2026, 3, 9))  # Thu, Fri, Mon lost
    assert clock.paused_days == 3 and clock.paused_since == date(2026, 3, 4)
    from bianmin.core.calendar import add_working_days

    assert (clock.promised_due_on, clock.legal_due_on) == tuple(add_working_days(d, 3) for d in stored)
    # What receiving the materials that day stores is what the clock said.
    services.case_receive_correction(actor=actor, case_id=case.pk, now=at(date(2026, 3, 9)))
    case.refresh_from_db()
    after = case_clock(case, today=date(2026, 3, 9))
    assert (case.suspended_days, case.promised_due_on, case.legal_due_on) == (3, clock.promised_due_on,
                                                                              clock.legal_due_on)
    assert (after.paused_days, after.promised_due_on, after.legal_due_on) == (3, clock.promised_due_on,
                                                                              clock.legal_due_on)


def test_every_page_and_the_api_show_the_clocks_answer(submit, clerk, client, login, monkeypatch):
    import re

    from django.utils import timezone

    actor = principal(clerk)
    case = _accepted_case(submit, clerk, date(2026, 3, 2))
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["户口簿"], now=at(date(2026, 3, 4)))
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 3, 9))
    case.refresh_from_db()
    clock = case_clock(case, today=date(2026, 3, 9))
    promised, legal = f"{clock.promised_due_on:%Y-%m-%d}", f"{clock.legal_due_on:%Y-%m-%d}"
    login(clerk)
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"{legal} 前" in detail and f"{promised} 前" in detail and "3 个工作日（2026-03-04 起暂停中" in detail
    queue = client.get("/cases/?state=correction").content.decode()
    assert promised in queue and f"{case.promised_due_on:%Y-%m-%d}" not in re.sub(r"\s+", " ", queue)
    api = client.get(f"/api/v1/cases/{case.pk}").json()
    assert (api["promised_due_on"], api["legal_due_on"], api["suspended_days"]) == (promised, legal, 3)
    from bianmin.cases.dossier import dossier_facts

    facts = dict(dossier_facts(case, today=date(2026, 3, 9)))
    assert facts["承诺办结日 / 法定办结日"] == f"{promised} / {legal}" and facts["补正暂停"].startswith("3 个工作日")


def test_a_legal_deadline_in_a_year_of_estimated_holidays_is_flagged(submit, clerk, client, login):
    """Issue 19.7: appeals said so, cases did not."""
    from bianmin.core.models import CalendarYear

    case = _accepted_case(submit, clerk, date(2026, 3, 2))
    assert not case_clock(case, today=date(2026, 3, 2)).estimated
    CalendarYear.objects.update_or_create(year=2026, defaults={"confirmed": False})
    from bianmin.core import calendar as cal

    cal.invalidate()
    clock = case_clock(case, today=date(2026, 3, 2))
    assert clock.estimated and "预估" in clock.estimated_note
    login(clerk)
    assert "按预估的节假日安排计算" in client.get(f"/cases/{case.pk}/").content.decode()
    assert client.get(f"/api/v1/cases/{case.pk}").json()["deadline_estimated"] is True
