"""Recount the roll-ups behind the figures from the raw rows (after a bulk load, a restore, a
lost news), or verify them (--check compares without writing)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as e:
        raise CommandError("日期格式应为 YYYY-MM-DD") from e


class Command(BaseCommand):
    help = "从原始数据重算统计指标汇总（日汇总与月汇总）"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="从该日起重算（YYYY-MM-DD），默认全部")
        parser.add_argument("--until", help="重算至该日（含），默认至今")
        parser.add_argument("--check", action="store_true", help="只核对，不写入；不一致时返回非零")

    def handle(self, *args, **options):
        from bianmin.figures.rollups import check, rebuild

        since, until = _day(options["since"]), _day(options["until"])
        if since and until and until < since:
            raise CommandError("结束日期不能早于开始日期")
        if options["check"]:
            bad = check(since=since, until=until)
            for line in bad[:50]:
                self.stderr.write(f"不一致：{line}")
            if bad:
                raise CommandError(f"{len(bad)} 条汇总与原始数据不一致，请运行 rebuild_rollups")
            self.stdout.write("汇总与原始数据一致")
            return
        n = rebuild(since=since, until=until)
        self.stdout.write(f"已重算 {n} 条日汇总及其所在月份的月汇总")
