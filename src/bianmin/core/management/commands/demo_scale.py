"""`bianmin demo --scale N`: a city-year of data at scale (see bianmin.followups.scale)."""

import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "生成规模数据：N 件办件及其评价、差评处理、整改和诉求（一年，按演示数据的分布）"

    def add_arguments(self, parser):
        parser.add_argument("n", type=int, help="办件数")
        parser.add_argument("--days", type=int, default=365, help="覆盖天数（默认 365）")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--chunk", type=int, default=20000, help="每批写入的办件数（内存上限）")

    def handle(self, *args, **options):
        from bianmin.followups.scale import generate
        from bianmin.regions.models import Area

        n = options["n"]
        if n < 1 or options["days"] < 1 or options["chunk"] < 1:
            raise CommandError("N、天数和批大小必须是正整数")
        if not Area.objects.filter(level="city").exists():
            call_command("load_areas", verbosity=0)
        started = time.monotonic()
        quiet = options["verbosity"] == 0

        def progress(done, total):
            if quiet:
                return
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0
            width = 30
            bar = "#" * int(width * done / total)
            eta = (total - done) / rate if rate else 0
            sys.stderr.write(f"\r[{bar:<{width}}] {done:,}/{total:,} 件  {rate:,.0f} 件/秒  剩余约 {eta:,.0f} 秒")
            sys.stderr.flush()
            if done == total:
                sys.stderr.write("\n")

        counts = generate(n, days=options["days"], seed=options["seed"], chunk=options["chunk"], progress=progress)
        elapsed = time.monotonic() - started
        summary = "，".join(f"{k} {v:,}" for k, v in counts.items())
        self.stdout.write(f"规模数据生成完成（{elapsed:.1f} 秒）：{summary}")
