"""Writing the audit log. Services call `audit()` inside their transaction, so an audit row
exists exactly when the change does."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from .models import AuditEntry
from .principal import Principal
from .text import clean


def client_ip(request) -> str | None:
    if request is None:
        return None
    from .clientaddr import client_address

    return client_address(request.META)


def audit(
    *,
    actor: Principal | None,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    label: str = "",
    area_code: str = "",
    changes: dict[str, Any] | None = None,
    user_agent: str = "",
) -> AuditEntry:
    if target is not None:
        target_type = target_type or f"{target._meta.app_label}.{target._meta.model_name}"
        target_id = target_id or str(target.pk)
        label = label or str(target)[:200]
    user = getattr(actor, "user", None) if actor else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=(actor.label if actor else "system")[:150],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=label[:200],
        area_code=area_code,
        changes=changes or {},
        ip=actor.ip if actor else None,
        # A header is input like any other (core.text): a control character in it would reach
        # the audit pages and exports.
        user_agent=clean(user_agent)[:200],
    )
