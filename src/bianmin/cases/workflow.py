"""The explicit table of allowed state changes of a case (Signalen's workflow.py style).

Each action names the states it may start from and the state it leads to, with why it is allowed.
Services look the action up here before changing anything; an action not allowed from the current
state is a 409 with the reason in Chinese. Nothing else changes `Case.state`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bianmin.core.errors import Conflict

from .models import State

# Marker target: go back to the state the case was in before the correction request.
PREVIOUS = "__previous__"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # Chinese name of the action, shown on buttons and in errors
    sources: tuple[str, ...]
    target: str


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        # 受理: a submitted application whose materials are complete is accepted; the clock starts.
        Transition("accept", "受理", (State.SUBMITTED,), State.ACCEPTED),
        # 不予受理: the application is outside the site's remit or fails the acceptance conditions;
        # only a submitted one can be refused (once accepted it is decided, not refused).
        Transition("reject", "不予受理", (State.SUBMITTED,), State.NOT_ACCEPTED),
        # 补正: materials are missing — at intake (一次性告知, before the clock starts) or during
        # handling (the clock pauses). Not from a correction: add to the list instead of nesting.
        Transition("request_correction", "一次性告知补正", (State.SUBMITTED, State.ACCEPTED, State.IN_PROGRESS),
                   State.CORRECTION),
        # 补正材料收齐: back to where the case was; the paused working days push the due dates.
        Transition("receive_correction", "补正材料收齐", (State.CORRECTION,), PREVIOUS),
        # 开始办理: an accepted case is taken up (review, field check, approval).
        Transition("start", "开始办理", (State.ACCEPTED,), State.IN_PROGRESS),
        # 办结: approved or denied with reason; an accepted case may be finished at once (即办件).
        Transition("complete", "办结", (State.ACCEPTED, State.IN_PROGRESS), State.COMPLETED),
        # 撤回: the applicant may withdraw at any point before a decision.
        Transition("withdraw", "撤回申请", (State.SUBMITTED, State.ACCEPTED, State.CORRECTION, State.IN_PROGRESS),
                   State.WITHDRAWN),
        # 业务转办: a station forwards a submitted case to the higher site before anyone accepts it;
        # the state stays "submitted" — the receiving site accepts it.
        Transition("transfer", "业务转办", (State.SUBMITTED,), State.SUBMITTED),
    )
}


def transition_for(action: str, state: str) -> Transition:
    """The transition for `action` from `state`, or a Conflict (409) saying why not."""
    t = TRANSITIONS[action]
    if state not in t.sources:
        current = State(state).label
        allowed = "、".join(str(State(s).label) for s in t.sources)
        raise Conflict(f"办件当前状态为“{current}”，不能{t.label}（仅限{allowed}状态）", code="transition_not_allowed")
    return t


def allowed_actions(state: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]


def case_actions(case) -> list[str]:
    """The actions a case offers now: its state's transitions, narrowed by its mode. A 业务转办
    item is transferred, not accepted, at the site that took it in; once transferred (the case
    now sits at another site) it is accepted there and never offered 转办 again."""
    actions = [t.action for t in allowed_actions(case.state)]
    transferable = case.mode == "transfer" and case.site_id == case.received_site_id
    if not transferable:
        actions = [a for a in actions if a != "transfer"]
    elif "accept" in actions:
        actions.remove("accept")
    return actions
