"""The figures stage's own data: the roll-ups (counts per day and per month, per area, site and
window), the archive of periodic reports, the rollout register and the synthetic village points
of the 15-minute coverage. Everything else it shows is read from the apps before it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The counts a roll-up row holds, by the cohort they belong to (see cohorts.py for the rules).
CASE_FIELDS = ("completed", "on_time", "multi_trip", "evaluated", "satisfied", "defaulted", "bad", "followed",
               "rectified")
RECEIVED_FIELDS = ("received", "transferred")
RECT_FIELDS = ("rect_found", "rect_done", "rect_on_time")
APPEAL_FIELDS = ("appeals", "appeal_replied", "appeal_on_time", "appeal_rated", "appeal_satisfied")
FOLLOWUP_FIELDS = ("fu_rated", "fu_satisfied")
FIELDS = CASE_FIELDS + RECEIVED_FIELDS + RECT_FIELDS + APPEAL_FIELDS + FOLLOWUP_FIELDS


class Counts(models.Model):
    """The counts of one row of any roll-up table (FIELDS)."""

    completed = models.PositiveIntegerField(_("办结件数"), default=0)
    on_time = models.PositiveIntegerField(_("按时办结"), default=0)
    multi_trip = models.PositiveIntegerField(_("跑多趟"), default=0)
    evaluated = models.PositiveIntegerField(_("主动评价办件"), default=0)
    satisfied = models.PositiveIntegerField(_("满意办件"), default=0)
    defaulted = models.PositiveIntegerField(_("默认好评办件"), default=0)
    bad = models.PositiveIntegerField(_("差评数"), default=0)
    followed = models.PositiveIntegerField(_("差评已回访"), default=0)
    rectified = models.PositiveIntegerField(_("差评已整改"), default=0)
    received = models.PositiveIntegerField(_("受理件数"), default=0)
    transferred = models.PositiveIntegerField(_("受理后转上级办理"), default=0)
    rect_found = models.PositiveIntegerField(_("发现问题"), default=0)
    rect_done = models.PositiveIntegerField(_("整改完成"), default=0)
    rect_on_time = models.PositiveIntegerField(_("按期整改"), default=0)
    appeals = models.PositiveIntegerField(_("诉求数"), default=0)
    appeal_replied = models.PositiveIntegerField(_("诉求已答复"), default=0)
    appeal_on_time = models.PositiveIntegerField(_("诉求按时答复"), default=0)
    appeal_rated = models.PositiveIntegerField(_("诉求已评满意度"), default=0)
    appeal_satisfied = models.PositiveIntegerField(_("诉求满意"), default=0)
    fu_rated = models.PositiveIntegerField(_("回访已评满意度"), default=0)
    fu_satisfied = models.PositiveIntegerField(_("回访满意"), default=0)

    class Meta:
        abstract = True

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in FIELDS}


class RollupCounts(Counts):
    """One slice: an area, a site in it (0: none, e.g. a rectification without a site) and a
    window of the site (0: none). ``area_path`` is the area's path copied, so a subtree is one
    indexed prefix scan; the site and window are plain keys (no foreign key: a slice outlives
    nothing, and 0 must be a value for the unique key on both engines, where NULLs are distinct)."""

    area = models.ForeignKey("regions.Area", verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+")
    area_path = models.CharField(_("区划路径"), max_length=255)
    site_key = models.PositiveIntegerField(_("场所"), default=0)
    window_key = models.PositiveIntegerField(_("窗口"), default=0)

    class Meta:
        abstract = True


class DailyRollup(RollupCounts):
    """The counts of one day (the day that puts a row in its cohort: a case's completion, a
    rectification's finding…), kept current after commit by the apps' signals (receivers.py)
    and rebuildable from the raw rows (``rebuild_rollups``; the daily job repairs recent days)."""

    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("指标日汇总")
        verbose_name_plural = _("指标日汇总")
        constraints = [models.UniqueConstraint(fields=["day", "area", "site_key", "window_key"],
                                               name="uniq_figures_daily_slice")]
        indexes = [models.Index(fields=["area_path", "day"], name="figures_daily_path_idx"),
                   models.Index(fields=["day", "area_path"], name="figures_daily_day_idx"),
                   models.Index(fields=["site_key", "day"], name="figures_daily_site_idx")]

    def __str__(self):
        return f"{self.day} {self.area_path} {self.site_key}/{self.window_key}"


class MonthlyRollup(RollupCounts):
    """The sum of a month's daily rows of the same slice (``month`` is its first day), moved by
    the same writes as the day row (under the day row's lock), so a year is twelve rows a slice."""

    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("指标月汇总")
        verbose_name_plural = _("指标月汇总")
        constraints = [models.UniqueConstraint(fields=["month", "area", "site_key", "window_key"],
                                               name="uniq_figures_monthly_slice")]
        indexes = [models.Index(fields=["area_path", "month"], name="figures_monthly_path_idx"),
                   models.Index(fields=["month", "area_path"], name="figures_monthly_month_idx"),
                   models.Index(fields=["site_key", "month"], name="figures_monthly_site_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.area_path} {self.site_key}/{self.window_key}"


class AreaDailyRollup(Counts):
    """The counts of one day of a whole area — city, district, township or village — over its
    subtree (every slice whose area path starts with ``area_path``): the day rows of its slices
    already summed, so a city's, a district's or a township's figures are one row a day, whatever
    the number of sites and windows below. Moved with the slice rows (rollups.refresh adds the
    same difference to the rows of every area above the slice) and rebuilt from them
    (rollups.levels_from_slices)."""

    day = models.DateField(_("日期"))
    area_path = models.CharField(_("区划路径"), max_length=255)

    class Meta:
        verbose_name = _("区划指标日汇总")
        verbose_name_plural = _("区划指标日汇总")
        constraints = [models.UniqueConstraint(fields=["area_path", "day"], name="uniq_figures_area_daily")]

    def __str__(self):
        return f"{self.day} {self.area_path}"


class AreaMonthlyRollup(Counts):
    """The month (``month`` is its first day) of an area's subtree: twelve rows make its year."""

    month = models.DateField(_("月份"))
    area_path = models.CharField(_("区划路径"), max_length=255)

    class Meta:
        verbose_name = _("区划指标月汇总")
        verbose_name_plural = _("区划指标月汇总")
        constraints = [models.UniqueConstraint(fields=["area_path", "month"], name="uniq_figures_area_monthly")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.area_path}"


class Report(models.Model):
    """A periodic report (月报, 季报) of one area, made by the worker as xlsx and PDF and archived.
    Regenerating replaces the files and keeps the record (``version`` counts the makings)."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月报")
        QUARTERLY = "quarterly", _("季报")

    class Status(models.TextChoices):
        PENDING = "pending", _("生成中")
        READY = "ready", _("已生成")
        FAILED = "failed", _("生成失败")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    area = models.ForeignKey("regions.Area", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    xlsx_path = models.CharField(_("xlsx 文件"), max_length=300, blank=True)
    pdf_path = models.CharField(_("PDF 文件"), max_length=300, blank=True)
    version = models.PositiveIntegerField(_("版次"), default=0)
    error = models.TextField(_("错误"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    made_at = models.DateTimeField(_("生成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("统计报告")
        verbose_name_plural = _("统计报告")
        ordering = ["-period_start", "kind", "area__code"]
        constraints = [models.UniqueConstraint(fields=["kind", "area", "period_start"], name="uniq_figures_report")]

    def __str__(self):
        return f"{self.area} {self.period_start:%Y-%m} {self.get_kind_display()}"

    @property
    def title(self) -> str:
        if self.kind == self.Kind.QUARTERLY:
            q = (self.period_start.month - 1) // 3 + 1
            return f"{self.area.name} {self.period_start.year}年第{q}季度 政务服务运行报告"
        return f"{self.area.name} {self.period_start.year}年{self.period_start.month}月 政务服务运行报告"


class SiteRollout(models.Model):
    """The day a site went live on the platform (上线), as the rollout office recorded it. A site
    without a row counts as live from its first case (rollout.py)."""

    site = models.OneToOneField("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.CASCADE,
                                related_name="+")
    live_on = models.DateField(_("上线日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("场所上线记录")
        verbose_name_plural = _("场所上线记录")

    def __str__(self):
        return f"{self.site} {self.live_on}"


class AreaPoint(models.Model):
    """Where a village/community is (its committee's seat), for the 15-minute coverage. The demo
    city's points are synthetic (data/README.md): placed around their township's center."""

    area = models.OneToOneField("regions.Area", verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+")
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    source = models.CharField(_("来源"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("村（社区）位置")
        verbose_name_plural = _("村（社区）位置")

    def __str__(self):
        return f"{self.area} ({self.lng:.4f}, {self.lat:.4f})"
