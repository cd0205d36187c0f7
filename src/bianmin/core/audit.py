"""Writing the audit log. Services call `audit()` inside their transaction, so an audit row
exists exactly when the change does."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
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


# --- reading the log: labelled Chinese fields for the audit page and its exports (issue 22.9) ---
# The row keeps identifiers (a log-in name, "accounts.user", field names and stored values);
# what a person reads is the model's verbose name, the person's name, field verbose names and
# choice labels. Keys that name no model field (a service's own note) have a word here.
_CHANGE_WORDS = {
    "satisfied": "群众是否满意", "evidence_files": "证据文件", "note": "备注", "reason": "理由", "file": "文件",
    "fields": "字段", "filters": "查询条件", "fmt": "格式", "format": "格式", "sha256": "文件摘要", "handling": "差评处理",
    "created": "新增", "updated": "更新", "unmapped": "未匹配", "evidence": "证据", "count": "数量", "excluded": "不计入统计",
    "scopes": "权限范围", "role": "角色", "area": "区划", "site": "服务场所", "owner": "负责人", "user": "用户",
}
def actor_shown(entry: AuditEntry) -> str:
    return entry.actor_shown


def _model(target_type: str):
    from django.apps import apps

    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def target_type_shown(target_type: str) -> str:
    model = _model(target_type)
    return str(model._meta.verbose_name) if model is not None else target_type


def _value(field, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        if len(value) == 2 and not any(isinstance(v, (list, dict)) for v in value):
            return f"{_value(field, value[0])} → {_value(field, value[1])}"  # [before, after]
        return "、".join(_value(field, v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{_CHANGE_WORDS.get(k, k)}：{_value(None, v)}" for k, v in value.items())
    choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else {}
    return str(choices.get(value, value))


def change_items(entry: AuditEntry) -> list[tuple[str, str]]:
    """The row's changes as (label, value) pairs: the target model's field verbose name and the
    choice label where there is one."""
    model = _model(entry.target_type)
    out = []
    for key, value in (entry.changes or {}).items():
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(key)
            except FieldDoesNotExist:  # a service's own key
                field = None
        label = str(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else \
            _CHANGE_WORDS.get(key, key)
        out.append((label, _value(field, value)))
    return out


def changes_shown(entry: AuditEntry) -> str:
    return "；".join(f"{k}：{v}" for k, v in change_items(entry))
