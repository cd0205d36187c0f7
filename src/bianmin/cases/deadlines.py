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

from bianmin.core.calendar import add_working_days, unconfirmed_years, working_days_between

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


ESTIMATED_NOTE = _("按预估的节假日安排计算，待国务院公布当年安排后可能调整")


@dataclass(frozen=True)
class CaseClock:
    """A case's dates and paused days as of one day: what every page, API, PDF and SMS shows.

    While a correction is outstanding the clock is stopped: the due dates and the paused days
    are given as they would stand if the materials arrived ``today`` (the same count
    ``case_receive_correction`` will store), so no screen shows a stored date the pause has
    already moved, or "0 days paused" after three."""

    status: str
    accepted_on: date | None
    promised_due_on: date | None
    legal_due_on: date | None
    paused_days: int  # working days the clock has stood still in all, the running pause included
    paused_since: date | None  # the running pause's first day
    remaining: int | None  # working days left to the promised date (negative when overdue); None without a clock
    estimated: bool  # the legal due date was counted through a year whose holidays are only estimated

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def due_on(self) -> date | None:
        return self.promised_due_on

    @property
    def estimated_note(self) -> str:
        return str(ESTIMATED_NOTE) if self.estimated else ""


def case_clock(case: Case, *, today: date) -> CaseClock:
    """Where a case stands against its limits on ``today``: the one computation of its dates."""
    paused_days = case.suspended_days
    promised, legal = case.promised_due_on, case.legal_due_on
    if case.state == State.CORRECTION and case.suspended_since is not None and case.accepted_on is not None:
        paused_days += paused_working_days(case.suspended_since, today)
        promised, legal = due_dates(accepted_on=case.accepted_on, legal_limit_days=case.legal_limit_days,
                                    promised_limit_days=case.promised_limit_days, paused_days=paused_days)
    estimated = bool(case.accepted_on and legal and unconfirmed_years(case.accepted_on, legal))

    def clock(status: str, remaining: int | None = None) -> CaseClock:
        return CaseClock(status, case.accepted_on, promised, legal, paused_days,
                         case.suspended_since if case.state == State.CORRECTION else None, remaining, estimated)

    if case.state == State.COMPLETED:
        if promised is None or case.completed_on is None:
            return clock(NONE)
        return clock(DONE_LATE if case.completed_on > promised else DONE_ON_TIME)
    if case.accepted_on is None or promised is None:
        # Not accepted yet (waiting, or a correction asked for at intake): the clock has not started.
        return clock(NOT_STARTED if case.state in (State.SUBMITTED, State.CORRECTION) else NONE)
    if case.state == State.CORRECTION:
        return clock(PAUSED, _remaining(today, promised))
    if case.state not in CLOCK_STATES:
        return clock(NONE)
    remaining = _remaining(today, promised)
    if today > promised:
        return clock(OVERDUE, remaining)
    if remaining <= DUE_SOON_WORKING_DAYS:
        return clock(DUE_SOON, remaining)
    return clock(ON_TIME, remaining)


def _remaining(today: date, due: date) -> int:
    if today <= due:
        return working_days_between(today, due) if today < due else 0
    return -working_days_between(due, today)
