"""自助终端 ("e福州"): the terminal register and its health, the kiosk item list, certificates
with public verification, and the usage log with its roll-ups.

A `Terminal` stands at a kiosk site (regions.ServiceSite of kind kiosk) and acts with a device
key (accounts.ApiKey of kind device). Its health comes from heartbeats: the latest one is kept on
the terminal row; spells of unavailability (offline, fault, maintenance) are `Outage` rows, one
open at a time, from which availability over a period is computed.

Every use of a terminal is one `UsageLog` row (written at peak by 230 terminals at once, so the
row is small and the insert carries no other write). The figures read roll-ups where they pay:
`UsageTerminalDay` (per terminal and day: daily series, terminals, areas) and `UsageItemMonth`
(per area, item and month: item figures over long periods), rebuilt by a job from the raw log;
days not yet rolled up are read raw (see selectors.usage_figures).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LocationKind(models.TextChoices):
    """Where a terminal stands (the seed: 乡镇（街道）、社区、车站、便利店、药店等人流密集场所)."""

    TOWNSHIP = "township", _("乡镇（街道）便民服务中心")
    COMMUNITY = "community", _("村居（社区）")
    STATION = "station", _("车站")
    CONVENIENCE_STORE = "convenience_store", _("便利店")
    PHARMACY = "pharmacy", _("药店")
    BANK = "bank", _("银行网点")
    HOSPITAL = "hospital", _("医院")
    MALL = "mall", _("商场")
    OTHER = "other", _("其他")


class Terminal(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("未接入")
        ONLINE = "online", _("在线")
        OFFLINE = "offline", _("离线")
        RETIRED = "retired", _("已停用")

    class Status(models.TextChoices):
        NORMAL = "normal", _("正常")
        FAULT = "fault", _("故障")
        MAINTENANCE = "maintenance", _("维护中")

    class Paper(models.TextChoices):
        OK = "ok", _("充足")
        LOW = "low", _("不足")
        OUT = "out", _("缺纸")

    class Part(models.TextChoices):
        OK = "ok", _("正常")
        FAULT = "fault", _("故障")

    code = models.CharField(_("终端编号"), max_length=32, unique=True)
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("安放场所"), on_delete=models.PROTECT,
                             related_name="kiosk_terminals")
    # Copied from the site: what the scope rule and the figures read without a join through sites.
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    location_kind = models.CharField(_("场所类别"), max_length=20, choices=LocationKind.choices)
    model = models.CharField(_("设备型号"), max_length=100)
    serial = models.CharField(_("设备序列号"), max_length=64, unique=True)
    operator = models.CharField(_("运维单位"), max_length=100)
    installed_on = models.DateField(_("安装日期"))
    api_key = models.OneToOneField("accounts.ApiKey", verbose_name=_("设备密钥"), on_delete=models.PROTECT,
                                   related_name="kiosk_terminal")
    browser_key = models.OneToOneField("accounts.ApiKey", verbose_name=_("浏览器配对密钥"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="kiosk_browser_of",
                                       help_text=_("终端浏览器一次性配对后持有的密钥（HttpOnly Cookie）"))
    pairing_digest = models.CharField(_("配对码摘要"), max_length=64, blank=True)
    pairing_expires_at = models.DateTimeField(_("配对码有效期至"), null=True, blank=True)

    state = models.CharField(_("在线状态"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    status = models.CharField(_("运行状态"), max_length=12, choices=Status.choices, default=Status.NORMAL)
    paper = models.CharField(_("打印纸"), max_length=4, choices=Paper.choices, default=Paper.OK)
    printer = models.CharField(_("打印机"), max_length=6, choices=Part.choices, default=Part.OK)
    card_reader = models.CharField(_("读卡器"), max_length=6, choices=Part.choices, default=Part.OK)
    software_version = models.CharField(_("软件版本"), max_length=40, blank=True)
    last_seen_at = models.DateTimeField(_("最近心跳"), null=True, blank=True, db_index=True)
    activated_at = models.DateTimeField(_("首次接入"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自助终端")
        verbose_name_plural = _("自助终端")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code}（{self.site.name}）" if self.site_id else self.code

    @property
    def available(self) -> bool:
        return self.state == self.State.ONLINE and self.status == self.Status.NORMAL


class Outage(models.Model):
    """One spell in which a terminal could not serve: silent (offline), reporting a fault, or in
    maintenance. At most one is open per terminal; the next one starts when it ends."""

    class Kind(models.TextChoices):
        OFFLINE = "offline", _("离线")
        FAULT = "fault", _("故障")
        MAINTENANCE = "maintenance", _("维护")

    terminal = models.ForeignKey(Terminal, verbose_name=_("终端"), on_delete=models.CASCADE, related_name="outages")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)
    detail = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("不可用时段")
        verbose_name_plural = _("不可用时段")
        ordering = ["terminal", "-started_at"]
        indexes = [models.Index(fields=["terminal", "started_at"], name="kiosk_outage_idx")]
        constraints = [models.UniqueConstraint(fields=["terminal"], condition=Q(ended_at__isnull=True),
                                               name="kiosk_one_open_outage")]


class Maintenance(models.Model):
    class Kind(models.TextChoices):
        INSPECTION = "inspection", _("巡检")
        REPAIR = "repair", _("维修")
        SUPPLIES = "supplies", _("更换耗材")
        UPGRADE = "upgrade", _("软件升级")
        RELOCATION = "relocation", _("移机")

    terminal = models.ForeignKey(Terminal, verbose_name=_("终端"), on_delete=models.CASCADE, related_name="maintenance")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    performed_on = models.DateField(_("日期"))
    performed_by = models.CharField(_("维护人员"), max_length=50)
    description = models.CharField(_("内容"), max_length=500)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("维护记录")
        verbose_name_plural = _("维护记录")
        ordering = ["terminal", "-performed_on", "-id"]


class KioskItem(models.Model):
    """An item on the city's kiosk list (a catalog standard item) and what the kiosk does for it."""

    class Service(models.TextChoices):
        CERTIFICATE = "certificate", _("证明出具与打印")
        GUIDE = "guide", _("办事指南查询")

    standard_item = models.OneToOneField("catalog.StandardItem", verbose_name=_("标准化事项"), on_delete=models.PROTECT,
                                         related_name="kiosk_item")
    service = models.CharField(_("自助服务"), max_length=12, choices=Service.choices, default=Service.GUIDE)
    source = models.CharField(_("数据来源"), max_length=40, blank=True, help_text=_("证明类事项的数据源适配器"))
    certificate_title = models.CharField(_("证明名称"), max_length=60, blank=True)
    validity_days = models.PositiveSmallIntegerField(_("有效期（天）"), default=90)
    position = models.PositiveIntegerField(_("排序"), default=0)
    default_offered = models.BooleanField(_("全市默认上线"), default=True,
                                          help_text=_("未上线的事项可由区划或终端单独开通"))
    active = models.BooleanField(_("有效"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自助终端事项")
        verbose_name_plural = _("自助终端事项")
        ordering = ["position", "id"]

    def __str__(self):
        return self.standard_item.name if self.standard_item_id else str(self.pk)

    @property
    def code(self) -> str:
        return self.standard_item.code

    @property
    def name(self) -> str:
        return self.standard_item.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.service == self.Service.CERTIFICATE and not self.source:
            raise ValidationError({"source": _("证明类事项须指定数据来源")})
        if self.service != self.Service.CERTIFICATE and self.source:
            raise ValidationError({"source": _("只有证明类事项才有数据来源")})


class ItemOverride(models.Model):
    """An area's or one terminal's departure from the city list: the item offered or withdrawn.
    The terminal's own override wins, then the nearest area's, then the city default."""

    item = models.ForeignKey(KioskItem, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="overrides")
    area = models.ForeignKey("regions.Area", verbose_name=_("区划"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    terminal = models.ForeignKey(Terminal, verbose_name=_("终端"), null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="item_overrides")
    offered = models.BooleanField(_("上线"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("设置人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("设置时间"), auto_now=True)

    class Meta:
        verbose_name = _("事项上线调整")
        verbose_name_plural = _("事项上线调整")
        constraints = [
            models.CheckConstraint(condition=Q(area__isnull=False, terminal__isnull=True)
                                   | Q(area__isnull=True, terminal__isnull=False), name="kiosk_override_one_target"),
            models.UniqueConstraint(fields=["item", "area"], condition=Q(area__isnull=False), name="kiosk_override_area"),
            models.UniqueConstraint(fields=["item", "terminal"], condition=Q(terminal__isnull=False),
                                    name="kiosk_override_terminal"),
        ]


class Certificate(models.Model):
    """A certificate printed at a terminal. The PDF is kept (content-addressed, cases.StoredFile):
    its SHA-256 is what the public verification compares a presented file with."""

    number = models.CharField(_("证明编号"), max_length=24, unique=True)
    verify_code = models.CharField(_("核验码"), max_length=12)
    item = models.ForeignKey(KioskItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="certificates")
    title = models.CharField(_("证明名称"), max_length=60)
    source = models.CharField(_("数据来源"), max_length=40)
    terminal = models.ForeignKey(Terminal, verbose_name=_("出具终端"), on_delete=models.PROTECT, related_name="certificates")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    holder_name = models.CharField(_("持证人"), max_length=50)
    holder_id_number = models.CharField(_("身份证号码"), max_length=18)
    facts = models.JSONField(_("证明内容"), default=list, help_text=_("数据源返回并写入证明的事项：[[名称, 内容], …]"))
    issued_at = models.DateTimeField(_("出具时间"), db_index=True)
    valid_until = models.DateField(_("有效期至"))
    sha256 = models.CharField(_("文件摘要（SHA-256）"), max_length=64)
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("证明文件"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("自助打印证明")
        verbose_name_plural = _("自助打印证明")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return f"{self.title} {self.number}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class UsageLog(models.Model):
    """One use of a terminal: who (terminal), what (item), how it ended and how long it took."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("办结")
        FAILED = "failed", _("失败")
        ABANDONED = "abandoned", _("中途退出")

    terminal = models.ForeignKey(Terminal, verbose_name=_("终端"), on_delete=models.PROTECT, related_name="+",
                                 db_index=False)
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    item = models.ForeignKey(KioskItem, verbose_name=_("事项"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", db_index=False)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"))
    started_at = models.DateTimeField(_("开始时间"))
    day = models.DateField(_("日期"))
    ref = models.CharField(_("终端流水号"), max_length=40, blank=True,
                           help_text=_("终端生成的唯一编号：重发的同一记录只保存一次"))

    class Meta:
        verbose_name = _("使用记录")
        verbose_name_plural = _("使用记录")
        # Covering indexes for the figures' reads of days not rolled up yet (and for the roll-up
        # itself): the groupings by terminal and by item read the index alone, never the table.
        indexes = [
            models.Index(fields=["day", "terminal", "outcome", "duration_ms"], name="kiosk_usage_day_idx"),
            models.Index(fields=["day", "area", "item", "outcome", "duration_ms"], name="kiosk_usage_item_idx"),
            models.Index(fields=["terminal", "started_at"], name="kiosk_usage_terminal_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["terminal", "ref"], condition=~Q(ref=""),
                                               name="kiosk_usage_ref")]


class UsageCounts(models.Model):
    """What a roll-up row counts (the same for every grain)."""

    uses = models.PositiveIntegerField(_("使用次数"), default=0)
    success = models.PositiveIntegerField(_("办结"), default=0)
    failed = models.PositiveIntegerField(_("失败"), default=0)
    abandoned = models.PositiveIntegerField(_("中途退出"), default=0)
    duration_ms = models.PositiveBigIntegerField(_("总用时（毫秒）"), default=0)

    class Meta:
        abstract = True


class UsageTerminalDay(UsageCounts):
    """Uses of one terminal on one day (rolled up from UsageLog)."""

    day = models.DateField(_("日期"))
    terminal = models.ForeignKey(Terminal, verbose_name=_("终端"), on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("终端日使用统计")
        verbose_name_plural = _("终端日使用统计")
        constraints = [models.UniqueConstraint(fields=["day", "terminal"], name="kiosk_usage_terminal_day")]


class UsageItemMonth(UsageCounts):
    """Uses of one item in one area (a terminal's area) in one month, over the days of that
    month that its ``UsageMonthCover`` names."""

    month = models.DateField(_("月份（首日）"))
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(KioskItem, verbose_name=_("事项"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")

    class Meta:
        verbose_name = _("事项月使用统计")
        verbose_name_plural = _("事项月使用统计")
        indexes = [models.Index(fields=["month", "area"], name="kiosk_usage_month_idx")]


class UsageMonthCover(models.Model):
    """The days of a month that its ``UsageItemMonth`` rows count: from the month's first day
    through ``through``. Removed with the rows when a late use changes one of those days."""

    month = models.DateField(_("月份（首日）"), unique=True)
    through = models.DateField(_("统计至"))

    class Meta:
        verbose_name = _("事项月统计范围")
        verbose_name_plural = _("事项月统计范围")


class UsageRolledDay(models.Model):
    """A day whose uses are in the roll-ups. A use logged late for such a day removes the mark,
    and the next roll-up run counts the day again."""

    day = models.DateField(_("日期"), unique=True)
    rolled_at = models.DateTimeField(_("汇总时间"), auto_now=True)

    class Meta:
        verbose_name = _("已汇总日期")
        verbose_name_plural = _("已汇总日期")


class RegistryRecord(models.Model):
    """A row of a synthetic registry (社保缴费、户籍、不动产…) that the demo data sources read in
    place of the departments' systems. Looked up by the digest of the ID number."""

    registry = models.CharField(_("登记簿"), max_length=30)
    id_digest = models.CharField(_("身份证号摘要"), max_length=64)
    name = models.CharField(_("姓名"), max_length=50)
    data = models.JSONField(_("内容"), default=dict)

    class Meta:
        verbose_name = _("演示登记簿记录")
        verbose_name_plural = _("演示登记簿记录")
        constraints = [models.UniqueConstraint(fields=["registry", "id_digest"], name="kiosk_registry_person")]
