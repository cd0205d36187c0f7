from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "载入演示城市（福州市）的演示数据：区划、服务场所、演示账号等。"

    def handle(self, *args, **options):
        call_command("load_areas", verbosity=options["verbosity"])
        from bianmin.accounts.demo import load_demo_accounts
        from bianmin.regions.demo import load_demo_sites

        load_demo_sites()
        from bianmin.catalog.demo import load_demo_catalog

        load_demo_catalog()
        load_demo_accounts()
        from bianmin.cases.demo import load_demo_cases; load_demo_cases()  # noqa: E702, I001 (cases, after the catalog)
        from bianmin.appeals.demo import load_demo_appeals; load_demo_appeals()  # noqa: E702 (appeals, after accounts and catalog)
        from bianmin.evaluations.demo import load_demo_evaluations; load_demo_evaluations()  # noqa: E702 (after cases)
        from bianmin.followups.demo import load_demo_followups; load_demo_followups()  # noqa: E702 (after evaluations, appeals)
        from bianmin.followups.rollups import rebuild; rebuild()  # noqa: E702, I001 (the bulk paths skip the roll-up upkeep)
        self.stdout.write("演示数据载入完成")
