import sys

from django.core.management.base import BaseCommand, CommandError

from bianmin.core.backup import backup_read, backup_restore
from bianmin.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "从备份目录恢复数据库和上传文件（覆盖当前数据）。先校验备份，校验不通过则不做任何改动。"
        "建议先停止服务（bianmin up、bianmin worker）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="由 bianmin backup 生成的备份目录")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复")

    def handle(self, *args, **options):
        path = options["path"]
        try:
            manifest = backup_read(path)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"备份时间：{manifest['created_at']}，版本 {manifest['version']}，"
                          f"数据表 {len(manifest['tables'])} 张，共 {sum(manifest['tables'].values())} 行")
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("恢复会覆盖当前数据库和上传文件：请确认后加上 --yes 再运行")
            answer = input("恢复会覆盖当前数据库和上传文件，且不可撤销。输入 yes 继续：")
            if answer.strip().lower() != "yes":
                raise CommandError("已取消，未做任何改动")
        try:
            backup_restore(source=path)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write("恢复完成。请重新启动服务。")
