from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bianmin.core.errors import DomainError
from bianmin.regions.services import areas_load, read_area_file

DATA = Path(__file__).resolve().parents[2] / "data"
DEFAULT_FILES = [DATA / "350100-2023.csv", DATA / "350100-functional-zones.csv"]


class Command(BaseCommand):
    help = ("从区划文件（CSV，含“# 来源：”“# 版本：”注释行）载入或更新行政区划，可一次给出多个文件，按顺序载入。"
            "列：code,name,level,parent_code，可选 is_functional_zone、administers（功能区托管的区划代码，以分号分隔）。"
            "不给文件时载入福州市 2023 版统计用区划代码及高新区。")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", metavar="FILE", help="区划文件路径")

    def handle(self, *args, files, **options):
        for file in files or [str(f) for f in DEFAULT_FILES]:
            try:
                info = read_area_file(file)
                created, updated = areas_load(rows=info.rows)
            except (DomainError, OSError) as exc:
                raise CommandError(f"{file}：{getattr(exc, 'message', exc)}") from exc
            self.stdout.write(f"区划文件：{file}\n来源：{info.source}\n版本：{info.edition}\n新增 {created} 个，更新 {updated} 个")
