"""Roles and what each may do. A role is always held at an area (RoleAssignment); the scope rule
limits it to that area and the areas below. What each role may do is a set of capabilities, named
in bianmin.core.capabilities."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from bianmin.core.capabilities import Cap


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级管理员")
    DISTRICT_ADMIN = "district_admin", _("县（市）区管理员")
    CENTER_MANAGER = "center_manager", _("中心负责人")
    WINDOW_CLERK = "window_clerk", _("窗口人员")
    FOLLOWUP_AGENT = "followup_agent", _("回访员")
    INSPECTOR = "inspector", _("督查员")
    POLICY_EDITOR = "policy_editor", _("政策编辑")
    LEADER = "leader", _("单位领导（签发人）")


_ALL_OPERATIONS = {
    Cap.VIEW, Cap.UNMASK, Cap.STATIONING_EDIT, Cap.CASE_HANDLE, Cap.CASE_MANAGE, Cap.EVALUATION_RECORD,
    Cap.BADREVIEW_HANDLE, Cap.BADREVIEW_DECIDE, Cap.FOLLOWUP_WORK, Cap.APPEAL_HANDLE, Cap.APPEAL_MANAGE,
}

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.CITY_ADMIN: frozenset(_ALL_OPERATIONS | {
        Cap.AUDIT_VIEW, Cap.USERS_MANAGE, Cap.KEYS_MANAGE, Cap.CALENDAR_EDIT, Cap.REGIONS_EDIT,
        Cap.CATALOG_EDIT, Cap.INSPECT, Cap.POLICY_EDIT,
        Cap.KIOSK_MANAGE,
        Cap.ENGAGEMENT_MANAGE, Cap.PROPOSAL_HANDLE, Cap.PROPOSAL_SIGN,
    }),
    Role.DISTRICT_ADMIN: frozenset(_ALL_OPERATIONS | {Cap.USERS_MANAGE, Cap.KEYS_MANAGE, Cap.REGIONS_EDIT, Cap.INSPECT,
                                                      Cap.INSPECTION_RESPOND, Cap.KIOSK_MANAGE,
                                                      Cap.ENGAGEMENT_MANAGE, Cap.PROPOSAL_HANDLE}),
    Role.CENTER_MANAGER: frozenset({
        Cap.VIEW, Cap.UNMASK, Cap.STATIONING_EDIT, Cap.CASE_HANDLE, Cap.CASE_MANAGE, Cap.EVALUATION_RECORD,
        Cap.BADREVIEW_HANDLE, Cap.APPEAL_HANDLE, Cap.APPEAL_MANAGE, Cap.KEYS_MANAGE,
        Cap.INSPECTION_RESPOND,
        Cap.KIOSK_MANAGE,
        Cap.ENGAGEMENT_MANAGE, Cap.PROPOSAL_HANDLE,
    }),
    Role.WINDOW_CLERK: frozenset({Cap.VIEW, Cap.CASE_HANDLE, Cap.EVALUATION_RECORD, Cap.APPEAL_HANDLE}),
    Role.FOLLOWUP_AGENT: frozenset({Cap.VIEW, Cap.UNMASK, Cap.FOLLOWUP_WORK, Cap.EVALUATION_RECORD, Cap.APPEAL_HANDLE}),
    Role.INSPECTOR: frozenset({Cap.VIEW, Cap.INSPECT}),
    Role.POLICY_EDITOR: frozenset({Cap.POLICY_EDIT}),
    Role.LEADER: frozenset({Cap.VIEW, Cap.PROPOSAL_SIGN}),
}
