"""Recompute the daily roll-ups of the rates from the raw rows (after a bulk load, a restore, or
to verify them: --check compares without writing)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "从原始数据重算好差评指标日汇总"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="从该日起重算（YYYY-MM-DD），默认全部")
        parser.add_argument("--check", action="store_true", help="只核对，不写入；不一致时返回非零")

    def handle(self, *args, **options):
        from bianmin.followups.models import DailyRollup
        from bianmin.followups.rollups import FIELDS, rebuild, slice_counts

        since = None
        if options["since"]:
            try:
                since = date.fromisoformat(options["since"])
            except ValueError as e:
                raise CommandError("日期格式应为 YYYY-MM-DD") from e
        if options["check"]:
            rows = DailyRollup.objects.all() if since is None else DailyRollup.objects.filter(day__gte=since)
            bad = 0
            for row in rows.iterator():
                if slice_counts(row.day, row.area_id) != {k: getattr(row, k) for k in FIELDS}:
                    bad += 1
                    self.stderr.write(f"不一致：{row.day} {row.area_path}")
            if bad:
                raise CommandError(f"{bad} 条日汇总与原始数据不一致，请运行 rebuild_rollups")
            self.stdout.write("日汇总与原始数据一致")
            return
        n = rebuild(since=since)
        self.stdout.write(f"已重算 {n} 条日汇总")
