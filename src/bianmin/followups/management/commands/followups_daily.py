from datetime import date

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "回访每日任务：补建差评处理单、接收高频诉求整改请求、生成各县（市）区当日回访名单（可重复运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--day", help="名单日期 YYYY-MM-DD，默认今天")

    def handle(self, *args, **options):
        from bianmin.followups.services import (
            followup_lists_build_daily,
            handlings_open_missing,
            rectifications_from_appeal_requests,
        )

        day = date.fromisoformat(options["day"]) if options.get("day") else None
        h = handlings_open_missing()
        r = rectifications_from_appeal_requests()
        n = followup_lists_build_daily(day=day)
        self.stdout.write(f"补建差评处理 {h} 件；接收整改请求 {r} 件；生成回访名单 {n} 份")
