"""The explicit table of a bad review's handling (差评处理), as cases/workflow.py is for a case.

Each action names the statuses it may start from and where it leads, with why. Services look the
action up here before changing anything; an action not allowed from the current status is a 409
with the reason in Chinese, and the handling page offers exactly the allowed actions. Nothing
else changes ``BadReviewHandling.status``. Who decides a site's appeal (上级复核) is here too."""

from __future__ import annotations

from dataclasses import dataclass

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden
from bianmin.core.principal import Principal

from .models import BadReviewHandling

H = BadReviewHandling.Status
V = BadReviewHandling.Verdict

# Marker target: back to the status the handling had before the appeal.
PREVIOUS = "__previous__"
# Every status before the end: an appeal may be filed from any of them (once).
_BEFORE_CLOSE = (H.OPEN, H.RECTIFYING, H.EXPLAINED, H.RECTIFIED, H.FOLLOWED_UP)


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # Chinese name of the step
    sources: tuple[str, ...]
    target: str | None  # None: decided by the step's outcome (below)
    refusal: str  # the 409's message when the step is not allowed now


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        # 核实: once, on a new handling. The verdict decides where it goes (VERIFY_TARGETS).
        Transition("verify", "核实", (H.OPEN,), None, "该差评已核实，不能重复核实"),
        # 整改完成: the rectification in the ledger is done (rectification_complete moves this).
        Transition("rectified", "整改完成", (H.RECTIFYING,), H.RECTIFIED, "该差评不在整改中"),
        # 回访: the citizen is called after the rectification or the explanation; a further call
        # is recorded too. A call before that (the daily list) only notes the contact.
        Transition("follow_up", "回访", (H.RECTIFIED, H.EXPLAINED, H.FOLLOWED_UP), H.FOLLOWED_UP,
                   "请在整改完成或解释说明后再回访"),
        # 办结: only after the citizen was called back; the outcome goes to the province.
        Transition("close", "办结", (H.FOLLOWED_UP,), H.CLOSED, "须完成核实、整改（或解释说明）并回访群众后才能办结"),
        # 申诉: the site thinks the review mistaken or malicious, at any stage before the end, once.
        Transition("appeal", "申诉", _BEFORE_CLOSE, H.APPEALED, "该差评已在申诉复核中或已办结"),
        # 补充证据: only while the level above has not decided (what was decided on stays on file).
        Transition("evidence", "补充申诉证据", (H.APPEALED,), H.APPEALED, "该差评不在申诉复核中，不能补充证据"),
        # 复核: upheld closes the handling (the review leaves the figures); rejected resumes it.
        Transition("decide", "申诉复核", (H.APPEALED,), None, "该差评不在申诉复核中"),
    )
}

# Where 核实 leads: confirmed → a rectification; no legal basis → an explanation to the citizen;
# mistaken → stays open, for the site's appeal.
VERIFY_TARGETS = {V.CONFIRMED: H.RECTIFYING, V.NO_BASIS: H.EXPLAINED, V.MISTAKEN: H.OPEN}


def allowed(handling: BadReviewHandling, action: str) -> bool:
    t = TRANSITIONS[action]
    if handling.status not in t.sources:
        return False
    if action == "appeal" and handling.appeal_decision:
        return False  # one appeal per review
    if action == "rectified" and not handling.rectification_id:
        return False  # marked done through its rectification in the ledger
    return True


def check(handling: BadReviewHandling, action: str) -> Transition:
    """The transition for ``action`` now, or a Conflict (409) saying why not."""
    t = TRANSITIONS[action]
    if not allowed(handling, action):
        if action == "appeal" and handling.appeal_decision and handling.status in t.sources:
            raise Conflict("该差评已申诉并复核，不能再次申诉", code="transition_not_allowed")
        raise Conflict(t.refusal, code="transition_not_allowed")
    return t


def allowed_actions(handling: BadReviewHandling) -> set[str]:
    return {action for action in TRANSITIONS if allowed(handling, action)}


def move(handling: BadReviewHandling, action: str, *, target: str | None = None) -> None:
    """Set the status the transition leads to (``target`` for the outcome-decided ones)."""
    t = check(handling, action)
    to = target if t.target is None else t.target
    if to is None:
        raise ValueError(f"{action}: the target depends on the outcome and must be given")
    if action == "appeal":
        handling.status_before_appeal = handling.status
    handling.status = (handling.status_before_appeal or H.OPEN) if to == PREVIOUS else to


def decides_appeal(principal: Principal, handling: BadReviewHandling) -> bool:
    """Who decides a handling's appeal: whoever holds BADREVIEW_DECIDE at the level above its area
    (上级复核). The same test refuses that level filing the appeal or adding to its evidence
    (回避), and decides what the page offers."""
    parent = handling.area.parent
    return parent is not None and principal.can(Cap.BADREVIEW_DECIDE, parent)


# Who takes each step (``allowed`` above says when). One rule for the services, which refuse with
# ``check_actor``, and for the pages, which offer a form only when ``may`` says yes
# (selectors.handling_actions): 核实, 整改完成, 办结, 申诉 and its evidence by the unit that handles
# bad reviews (BADREVIEW_HANDLE); 回访 by the follow-up desk (FOLLOWUP_WORK, the 回访员's role);
# 复核 by the level above. A clerk who was complained about holds none of these (issue 22.7).
_HANDLER_REFUSAL = "差评的核实、整改、申诉和办结由差评处理单位负责，您的角色无权办理"
_FOLLOW_UP_REFUSAL = "差评回访由回访员负责，您的角色无权记录回访"


def refusal(principal: Principal, handling: BadReviewHandling, action: str) -> str | None:
    """Why ``principal`` may not take ``action`` on ``handling`` (None: they may)."""
    TRANSITIONS[action]  # an unknown action is a programming error, not a refusal
    if action == "decide":
        return None if decides_appeal(principal, handling) else "申诉须由上级单位复核"
    if action == "follow_up":
        return None if principal.can(Cap.FOLLOWUP_WORK, handling.area) else _FOLLOW_UP_REFUSAL
    if not principal.can(Cap.BADREVIEW_HANDLE, handling.area):
        return _HANDLER_REFUSAL
    if action == "appeal" and decides_appeal(principal, handling):
        # 回避: the level that decides an appeal does not also file it.
        return "申诉由被评价单位提出，上级单位负责复核；负责复核的单位不能自己提出申诉"
    if action == "evidence" and decides_appeal(principal, handling):
        return "申诉证据由申诉单位补充；负责复核的上级单位不能补充证据"
    return None


def may(principal: Principal, handling: BadReviewHandling, action: str) -> bool:
    return refusal(principal, handling, action) is None


def check_actor(principal: Principal, handling: BadReviewHandling, action: str) -> None:
    """403 with the reason when ``principal`` may not take ``action`` (the handling is in their
    scope: whoever cannot see it got a 404 before this)."""
    reason = refusal(principal, handling, action)
    if reason is not None:
        raise Forbidden(reason)
