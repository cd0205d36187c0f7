"""The demo log-ins. They exist only with the demo data; `bianmin up` prints them and refuses a
network address while they exist."""

from bianmin.regions.models import Area

from .models import RoleAssignment, User
from .roles import Role

DEMO_PASSWORD = "Bianmin@2026"

# (username, display name, role, area code, description printed by `bianmin up`)
DEMO_ACCOUNTS = [
    ("city_admin", "市管理员", Role.CITY_ADMIN, "350100000000", "市级管理员（福州市）"),
    ("gulou_admin", "鼓楼区管理员", Role.DISTRICT_ADMIN, "350102000000", "县（市）区管理员（鼓楼区）"),
    ("gudong_manager", "鼓东中心负责人", Role.CENTER_MANAGER, "350102001000", "中心负责人（鼓楼区鼓东街道）"),
    ("gudong_clerk", "鼓东窗口", Role.WINDOW_CLERK, "350102001000", "窗口人员（鼓楼区鼓东街道）"),
    ("guxi_clerk", "鼓西窗口", Role.WINDOW_CLERK, "350102002000", "窗口人员（鼓楼区鼓西街道）"),
    ("gulou_agent", "鼓楼回访员", Role.FOLLOWUP_AGENT, "350102000000", "回访员（鼓楼区）"),
    ("city_inspector", "市督查员", Role.INSPECTOR, "350100000000", "督查员（福州市）"),
    ("policy_editor", "政策编辑", Role.POLICY_EDITOR, "350100000000", "政策编辑（福州市）"),
    ("city_leader", "孙春影", Role.LEADER, "350100000000", "单位领导、签发人（福州市）"),
]

# (username, description, password)
DEMO_LOGINS: list[tuple[str, str, str]] = [(u, label, DEMO_PASSWORD) for u, _n, _r, _c, label in DEMO_ACCOUNTS]


def load_demo_accounts():
    for username, name, role, code, _label in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=username, defaults={"display_name": name, "is_demo": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == Role.CITY_ADMIN
            user.is_superuser = role == Role.CITY_ADMIN
            user.save()
        RoleAssignment.objects.get_or_create(user=user, role=role, area=Area.objects.get(code=code))
