"""导出任务: one requested export, from the queue to a file its requester downloads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    """An export too large to build inside a request. The worker writes the file under
    ``BIANMIN_VAR/exports/`` and counts its rows as it goes; only the requester sees the job
    and downloads the file; the file is deleted when it expires and the row stays as history.

    ``claim`` is the token of the run that owns the job: every write of a run (progress, the
    end) is conditional on it, so a run taken over as stale can never finish a second file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPIRED = "expired", _("已过期")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
                             related_name="+")
    kind = models.CharField(_("导出类型"), max_length=60)
    params = models.JSONField(_("导出条件"), default=dict, blank=True)
    title = models.CharField(_("名称"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_written = models.PositiveBigIntegerField(_("已写入行数"), default=0)
    rows_expected = models.PositiveBigIntegerField(_("预计行数"), null=True, blank=True)
    file_name = models.CharField(_("文件"), max_length=200, blank=True, help_text=_("导出目录中的文件名"))
    size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0)
    error = models.CharField(_("失败原因"), max_length=500, blank=True)
    scope_paths = models.JSONField(_("导出时的数据范围"), default=list, blank=True,
                                   help_text=_("生成文件时申请人可查看的区划路径；权限收窄后不能再下载"))
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    claim = models.CharField(_("执行标识"), max_length=32, blank=True)
    task_id = models.CharField(_("后台任务编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    progress_at = models.DateTimeField(_("最近进度时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("文件有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="exportjob_user_idx"),
            models.Index(fields=["status", "progress_at"], name="exportjob_status_idx"),
        ]

    def __str__(self):
        return f"{self.title}（{self.get_status_display()}）"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int | None:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_expected:
            return None
        return min(99, int(self.rows_written * 100 / self.rows_expected))

    @property
    def download_name(self) -> str:
        return f"{self.title}.xlsx"

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.EXPIRED)
