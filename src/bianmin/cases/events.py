"""Typed constructors for the case timeline (Saleor's order/events.py pattern): one function per
event type, each writing one `CaseEvent` row, so the timeline's vocabulary lives in one place."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from bianmin.core.principal import Principal, actor_name

from .models import Case, CaseEvent

T = CaseEvent.Type


def _event(case: Case, type_: str, actor: Principal | None, at=None, **data) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=type_, at=at or timezone.now(),
        actor=getattr(actor, "user", None) if actor else None,
        actor_label=actor_name(actor)[:150],
        data={k: v for k, v in data.items() if v not in (None, "", [])},
    )


def submitted(case, actor, *, at=None, channel: str, pilot_credit_code: bool = False) -> CaseEvent:
    return _event(case, T.SUBMITTED, actor, at, channel=channel, pilot_credit_code=pilot_credit_code or None)


def updated(case, actor, *, at=None, fields: list[str]) -> CaseEvent:
    return _event(case, T.UPDATED, actor, at, fields=fields)


def accepted(case, actor, *, at=None, number: str, promised_due_on: date, legal_due_on: date,
             missing_materials: list[str] = ()) -> CaseEvent:
    extra = {"missing_materials": list(missing_materials)} if missing_materials else {}
    return _event(case, T.ACCEPTED, actor, at, number=number, promised_due_on=promised_due_on.isoformat(),
                  legal_due_on=legal_due_on.isoformat(), **extra)


def not_accepted(case, actor, *, at=None, reason: str) -> CaseEvent:
    return _event(case, T.NOT_ACCEPTED, actor, at, reason=reason)


def correction_requested(case, actor, *, at=None, materials: list[str], note: str, clock_running: bool) -> CaseEvent:
    return _event(case, T.CORRECTION_REQUESTED, actor, at, materials=materials, note=note, clock_running=clock_running)


def correction_received(case, actor, *, at=None, paused_days: int) -> CaseEvent:
    return _event(case, T.CORRECTION_RECEIVED, actor, at, paused_days=paused_days)


def started(case, actor, *, at=None) -> CaseEvent:
    return _event(case, T.STARTED, actor, at)


def completed(case, actor, *, at=None, result: str, reason: str, on_time: bool) -> CaseEvent:
    return _event(case, T.COMPLETED, actor, at, result=result, reason=reason, on_time=on_time)


def withdrawn(case, actor, *, at=None, reason: str) -> CaseEvent:
    return _event(case, T.WITHDRAWN, actor, at, reason=reason)


def transferred(case, actor, *, at=None, from_site: str, to_site: str, note: str) -> CaseEvent:
    return _event(case, T.TRANSFERRED, actor, at, from_site=from_site, to_site=to_site, note=note)


def visit(case, actor, *, at=None, site: str, purpose: str, count: int) -> CaseEvent:
    return _event(case, T.VISIT, actor, at, site=site, purpose=purpose, count=count)


def material(case, actor, *, at=None, name: str, file_name: str = "", sha256: str = "") -> CaseEvent:
    return _event(case, T.MATERIAL, actor, at, name=name, file_name=file_name, sha256=sha256)


def overdue(case, *, at=None, due_on: date) -> CaseEvent:
    return _event(case, T.OVERDUE, None, at, due_on=due_on.isoformat())


def assigned(case, actor, *, at=None, owner: str) -> CaseEvent:
    return _event(case, T.ASSIGNED, actor, at, owner=owner)
