from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bianmin.appeals import services, topics
from bianmin.core.errors import DomainError


class Command(BaseCommand):
    help = ("载入诉求内容分类（两级，CSV：code,name,parent,keywords；按代码更新，已分类的诉求不受影响）。"
            "不带文件时重新载入平台自带的分类（appeals/data/topics.csv）。")

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="分类文件（UTF-8 CSV，# 开头的行为说明）")

    def handle(self, *args, **options):
        path = Path(options["file"]) if options.get("file") else topics.DATA_FILE
        try:
            rows = topics.read_topic_rows(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取分类文件 {path}：{exc}") from exc
        try:
            result = services.topics_load(actor=None, rows=rows)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"诉求分类载入完成：新增 {result['created']} 类，更新 {result['updated']} 类")
