"""The lifecycle: each transition, its rules, its event and audit row; what is not allowed → 409."""

from __future__ import annotations

from datetime import date

import pytest

from bianmin.cases import services, signals
from bianmin.cases.models import Case, CaseEvent, State
from bianmin.cases.workflow import TRANSITIONS, allowed_actions, transition_for
from bianmin.core.errors import Conflict, Invalid, NotFound
from bianmin.core.models import AuditEntry

from .conftest import at, principal

DAY = date(2026, 3, 2)  # a Monday


def test_table_names_every_action_once_and_only_known_states():
    for t in TRANSITIONS.values():
        assert set(t.sources) <= set(State.values)
    assert {t.action for t in allowed_actions(State.COMPLETED)} == set()
    assert {t.action for t in allowed_actions(State.SUBMITTED)} == {
        "accept", "reject", "request_correction", "withdraw", "transfer"}


def test_transition_for_refuses_with_reason():
    with pytest.raises(Conflict) as err:
        transition_for("complete", State.SUBMITTED)
    assert err.value.status == 409
    assert "待受理" in err.value.message and "不能办结" in err.value.message


def test_full_lifecycle_writes_one_event_and_one_audit_row_per_step(submit, clerk):
    actor = principal(clerk)
    case = submit(DAY)
    assert case.state == State.SUBMITTED and case.visit_count == 1  # at the window: first trip
    assert case.materials.count() == 2
    services.case_accept(actor=actor, case_id=case.pk, now=at(DAY))
    services.case_start(actor=actor, case_id=case.pk, now=at(DAY))
    services.case_complete(actor=actor, case_id=case.pk, result="approved", now=at(date(2026, 3, 5)))
    case.refresh_from_db()
    assert case.state == State.COMPLETED and case.result == "approved"
    assert case.completed_on == date(2026, 3, 5)
    types = list(case.events.values_list("type", flat=True))
    assert types == ["submitted", "visit", "accepted", "started", "completed"]
    actions = list(AuditEntry.objects.filter(target_type="cases.case", target_id=str(case.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["create", "transition", "transition", "transition"]


def test_acceptance_number_is_site_date_sequence_and_unique(submit, clerk):
    actor = principal(clerk)
    a, b = submit(DAY), submit(DAY)
    services.case_accept(actor=actor, case_id=a.pk, now=at(DAY))
    services.case_accept(actor=actor, case_id=b.pk, now=at(DAY))
    c = submit(date(2026, 3, 3))
    services.case_accept(actor=actor, case_id=c.pk, now=at(date(2026, 3, 3)))
    numbers = [Case.objects.get(pk=x.pk).acceptance_number for x in (a, b, c)]
    assert numbers == ["C-GUDONG-20260302-0001", "C-GUDONG-20260302-0002", "C-GUDONG-20260303-0001"]


def test_reject_needs_a_reason_and_writes_nothing_without_it(submit, clerk):
    case = submit(DAY)
    before = CaseEvent.objects.count(), AuditEntry.objects.count()
    with pytest.raises(Invalid) as err:
        services.case_reject(actor=principal(clerk), case_id=case.pk, reason="  ")
    assert err.value.field == "reason" and "理由" in err.value.message
    assert (CaseEvent.objects.count(), AuditEntry.objects.count()) == before
    case.refresh_from_db()
    assert case.state == State.SUBMITTED
    services.case_reject(actor=principal(clerk), case_id=case.pk, reason="不属于本中心受理范围")
    case.refresh_from_db()
    assert case.state == State.NOT_ACCEPTED and case.reason == "不属于本中心受理范围"


def test_denial_needs_a_reason(submit, clerk):
    actor = principal(clerk)
    case = submit(DAY)
    services.case_accept(actor=actor, case_id=case.pk, now=at(DAY))
    with pytest.raises(Invalid):
        services.case_complete(actor=actor, case_id=case.pk, result="denied", reason="")
    with pytest.raises(Invalid):
        services.case_complete(actor=actor, case_id=case.pk, result="maybe")
    services.case_complete(actor=actor, case_id=case.pk, result="denied", reason="家庭人均收入高于低保标准")
    assert Case.objects.get(pk=case.pk).result == "denied"


def test_not_allowed_transitions_conflict_and_change_nothing(submit, clerk):
    actor = principal(clerk)
    case = submit(DAY)
    with pytest.raises(Conflict):
        services.case_start(actor=actor, case_id=case.pk)
    with pytest.raises(Conflict):
        services.case_complete(actor=actor, case_id=case.pk, result="approved")
    with pytest.raises(Conflict):
        services.case_receive_correction(actor=actor, case_id=case.pk)
    services.case_withdraw(actor=actor, case_id=case.pk, reason="申请人不再需要")
    events = CaseEvent.objects.filter(case=case).count()
    for call in (lambda: services.case_accept(actor=actor, case_id=case.pk),
                 lambda: services.case_withdraw(actor=actor, case_id=case.pk),
                 lambda: services.case_request_correction(actor=actor, case_id=case.pk, materials=["户口簿"])):
        with pytest.raises(Conflict):
            call()
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).state == State.WITHDRAWN


def test_correction_before_acceptance_returns_to_submitted_without_clock(submit, clerk):
    actor = principal(clerk)
    case = submit(DAY)
    with pytest.raises(Invalid) as err:
        services.case_request_correction(actor=actor, case_id=case.pk, materials=["", " "])
    assert err.value.field == "materials"
    services.case_request_correction(actor=actor, case_id=case.pk, materials=["户口簿"], now=at(DAY))
    case.refresh_from_db()
    assert case.state == State.CORRECTION and case.suspended_since is None
    services.case_receive_correction(actor=actor, case_id=case.pk, now=at(date(2026, 3, 6)))
    case.refresh_from_db()
    assert case.state == State.SUBMITTED and case.suspended_days == 0
    assert case.suspensions.get().clock_running is False


def test_sibling_township_clerk_gets_not_found(submit, guxi_clerk):
    case = submit(DAY)
    with pytest.raises(NotFound):
        services.case_accept(actor=principal(guxi_clerk), case_id=case.pk)
    assert Case.objects.get(pk=case.pk).state == State.SUBMITTED


def test_signals_are_sent_on_commit_only(submit, clerk, django_capture_on_commit_callbacks):
    received = []

    def on_completed(sender, case, **kw):
        received.append(case.pk)

    signals.case_completed.connect(on_completed)
    try:
        actor = principal(clerk)
        case = submit(DAY)
        services.case_accept(actor=actor, case_id=case.pk, now=at(DAY))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.case_complete(actor=actor, case_id=case.pk, result="approved")
        assert received == []  # not before commit
        for cb in callbacks:
            cb()
        assert received == [case.pk]
    finally:
        signals.case_completed.disconnect(on_completed)


def test_manager_assigns_only_to_someone_who_may_handle(submit, manager, clerk, guxi_clerk):
    case = submit(DAY)
    with pytest.raises(Invalid):
        services.case_assign(actor=principal(manager), case_id=case.pk, owner=guxi_clerk)
    services.case_assign(actor=principal(manager), case_id=case.pk, owner=clerk)
    assert Case.objects.get(pk=case.pk).owner == clerk
    with pytest.raises(NotFound):  # a clerk lacks case.manage: the case is not found for that use
        services.case_assign(actor=principal(clerk), case_id=case.pk, owner=clerk)
