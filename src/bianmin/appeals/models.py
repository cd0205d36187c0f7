"""Appeals (诉求) from every channel, their timeline, deadlines, 12345 imports and the
rectification requests that high-frequency analysis raises.

An appeal belongs to an area (the scope rule reads ``area``); it may name a site, an item and a
department of the catalog. The workflow (which status may follow which) lives in
``workflow.py``; every write goes through ``services.py``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppealKind(models.TextChoices):
    CONSULT = "consult", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")


class Channel(models.TextChoices):
    HOTLINE_12345 = "hotline12345", _("12345热线")
    PHONE = "phone", _("咨询/投诉电话")
    RECEPTION = "reception", _("诉求接待室")
    EMAIL = "email", _("电子邮箱")
    SUGGESTION_BOX = "suggestion_box", _("意见箱")
    WEB = "web", _("网上诉求")
    EVALUATION = "evaluation", _("好差评")
    FOLLOWUP = "followup", _("回访")
    OPEN311 = "open311", _("Open311 接口")


class PartyType(models.TextChoices):
    PERSON = "person", _("个人")
    ENTERPRISE = "enterprise", _("企业")
    ANONYMOUS = "anonymous", _("匿名")


# Anonymous appeals are allowed only where the citizen may have reason to hide (举报) or where
# no answer is owed to a person (建议); everything else needs someone to answer.
ANONYMOUS_KINDS = {AppealKind.REPORT, AppealKind.SUGGESTION}


class Status(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ASSIGNED = "assigned", _("已分派")
    CONTACTED = "contacted", _("已事前沟通")
    IN_PROGRESS = "in_progress", _("办理中")
    REPLIED = "replied", _("已答复")
    FOLLOWED_UP = "followed_up", _("已回访")
    CLOSED = "closed", _("已办结")
    REOPENED = "reopened", _("重新办理")


OPEN_STATUSES = {Status.REGISTERED, Status.ASSIGNED, Status.CONTACTED, Status.IN_PROGRESS, Status.REOPENED}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class DeadlineRule(models.Model):
    """Working days allowed per appeal kind, configurable by an administrator. A kind without a
    row uses DEFAULT_DEADLINES below (咨询 2 working days is a local rule seen in STANDARDS.md)."""

    kind = models.CharField(_("诉求类型"), max_length=20, choices=AppealKind.choices, unique=True)
    reply_days = models.PositiveSmallIntegerField(_("答复时限（工作日）"))
    contact_days = models.PositiveSmallIntegerField(_("事前沟通时限（工作日）"), default=1)
    warn_days = models.PositiveSmallIntegerField(_("临期提醒（剩余工作日）"), default=1)

    class Meta:
        verbose_name = _("诉求办理时限")
        verbose_name_plural = _("诉求办理时限")

    def __str__(self):
        return f"{self.get_kind_display()} {self.reply_days}个工作日"


DEFAULT_DEADLINES: dict[str, tuple[int, int, int]] = {
    # kind: (reply_days, contact_days, warn_days)
    AppealKind.CONSULT: (2, 1, 1),
    AppealKind.HELP: (5, 1, 1),
    AppealKind.COMPLAINT: (5, 1, 1),
    AppealKind.REPORT: (10, 1, 2),
    AppealKind.SUGGESTION: (10, 1, 2),
}


class TopicClass(models.Model):
    """A class of the two-level content classification of appeals (诉求内容分类): level 1 (two-digit
    code) groups level-2 classes (four digits), the ones appeals are put in. Kept as data (the file
    appeals/data/topics.csv, loaded by a migration; a city loads its own with load_topics), with the
    keywords the rule classifier looks for (topics.py)."""

    code = models.CharField(_("分类代码"), max_length=8, unique=True)
    name = models.CharField(_("分类名称"), max_length=50)
    parent = models.ForeignKey("self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    keywords = models.JSONField(_("关键词"), default=list, blank=True,
                                help_text=_("[[词, 权重], …]：在标题中出现计两倍权重"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def level(self) -> int:
        return 1 if self.parent_id is None else 2


class TopicBy(models.TextChoices):
    RULE = "rule", _("规则分类")
    STAFF = "staff", _("人工更正")


class Appeal(models.Model):
    number = models.CharField(_("诉求编号"), max_length=24, unique=True)
    work_order_no = models.CharField(_("12345工单编号"), max_length=40, unique=True, null=True, blank=True)
    message_id = models.CharField(_("邮件标识"), max_length=255, unique=True, null=True, blank=True,
                                  help_text=_("电子邮箱来件的 Message-ID，用于去重"))
    kind = models.CharField(_("诉求类型"), max_length=20, choices=AppealKind.choices, db_index=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices, db_index=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED, db_index=True)

    party_type = models.CharField(_("诉求人类型"), max_length=12, choices=PartyType.choices, default=PartyType.PERSON)
    name = models.CharField(_("诉求人"), max_length=50, blank=True)
    mobile = models.CharField(_("联系电话"), max_length=11, blank=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    enterprise_name = models.CharField(_("企业名称"), max_length=150, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)

    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("catalog.Item", verbose_name=_("涉及事项"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey("catalog.Department", verbose_name=_("承办部门"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    category_code = models.CharField(_("12345分类编码"), max_length=40, blank=True, db_index=True)
    category_unmapped = models.BooleanField(_("分类未对应事项"), default=False,
                                            help_text=_("12345分类编码在事项对应表中不存在，需人工对应"))
    topic = models.ForeignKey(TopicClass, verbose_name=_("诉求分类"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    topic_by = models.CharField(_("分类方式"), max_length=8, choices=TopicBy.choices, blank=True)

    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    is_public = models.BooleanField(_("公开（Open311）"), default=False,
                                    help_text=_("通过 Open311 公开查询；举报和含个人信息的诉求不公开"))

    first_receiver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("首接人"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    first_receiver_label = models.CharField(_("首接单位/人"), max_length=150, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("专人负责"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")

    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    contact_due = models.DateField(_("事前沟通期限"), null=True, blank=True)
    due_date = models.DateField(_("答复期限"), db_index=True)
    due_in_unconfirmed_year = models.BooleanField(_("期限所在年度节假日未确认"), default=False)
    contacted_at = models.DateTimeField(_("事前沟通时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    replied_on_time = models.BooleanField(_("按时答复"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    resolved = models.BooleanField(_("已解决"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)

    due_soon_notified_for = models.DateField(_("已临期提醒的期限"), null=True, blank=True)
    escalated_to = models.ForeignKey("regions.Area", verbose_name=_("升级至"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    escalated_for = models.DateField(_("已升级的期限"), null=True, blank=True,
                                     help_text=_("逾期升级针对的答复期限；同一期限只升级一次"))

    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-registered_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["area", "registered_at"]),
            models.Index(fields=["topic", "registered_at"]),
            models.Index(fields=["owner", "status"]),
            # The unreplied appeals only (a few hundred of a year's hundreds of thousands): the
            # cockpit counts those past their due date on every read (figures' live counts).
            models.Index(fields=["registered_at"], condition=models.Q(replied_at__isnull=True),
                         name="appeal_unreplied_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def requires_pre_contact(self) -> bool:
        # Seed: enterprise appeals get a call before handling (事前电话沟通).
        return self.party_type == PartyType.ENTERPRISE

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class CoHandling(models.Model):
    """A department that co-handles an appeal (协办), with its coordination notes as events."""

    appeal = models.ForeignKey(Appeal, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="co_handlings")
    department = models.ForeignKey("catalog.Department", verbose_name=_("协办部门"), on_delete=models.PROTECT,
                                   related_name="+")
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("协办部门")
        verbose_name_plural = _("协办部门")
        constraints = [models.UniqueConstraint(fields=["appeal", "department"], name="uniq_appeal_cohandling")]


class AppealEvent(models.Model):
    """One step of an appeal's timeline (Saleor-style typed events): nothing is overwritten."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("登记")
        UPDATED = "updated", _("工单更新")
        ASSIGNED = "assigned", _("分派")
        CONTACTED = "contacted", _("事前电话沟通")
        STARTED = "started", _("开始办理")
        COORDINATION = "coordination", _("部门协调")
        NOTE = "note", _("备注")
        REPLIED = "replied", _("答复")
        FOLLOWED_UP = "followed_up", _("回访")
        CLOSED = "closed", _("办结")
        REOPENED = "reopened", _("重新办理")
        DUE_SOON = "due_soon", _("临期提醒")
        ESCALATED = "escalated", _("逾期升级")
        TOPIC = "topic", _("更正分类")

    appeal = models.ForeignKey(Appeal, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    department = models.ForeignKey("catalog.Department", verbose_name=_("部门"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("诉求进程")
        verbose_name_plural = _("诉求进程")
        ordering = ["at", "id"]


def attachment_path(instance, filename):
    return f"appeals/{instance.appeal.number}/{filename}"


class Attachment(models.Model):
    appeal = models.ForeignKey(Appeal, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class ImportJob(models.Model):
    """A 12345 work-order file being imported: the whole file is validated first and refused
    with every error (row, column, message) if one row is bad; otherwise rows are upserted by
    work-order number in chunks while ``processed`` shows progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        VALIDATING = "validating", _("校验中")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已完成")
        REFUSED = "refused", _("已拒绝（有错误）")
        FAILED = "failed", _("失败")

    file = models.FileField(_("文件"), upload_to="appeals/imports/")
    filename = models.CharField(_("文件名"), max_length=200)
    area = models.ForeignKey("regions.Area", verbose_name=_("导入区划"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    unmapped_codes = models.JSONField(_("未对应的分类编码"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("12345工单导入")
        verbose_name_plural = _("12345工单导入")
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        return int(self.processed * 100 / self.total) if self.total else 0


class RectificationRequest(models.Model):
    """A request, raised from a high-frequency group of appeals, to open a rectification in
    the shared ledger. Appeals never import followups: followups consumes these rows (and the
    ``rectification_requested`` signal sent on commit) and marks them accepted."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待整改台账接收")
        ACCEPTED = "accepted", _("已纳入整改台账")
        REJECTED = "rejected", _("未纳入")

    class GroupBy(models.TextChoices):
        ITEM = "item", _("事项")
        DEPARTMENT = "department", _("部门")
        AREA = "area", _("区划")
        TOPIC = "topic", _("主题词")  # the word counts this replaced; kept for earlier requests
        CLASS = "class", _("诉求分类")
        CLASS1 = "class1", _("诉求大类")

    source = models.CharField(_("来源"), max_length=30, default="appeal_group")
    group_by = models.CharField(_("分组方式"), max_length=12, choices=GroupBy.choices)
    group_key = models.CharField(_("分组键"), max_length=100)
    group_label = models.CharField(_("分组名称"), max_length=200)
    period_start = models.DateField(_("统计起"))
    period_end = models.DateField(_("统计止"))
    appeal_count = models.PositiveIntegerField(_("诉求数"))
    appeal_ids = models.JSONField(_("诉求"), default=list, blank=True)
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    ledger_ref = models.CharField(_("整改台账编号"), max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    handled_at = models.DateTimeField(_("接收时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改请求")
        verbose_name_plural = _("整改请求")
        ordering = ["-created_at"]
        constraints = [
            # One open request per group and period: pressing the button twice does not open two.
            models.UniqueConstraint(fields=["group_by", "group_key", "area", "period_start", "period_end"],
                                    name="uniq_rectification_request_group"),
        ]

    def __str__(self):
        return f"{self.get_group_by_display()}：{self.group_label}（{self.appeal_count}件）"
