import datetime as dt

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "惠企政策每日任务：将执行期限已过的政策置为过期，并向牵头部门发送30日内到期的政策清单。"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="按指定日期运行（YYYY-MM-DD），默认今天")

    def handle(self, *args, **options):
        from bianmin.policies.services import policies_expire_due, policies_warn_expiring

        try:
            today = dt.date.fromisoformat(options["today"]) if options.get("today") else None
        except ValueError:
            raise CommandError("日期格式应为 YYYY-MM-DD") from None
        expired = policies_expire_due(today=today)
        warned = policies_warn_expiring(today=today)
        self.stdout.write(f"已置为过期：{expired} 项；已提醒部门：{warned} 个")
