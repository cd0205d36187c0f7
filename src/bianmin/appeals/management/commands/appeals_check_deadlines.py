import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from bianmin.appeals.services import appeals_check_deadlines


class Command(BaseCommand):
    help = "诉求期限检查（每日运行）：临期提醒负责人，超期升级至上一级督办；可重复运行，不会重复提醒或升级。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按指定日期检查（YYYY-MM-DD），默认今天")

    def handle(self, *args, **opts):
        try:
            today = dt.date.fromisoformat(opts["date"]) if opts["date"] else None
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD") from exc
        result = appeals_check_deadlines(today=today)
        self.stdout.write(f"临期提醒 {result['warned']} 件，超期升级 {result['escalated']} 件")
