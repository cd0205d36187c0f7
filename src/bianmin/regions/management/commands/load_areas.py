from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bianmin.core.errors import DomainError
from bianmin.regions.services import areas_load, read_area_file

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "350100-2023.csv"


class Command(BaseCommand):
    help = "从区划文件（CSV，含来源与版本注释行）载入或更新行政区划。默认载入福州市 2023 版。"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))

    def handle(self, *args, file, **options):
        try:
            info = read_area_file(file)
            created, updated = areas_load(rows=info.rows)
        except (DomainError, OSError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        self.stdout.write(f"区划文件：{file}\n来源：{info.source}\n版本：{info.edition}\n新增 {created} 个，更新 {updated} 个")
