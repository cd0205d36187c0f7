from django.core.management.base import BaseCommand, CommandError

from bianmin.core.backup import backup_create
from bianmin.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "备份数据库和上传文件。SQLite 使用在线备份接口（服务运行时也可备份），PostgreSQL 使用 pg_dump。"
        "默认写入 <BIANMIN_VAR>/backups/ 下带时间戳的目录。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="备份目录（新建或为空），默认 var/backups/bianmin-<时间>")

    def handle(self, *args, **options):
        try:
            result = backup_create(destination=options.get("path"))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        engine = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[result.engine]
        self.stdout.write(f"备份完成（{engine}）：{result.path}")
        self.stdout.write(f"  数据表 {len(result.tables)} 张，共 {result.total_rows} 行")
        for name, digest in result.files.items():
            self.stdout.write(f"  {name}  sha256:{digest[:16]}…")
