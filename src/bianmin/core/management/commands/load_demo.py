import time
from importlib import import_module

from django.core.management import call_command
from django.core.management.base import BaseCommand

# The demo city's data, in the spine's order: each step uses what the steps before it made.
STEPS = [
    ("服务场所", "bianmin.regions.demo", "load_demo_sites"),
    ("事项目录与进驻", "bianmin.catalog.demo", "load_demo_catalog"),
    ("演示账号", "bianmin.accounts.demo", "load_demo_accounts"),
    ("办件", "bianmin.cases.demo", "load_demo_cases"),
    ("诉求", "bianmin.appeals.demo", "load_demo_appeals"),
    ("好差评", "bianmin.evaluations.demo", "load_demo_evaluations"),
    ("回访与整改", "bianmin.followups.demo", "load_demo_followups"),
    # The bulk paths above skip the roll-up upkeep: rebuild the figures once at the end.
    ("统计汇总", "bianmin.followups.rollups", "rebuild"),
]


class Command(BaseCommand):
    help = "载入演示城市（福州市）的演示数据：区划、服务场所、事项、账号、办件、诉求、评价与回访。"

    def handle(self, *args, **options):
        call_command("load_areas", verbosity=options["verbosity"])
        for label, module, function in STEPS:
            started = time.monotonic()
            getattr(import_module(module), function)()
            if options["verbosity"]:
                self.stdout.write(f"  {label}：{time.monotonic() - started:.1f} 秒")
        self.stdout.write("演示数据载入完成")
