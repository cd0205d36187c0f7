"""Load the places of villages/communities (code,lng,lat; '#' lines are comments) for the
15-minute coverage."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "载入村（社区）位置（code,lng,lat），用于15分钟便民服务圈分析"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV 文件，默认演示数据（合成）")
        parser.add_argument("--source", default="", help="来源说明")

    def handle(self, *args, **options):
        from bianmin.figures.coverage import load_points
        from bianmin.figures.demo import POINTS, read_points

        path = Path(options["file"]) if options["file"] else POINTS
        if not path.exists():
            raise CommandError(f"文件不存在：{path}")
        try:
            rows = read_points(path)
            for n, (_code, lng, lat) in enumerate(rows, start=2):
                if not (-180 <= float(lng) <= 180 and -90 <= float(lat) <= 90):
                    raise CommandError(f"第 {n} 行经纬度超出范围")
        except ValueError as e:
            raise CommandError("文件格式应为 code,lng,lat，经纬度为数字") from e
        n = load_points(rows, source=options["source"] or ("演示数据（合成）" if not options["file"] else path.name))
        self.stdout.write(f"已载入 {n} 个村（社区）位置")
