"""Which status may follow which, and why. Services consult this table before any change, so a
transition that is not listed is refused with a Chinese message (409), whoever asks."""

from __future__ import annotations

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict

from .models import Status

S = Status

TRANSITIONS: dict[str, set[str]] = {
    # A newly registered appeal waits for its first receiver or a manager to name one owner.
    S.REGISTERED: {S.ASSIGNED},
    # The owner calls the citizen before handling (事前电话沟通); a plain consultation may be
    # answered on that same call, so 'replied' is allowed straight from 'assigned' too.
    S.ASSIGNED: {S.CONTACTED, S.IN_PROGRESS, S.REPLIED},
    S.CONTACTED: {S.IN_PROGRESS, S.REPLIED},
    # Coordination with departments happens here; it ends with a reply (答复).
    S.IN_PROGRESS: {S.REPLIED},
    # After the reply the follow-up asks for satisfaction; an anonymous appeal cannot be asked,
    # so it may be closed directly (checked in the service).
    S.REPLIED: {S.FOLLOWED_UP, S.REOPENED, S.CLOSED},
    S.FOLLOWED_UP: {S.CLOSED, S.REOPENED},
    # An unsatisfied citizen reopens the appeal: the owner handles it again.
    S.REOPENED: {S.CONTACTED, S.IN_PROGRESS, S.REPLIED},
    S.CLOSED: set(),
}


def check(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, set()):
        raise Conflict(
            f"诉求当前状态为“{Status(current).label}”，不能变更为“{Status(target).label}”",
            field="status",
            code="invalid_transition",
        )


def may_own(user, area) -> bool:
    """Who may be named an appeal's owner (专人负责): an active person holding APPEAL_HANDLE over
    its area, who can therefore open and handle it. The one rule for ``services.appeal_assign``
    (which refuses anyone else, 422) and ``selectors.appeal_owner_candidates`` (which offers only
    them): a 政策编辑 was offered and then got 404 on the appeal they owned (issue 22.7)."""
    return user is not None and user.is_active and Cap.APPEAL_HANDLE in user.capabilities_at(area)
