from bianmin.demo import DEMO_PASSWORD
from bianmin.regions.models import Area

from .models import RoleAssignment, User
from .roles import Role


def load_demo_accounts():
    spec = [
        ("city_admin", "市管理员", Role.CITY_ADMIN, "350100000000"),
        ("gulou_admin", "鼓楼区管理员", Role.DISTRICT_ADMIN, "350102000000"),
        ("gudong_manager", "鼓东中心负责人", Role.CENTER_MANAGER, "350102001000"),
        ("gudong_clerk", "鼓东窗口", Role.WINDOW_CLERK, "350102001000"),
        ("guxi_clerk", "鼓西窗口", Role.WINDOW_CLERK, "350102002000"),
        ("gulou_agent", "鼓楼回访员", Role.FOLLOWUP_AGENT, "350102000000"),
        ("city_inspector", "市督查员", Role.INSPECTOR, "350100000000"),
        ("policy_editor", "政策编辑", Role.POLICY_EDITOR, "350100000000"),
    ]
    for username, name, role, code in spec:
        user, created = User.objects.get_or_create(username=username, defaults={"display_name": name, "is_demo": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == Role.CITY_ADMIN
            user.is_superuser = role == Role.CITY_ADMIN
            user.save()
        RoleAssignment.objects.get_or_create(user=user, role=role, area=Area.objects.get(code=code))
