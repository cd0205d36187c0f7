from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bianmin.core.errors import DomainError
from bianmin.regions.services import read_site_file, sites_load

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "350100-sites.csv"


class Command(BaseCommand):
    help = ("从服务场所文件（CSV，含“# 来源：”“# 版本：”注释行）载入或更新便民服务中心、便民服务站和自助服务终端点及其窗口。"
            "须先载入区划。重复载入同一文件不产生变化。不给文件时载入福州市演示数据。")

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE), metavar="FILE")

    def handle(self, *args, file, **options):
        try:
            info = read_site_file(file)
            result = sites_load(rows=info.rows)
        except (DomainError, OSError) as exc:
            raise CommandError(f"{file}：{getattr(exc, 'message', exc)}") from exc
        self.stdout.write(
            f"服务场所文件：{file}\n来源：{info.source}\n版本：{info.edition}\n"
            f"场所新增 {result.created} 个，更新 {result.updated} 个，未变 {result.unchanged} 个；"
            f"窗口新增 {result.windows_created} 个，更新 {result.windows_updated} 个"
        )
