import sys
import time

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from bianmin.appeals import importer
from bianmin.core.capabilities import Cap
from bianmin.core.principal import Grant, Principal
from bianmin.regions.models import Area


class Command(BaseCommand):
    help = "导入12345工单文件（.xlsx 或 .csv），显示进度；工单编号已存在的更新原诉求，任何一行有错误则整个文件不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--area", required=True, help="导入区划代码（工单的区划须在其下）")

    def handle(self, *args, **opts):
        area = Area.objects.filter(code=opts["area"].ljust(12, "0")).first()
        if area is None:
            raise CommandError(f"区划代码 {opts['area']} 不存在")
        # The operator at the console acts as the system with full rights over that area.
        actor = Principal(label="cli", grants=[Grant(area.path, frozenset({Cap.VIEW, Cap.APPEAL_MANAGE, Cap.APPEAL_HANDLE}))])
        started = time.monotonic()
        try:
            with open(opts["file"], "rb") as fh:
                job = importer.import_job_create(actor=actor, upload=File(fh, name=opts["file"]), area=area, run_now=True)
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{opts['file']}") from exc

        def progress(j):
            if j.total:
                done = int(j.processed * 30 / j.total) if j.status == "importing" else 0
                label = j.get_status_display()
                sys.stderr.write(f"\r{label} [{'#' * done}{'.' * (30 - done)}] {j.processed}/{j.total}")
                sys.stderr.flush()

        job = importer.import_job_run(job_id=job.pk, on_progress=progress)
        sys.stderr.write("\n")
        if job.status == "refused":
            for e in job.errors[:50]:
                self.stderr.write(f"第{e['row']}行 {e['column']}：{e['message']}")
            raise CommandError(f"文件有 {len(job.errors)} 处错误，已全部拒绝导入")
        self.stdout.write(f"完成：{job.total} 行，新增 {job.created_count}，更新 {job.updated_count}，"
                          f"未对应分类编码 {len(job.unmapped_codes)} 个，用时 {time.monotonic() - started:.1f} 秒")
