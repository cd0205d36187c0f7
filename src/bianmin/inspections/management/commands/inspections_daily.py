import datetime as dt

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "督查每日任务：按计划创建并抽样本期督查周期，逾期整改通知报送分管领导（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="按指定日期运行（YYYY-MM-DD）")

    def handle(self, *args, **options):
        from bianmin.inspections.services import cycles_create_due, notices_check_overdue

        try:
            today = dt.date.fromisoformat(options["today"]) if options["today"] else None
        except ValueError:
            raise CommandError("日期格式应为 YYYY-MM-DD") from None
        cycles = cycles_create_due(today=today)
        escalated = notices_check_overdue(today=today)
        self.stdout.write(f"新建督查周期 {len(cycles)} 个；逾期上报整改通知 {escalated} 件")
