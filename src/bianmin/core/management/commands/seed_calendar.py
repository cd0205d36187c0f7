from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bianmin.core.calendar import official_years, seed_years


class Command(BaseCommand):
    help = (
        "填充工作日历：chinesecalendar 收录的年份按国务院公布安排（已确认），"
        "其后至今年+2 年按 holidays 规则推算（未确认）。可重复执行，不覆盖管理员维护过的日期和年度。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", nargs="+", type=int, metavar="YEAR", help="只填充这些年份")
        parser.add_argument("--ahead", type=int, default=2, help="推算到今年之后的第几年（默认 2）")

    def handle(self, *args, **options):
        if options["years"]:
            years = sorted(set(options["years"]))
            if any(y < 1949 or y > 2200 for y in years):
                raise CommandError("年份超出范围")
        else:
            official = official_years()
            last = max(official.stop - 1, timezone.localdate().year + options["ahead"])
            years = list(range(official.start, last + 1))
        result = seed_years(years=years)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"工作日历：处理 {len(result.years)} 个年度，写入 {result.days_written} 天，"
                f"移除 {result.days_removed} 天"
                + (f"；保留管理员维护的年度 {', '.join(map(str, result.skipped_years))}" if result.skipped_years else "")
            )
