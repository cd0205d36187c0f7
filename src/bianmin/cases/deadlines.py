"""Time limits in working days (行政许可法 §82): counted from the day of acceptance, excluding
statutory holidays (调休 weekends count as working days) and the days spent waiting for the
applicant's corrections (补正).

The due date is the (limit + paused working days)-th working day after acceptance, so a pause
pushes both due dates by exactly the working days it lasted — the clock "stops" (Open Zaak's
opschorting) without anyone editing a date by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from bianmin.core.calendar import add_working_days, working_days_between

from .models import CLOCK_STATES, Case, State

ON_TIME = "on_time"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
PAUSED = "paused"
NOT_STARTED = "not_started"
DONE_ON_TIME = "done_on_time"
DONE_LATE = "done_late"
NONE = "none"

STATUS_LABELS = {
    ON_TIME: _("正常"),
    DUE_SOON: _("即将到期"),
    OVERDUE: _("已超期"),
    PAUSED: _("补正中（暂停计时）"),
    NOT_STARTED: _("未受理（未计时）"),
    DONE_ON_TIME: _("按时办结"),
    DONE_LATE: _("超期办结"),
    NONE: _("—"),
}

# "Due soon" = one working day or less left (the rule).
DUE_SOON_WORKING_DAYS = 1


def due_dates(*, accepted_on: date, legal_limit_days: int, promised_limit_days: int, paused_days: int = 0) -> tuple[date, date]:
    """(promised_due_on, legal_due_on) for a case accepted on `accepted_on` whose clock has been
    stopped for `paused_days` working days in all."""
    return (
        add_working_days(accepted_on, promised_limit_days + paused_days),
        add_working_days(accepted_on, legal_limit_days + paused_days),
    )


def paused_working_days(started_on: date, ended_on: date) -> int:
    """Working days lost to a pause from `started_on` (the request) to `ended_on` (materials in):
    the working days after the request up to and including the day the materials arrived."""
    if ended_on <= started_on:
        return 0
    return working_days_between(started_on, ended_on)


@dataclass(frozen=True)
class DeadlineInfo:
    status: str
    due_on: date | None
    remaining: int | None  # working days left (negative when overdue); None when no clock

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])


def deadline_info(case: Case, *, today: date) -> DeadlineInfo:
    """Where a case stands against its promised limit on `today`."""
    if case.state == State.COMPLETED:
        if case.promised_due_on is None or case.completed_on is None:
            return DeadlineInfo(NONE, case.promised_due_on, None)
        late = case.completed_on > case.promised_due_on
        return DeadlineInfo(DONE_LATE if late else DONE_ON_TIME, case.promised_due_on, None)
    if case.accepted_on is None or case.promised_due_on is None:
        # Not accepted yet (waiting, or a correction asked for at intake): the clock has not started.
        started = case.state in (State.SUBMITTED, State.CORRECTION)
        return DeadlineInfo(NOT_STARTED if started else NONE, None, None)
    if case.state == State.CORRECTION:
        # Paused: the due date moves with every working day of the pause; show it as it would be
        # if the materials arrived today.
        extra = paused_working_days(case.suspended_since, today) if case.suspended_since else 0
        due = add_working_days(case.accepted_on, case.promised_limit_days + case.suspended_days + extra)
        return DeadlineInfo(PAUSED, due, _remaining(today, due))
    if case.state not in CLOCK_STATES:
        return DeadlineInfo(NONE, case.promised_due_on, None)
    due = case.promised_due_on
    remaining = _remaining(today, due)
    if today > due:
        return DeadlineInfo(OVERDUE, due, remaining)
    if remaining <= DUE_SOON_WORKING_DAYS:
        return DeadlineInfo(DUE_SOON, due, remaining)
    return DeadlineInfo(ON_TIME, due, remaining)


def _remaining(today: date, due: date) -> int:
    if today <= due:
        return working_days_between(today, due) if today < due else 0
    return -working_days_between(due, today)
