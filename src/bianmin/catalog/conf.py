"""Catalog configuration a city may change in settings or the environment (the defaults are the
seed's, in the settings table, bianmin/conf.py)."""

from __future__ import annotations

from django.conf import settings

# Elements shared by every level ("五级十五同"). These six are always shared (STANDARDS.md).
ALWAYS_SHARED = ("name", "code", "item_type", "competent_department", "implementing_body", "legal_basis")
# Elements a city may choose to share or to leave to local implementation lists. By default, all.
CONFIGURABLE_SHARED = ("acceptance_conditions", "materials", "flow", "legal_limit_days", "fee", "service_object",
                       "special_steps", "result_name", "tier", "handling_kind")
# Of those, the ones an implementation list may fill in locally when the city does not share them.
LOCALLY_OVERRIDABLE = ("acceptance_conditions", "flow", "fee", "service_object", "special_steps", "result_name")

ELEMENT_LABELS = {
    "name": "事项名称", "code": "事项编码", "item_type": "事项类型", "competent_department": "主管部门",
    "implementing_body": "实施主体", "legal_basis": "设定依据", "acceptance_conditions": "受理条件",
    "materials": "申请材料", "flow": "办理流程", "legal_limit_days": "法定办结时限", "fee": "收费标准",
    "service_object": "服务对象", "special_steps": "特别程序", "result_name": "办理结果", "tier": "事项层级",
    "handling_kind": "办理项类型", "aliases": "别名", "is_classified": "涉密事项", "parent": "上级事项",
    "is_public_service": "公共服务事项", "levels": "实施层级",
}


def mandatory_departments() -> tuple[str, ...]:
    """The departments that must be stationed in every township center, with no separate service
    place of their own, matched against Department.category: BIANMIN_MANDATORY_DEPARTMENTS
    (bianmin/conf.py; by default the seed's 计生、民政、国土、村建、农业、林业、渔业、劳动保障、司法、工商、残联)."""
    return tuple(settings.BIANMIN_MANDATORY_DEPARTMENTS)


def shared_elements() -> frozenset[str]:
    """BIANMIN_SHARED_ELEMENTS (bianmin/conf.py; by default every one of CONFIGURABLE_SHARED)."""
    return frozenset(ALWAYS_SHARED) | {v for v in settings.BIANMIN_SHARED_ELEMENTS if v in CONFIGURABLE_SHARED}
