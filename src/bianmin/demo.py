"""Demo data for the demo city, loaded through the services. The demo log-ins exist only with it."""

from __future__ import annotations

DEMO_PASSWORD = "Bianmin@2026"

# (username, description, password) — printed by `bianmin up`
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("city_admin", "市级管理员（福州市）", DEMO_PASSWORD),
    ("gulou_admin", "县（市）区管理员（鼓楼区）", DEMO_PASSWORD),
    ("gudong_manager", "中心负责人（鼓楼区鼓东街道）", DEMO_PASSWORD),
    ("gudong_clerk", "窗口人员（鼓楼区鼓东街道）", DEMO_PASSWORD),
    ("guxi_clerk", "窗口人员（鼓楼区鼓西街道）", DEMO_PASSWORD),
    ("gulou_agent", "回访员（鼓楼区）", DEMO_PASSWORD),
    ("city_inspector", "督查员（福州市）", DEMO_PASSWORD),
    ("policy_editor", "政策编辑（福州市）", DEMO_PASSWORD),
]


def database_is_empty() -> bool:
    from bianmin.regions.models import Area

    return not Area.objects.exists()
