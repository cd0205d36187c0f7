from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "标记超过承诺办结时限的办件并通知经办人（每日运行，可重复运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按该日期判断（YYYY-MM-DD），默认今天")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行，而不是立即执行")

    def handle(self, *args, **options):
        from bianmin.cases.services import cases_mark_overdue
        from bianmin.cases.tasks import mark_overdue_cases

        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("日期格式应为 YYYY-MM-DD") from None
        if options["enqueue"]:
            mark_overdue_cases.enqueue(today.isoformat() if today else None)
            self.stdout.write("已加入后台任务队列")
            return
        count = cases_mark_overdue(today=today)
        self.stdout.write(f"新标记超期办件 {count} 件")
