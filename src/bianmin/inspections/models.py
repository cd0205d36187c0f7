"""督查: the city committee's (and a district's own) supervision of centers and stations.

A *cycle* (every two months by default) samples sites per district and finished case dossiers per
sampled site, reproducibly (seed and rule kept on the cycle); the inspected level submits the
materials (what the platform holds is attached for it, the rest uploaded); reviewers score item by
item against the cycle's checklist version. On-site visits, mystery visits and phone checks
(``FieldCheck``) are scored and raise findings the same way. Every *finding* becomes a numbered
rectification notice (整改通知) with a PDF, a deadline in working days, an answer with evidence
and the reviewer's decision. The one rectification ledger (followups) takes each notice in
through a signal sent on commit and a sweep (``Notice.revision`` / ``ledger_revision``).

Who is who: the *organiser* is the area running the cycle or check (the city, or a district that
runs its own). A notice is addressed to the level just below the organiser on the way to the
site (the city's notices go to the district; a district's go to the township), which submits
the materials and answers (Cap.INSPECTION_RESPOND); the organiser's reviewers (Cap.INSPECT) score,
accept or send back. Nothing here is deleted: every step is an event."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """The nine areas of the seed's checks (场所建设、入驻事项、窗口设置、日常管理 from the bimonthly
    check; 人员管理、制度建设 from the regular supervision; 业务卷宗、事项清单、办事指南 the materials)."""

    SITE = "site", _("场所建设")
    STATIONED_ITEMS = "stationed_items", _("入驻事项")
    WINDOWS = "windows", _("窗口设置")
    DAILY = "daily", _("日常管理")
    STAFF = "staff", _("人员管理")
    RULES = "rules", _("制度建设")
    DOSSIERS = "dossiers", _("业务卷宗")
    ITEM_LIST = "item_list", _("事项清单")
    GUIDES = "guides", _("办事指南")


class ChecklistTemplate(models.Model):
    """One version of a checklist. A version is never edited once saved: a change is a new
    version (same ``code``, ``version`` + 1), and a cycle keeps the version it started with."""

    code = models.SlugField(_("模板编码"), max_length=40)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("模板名称"), max_length=100)
    area = models.ForeignKey("regions.Area", verbose_name=_("制定单位"), on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.CharField(_("创建人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("督查评分模板")
        verbose_name_plural = _("督查评分模板")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="uniq_checklist_version")]

    def __str__(self):
        return f"{self.name}（第{self.version}版）"

    @property
    def total(self) -> Decimal:
        return sum((i.max_score for i in self.items.all()), Decimal("0"))


class ChecklistItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, verbose_name=_("模板"), on_delete=models.PROTECT, related_name="items")
    position = models.PositiveSmallIntegerField(_("序号"))
    category = models.CharField(_("检查方面"), max_length=20, choices=Category.choices)
    text = models.CharField(_("检查内容"), max_length=300)
    max_score = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    guidance = models.CharField(_("评分标准"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("督查评分项")
        verbose_name_plural = _("督查评分项")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="uniq_checklist_item_position"),
            models.CheckConstraint(condition=Q(max_score__gt=0), name="checklist_item_score_positive"),
        ]

    def __str__(self):
        return f"{self.position}. {self.text}"


class Schedule(models.Model):
    """A level that runs cycles by itself: the city, and each district that runs its own. The
    daily job creates the cycle of the current period for every active schedule (idempotent)."""

    area = models.OneToOneField("regions.Area", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("启用"), default=True)
    period_months = models.PositiveSmallIntegerField(_("检查周期（月）"), default=2)
    template_code = models.SlugField(_("评分模板编码"), max_length=40)
    site_kinds = models.JSONField(_("抽查场所类型"), default=list)
    sites_per_district = models.PositiveSmallIntegerField(_("每个县（市）区抽查场所数"), default=3)
    cases_per_site = models.PositiveSmallIntegerField(_("每个场所抽查卷宗数"), default=5)
    submit_days = models.PositiveSmallIntegerField(_("送检期限（工作日）"), default=10)
    notice_days = models.PositiveSmallIntegerField(_("整改期限（工作日）"), default=10)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("督查周期计划")
        verbose_name_plural = _("督查周期计划")

    def __str__(self):
        return f"{self.area} 每{self.period_months}个月"


class Cycle(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("待抽样")
        RUNNING = "running", _("检查中")
        CLOSED = "closed", _("已结束")

    number = models.CharField(_("周期编号"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=100)
    area = models.ForeignKey("regions.Area", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("周期开始"))
    period_end = models.DateField(_("周期结束"))
    template = models.ForeignKey(ChecklistTemplate, verbose_name=_("评分模板版本"), on_delete=models.PROTECT,
                                 related_name="cycles")
    districts = models.ManyToManyField("regions.Area", verbose_name=_("检查范围（县（市）区）"), related_name="+")
    site_kinds = models.JSONField(_("抽查场所类型"), default=list)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True)
    seed = models.BigIntegerField(_("随机种子"))
    rule = models.JSONField(_("抽样规则"), default=dict, blank=True,
                            help_text=_("每县（市）区场所数、每场所卷宗数、卷宗办结时间范围、办件编号上限与算法"))
    sample_digest = models.CharField(_("样本摘要"), max_length=64, blank=True)
    submit_days = models.PositiveSmallIntegerField(_("送检期限（工作日）"), default=10)
    submit_due = models.DateField(_("送检截止"), null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField(_("整改期限（工作日）"), default=10)
    scheduled = models.BooleanField(_("按计划自动创建"), default=False)
    sampled_at = models.DateTimeField(_("抽样时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.CharField(_("创建人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("督查周期")
        verbose_name_plural = _("督查周期")
        ordering = ["-period_start", "area__code"]
        constraints = [
            # The scheduled job creates each period's cycle once, however often it runs.
            models.UniqueConstraint(fields=["area", "period_start"], condition=Q(scheduled=True),
                                    name="uniq_scheduled_cycle"),
        ]

    def __str__(self):
        return self.title


class SampledSite(models.Model):
    """A site drawn for a cycle's online check: the materials it submitted and its review."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待送检")
        SUBMITTED = "submitted", _("已送检待评审")
        REVIEWED = "reviewed", _("已评审")

    cycle = models.ForeignKey(Cycle, verbose_name=_("督查周期"), on_delete=models.PROTECT, related_name="sites")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Area", verbose_name=_("所属县（市）区"), on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField(_("抽样顺位"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    submitted_at = models.DateTimeField(_("送检时间"), null=True, blank=True)
    submitted_by = models.CharField(_("送检人"), max_length=150, blank=True)
    reviewed_at = models.DateTimeField(_("评审完成时间"), null=True, blank=True)
    reviewed_by = models.CharField(_("评审人"), max_length=150, blank=True)
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=1, null=True, blank=True)
    max_score = models.DecimalField(_("满分"), max_digits=6, decimal_places=1, null=True, blank=True)

    class Meta:
        verbose_name = _("抽查场所")
        verbose_name_plural = _("抽查场所")
        ordering = ["cycle", "district__code", "rank"]
        constraints = [models.UniqueConstraint(fields=["cycle", "site"], name="uniq_sampled_site")]

    def __str__(self):
        return f"{self.cycle.number} {self.site}"


class SampledCase(models.Model):
    sampled_site = models.ForeignKey(SampledSite, verbose_name=_("抽查场所"), on_delete=models.PROTECT, related_name="cases")
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField(_("抽样顺位"))

    class Meta:
        verbose_name = _("抽查卷宗")
        verbose_name_plural = _("抽查卷宗")
        ordering = ["sampled_site", "rank"]
        constraints = [models.UniqueConstraint(fields=["sampled_site", "case"], name="uniq_sampled_case")]


class Material(models.Model):
    """One submitted material (送检材料): attached from what the platform holds, or uploaded.
    Stored by content (cases.StoredFile): what the reviewer scored stays what was submitted."""

    class Kind(models.TextChoices):
        DOSSIER = "dossier", _("业务卷宗")
        ITEM_LIST = "item_list", _("事项清单及办事指南")
        COMPLIANCE = "compliance", _("进驻及“应进必进”情况")
        UPLOAD = "upload", _("上传材料")

    sampled_site = models.ForeignKey(SampledSite, verbose_name=_("抽查场所"), on_delete=models.PROTECT,
                                     related_name="materials")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("材料名称"), max_length=200)
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    added_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    added_by = models.CharField(_("提交人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("送检材料")
        verbose_name_plural = _("送检材料")
        ordering = ["sampled_site", "kind", "id"]


class FieldCheck(models.Model):
    """实地查访, 暗访 or 电话抽查 of one site. A mystery visit is seen only by its organiser's
    reviewers until published; its findings become notices when it is published."""

    class Method(models.TextChoices):
        ONSITE = "onsite", _("实地查访")
        MYSTERY = "mystery", _("暗访")
        PHONE = "phone", _("电话抽查")

    class Status(models.TextChoices):
        DRAFT = "draft", _("记录中")
        FINISHED = "finished", _("已完成")
        PUBLISHED = "published", _("已公布")

    class Line(models.TextChoices):
        NONE = "", _("—")
        CONSULT = "consult", _("咨询电话")
        COMPLAINT = "complaint", _("监督投诉电话")

    method = models.CharField(_("方式"), max_length=10, choices=Method.choices, db_index=True)
    organiser = models.ForeignKey("regions.Area", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    cycle = models.ForeignKey(Cycle, verbose_name=_("督查周期"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="field_checks")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(ChecklistTemplate, verbose_name=_("评分模板版本"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("检查时间"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    line = models.CharField(_("抽查电话"), max_length=10, choices=Line.choices, blank=True, default="")
    phone_number = models.CharField(_("拨打号码"), max_length=50, blank=True)
    answered = models.BooleanField(_("接通"), null=True, blank=True)
    summary = models.TextField(_("情况记录"), blank=True)
    inspector = models.CharField(_("检查人"), max_length=150)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=1, null=True, blank=True)
    max_score = models.DecimalField(_("满分"), max_digits=6, decimal_places=1, null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("实地查访/暗访/电话抽查")
        verbose_name_plural = _("实地查访/暗访/电话抽查")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_method_display()} {self.site} {timezone.localtime(self.at):%Y-%m-%d}"

    @property
    def hidden(self) -> bool:
        """Hidden from the visited site (and anyone but the organiser's reviewers)."""
        return self.method == self.Method.MYSTERY and self.published_at is None


class CheckPhoto(models.Model):
    check_record = models.ForeignKey(FieldCheck, verbose_name=_("检查记录"), on_delete=models.PROTECT,
                                     related_name="photos")
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    taken_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    uploaded_by = models.CharField(_("上传人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("查访照片")
        verbose_name_plural = _("查访照片")
        ordering = ["check_record", "id"]


class ItemScore(models.Model):
    """A reviewer's score of one checklist item for one sampled site or field check."""

    sampled_site = models.ForeignKey(SampledSite, verbose_name=_("抽查场所"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="scores")
    check_record = models.ForeignKey(FieldCheck, verbose_name=_("检查记录"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="scores")
    item = models.ForeignKey(ChecklistItem, verbose_name=_("评分项"), on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=1)
    remark = models.CharField(_("评审意见"), max_length=500, blank=True)
    scored_by = models.CharField(_("评审人"), max_length=150)
    scored_at = models.DateTimeField(_("评审时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        ordering = ["item__position"]
        constraints = [
            models.UniqueConstraint(fields=["sampled_site", "item"], condition=Q(sampled_site__isnull=False),
                                    name="uniq_item_score_site"),
            models.UniqueConstraint(fields=["check_record", "item"], condition=Q(check_record__isnull=False),
                                    name="uniq_item_score_check"),
            models.CheckConstraint(condition=Q(sampled_site__isnull=False) ^ Q(check_record__isnull=False),
                                   name="item_score_one_target"),
        ]


class Finding(models.Model):
    """A problem found: a deduction on a checklist item, or one written down in a field check."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("督查周期"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="findings")
    sampled_site = models.ForeignKey(SampledSite, verbose_name=_("抽查场所"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="findings")
    check_record = models.ForeignKey(FieldCheck, verbose_name=_("检查记录"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="findings")
    organiser = models.ForeignKey("regions.Area", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("检查方面"), max_length=20, choices=Category.choices)
    item = models.ForeignKey(ChecklistItem, verbose_name=_("评分项"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    description = models.TextField(_("存在问题"))
    deduction = models.DecimalField(_("扣分"), max_digits=5, decimal_places=1, default=Decimal("0"))
    # False while the mystery visit it comes from is unpublished: only the organiser's reviewers see it.
    published = models.BooleanField(_("已公布"), default=True, db_index=True)
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    created_by = models.CharField(_("发现人"), max_length=150)

    class Meta:
        verbose_name = _("督查发现问题")
        verbose_name_plural = _("督查发现问题")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.site} {self.get_category_display()}：{self.description[:30]}"


class Notice(models.Model):
    """整改通知: one per finding, numbered per year, addressed to the level below the organiser."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("待整改")
        ANSWERED = "answered", _("已答复待验收")
        RETURNED = "returned", _("已退回重改")
        ACCEPTED = "accepted", _("已验收")

    number = models.CharField(_("通知编号"), max_length=32, unique=True)
    finding = models.OneToOneField(Finding, verbose_name=_("发现问题"), on_delete=models.PROTECT, related_name="notice")
    cycle = models.ForeignKey(Cycle, verbose_name=_("督查周期"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="notices")
    organiser = models.ForeignKey("regions.Area", verbose_name=_("发文单位"), on_delete=models.PROTECT, related_name="+")
    addressee = models.ForeignKey("regions.Area", verbose_name=_("整改责任单位"), on_delete=models.PROTECT,
                                  related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("检查方式"), max_length=10)
    problem = models.TextField(_("存在问题"))
    requirement = models.TextField(_("整改要求"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ISSUED, db_index=True)
    issued_at = models.DateTimeField(_("下发时间"), default=timezone.now)
    issued_on = models.DateField(_("下发日期"))
    working_days = models.PositiveSmallIntegerField(_("整改时限（工作日）"))
    deadline = models.DateField(_("整改期限"), db_index=True)
    deadline_unconfirmed = models.BooleanField(_("期限所在年度节假日未确认"), default=False)
    rounds = models.PositiveSmallIntegerField(_("答复次数"), default=0)
    answer = models.TextField(_("整改情况"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.CharField(_("答复人"), max_length=150, blank=True)
    decision_note = models.TextField(_("验收意见"), blank=True)
    decided_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    decided_by = models.CharField(_("验收人"), max_length=150, blank=True)
    rectified_on = models.DateField(_("整改完成日期"), null=True, blank=True,
                                    help_text=_("验收通过的那次答复的日期"))
    on_time = models.BooleanField(_("按期整改"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("逾期上报时间"), null=True, blank=True)
    escalated_for = models.DateField(_("已上报的期限"), null=True, blank=True)
    pdf = models.ForeignKey("cases.StoredFile", verbose_name=_("通知文件"), null=True, blank=True,
                            on_delete=models.PROTECT, related_name="+")
    # The ledger (followups) is brought to ``revision`` by the receiver of ``notice_changed`` or by
    # its sweep, which then records the revision it wrote: a lost signal is found by the sweep.
    revision = models.PositiveIntegerField(_("版本"), default=1)
    ledger_revision = models.PositiveIntegerField(_("整改台账已同步版本"), default=0)
    ledger_ref = models.CharField(_("整改台账编号"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("整改通知")
        verbose_name_plural = _("整改通知")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="notice_status_deadline_idx")]

    def __str__(self):
        return f"{self.number} {self.site}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.ACCEPTED

    def is_overdue(self, today=None) -> bool:
        return self.is_open and self.deadline < (today or timezone.localdate())


class NoticeCounter(models.Model):
    """The last notice number used per year; locked while a number is taken (no two notices
    share one, however many reviewers finish at once)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)


class NoticeEvent(models.Model):
    class Kind(models.TextChoices):
        ISSUED = "issued", _("下发整改通知")
        ANSWERED = "answered", _("答复整改情况")
        ACCEPTED = "accepted", _("验收通过")
        RETURNED = "returned", _("退回重改")
        ESCALATED = "escalated", _("逾期上报分管领导")

    notice = models.ForeignKey(Notice, verbose_name=_("整改通知"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.CharField(_("操作人"), max_length=150, blank=True)
    text = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("整改通知进程")
        verbose_name_plural = _("整改通知进程")
        ordering = ["at", "id"]


class NoticeEvidence(models.Model):
    notice = models.ForeignKey(Notice, verbose_name=_("整改通知"), on_delete=models.PROTECT, related_name="evidence")
    round = models.PositiveSmallIntegerField(_("第几次答复"))
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    uploaded_by = models.CharField(_("上传人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("整改佐证材料")
        verbose_name_plural = _("整改佐证材料")
        ordering = ["notice", "round", "id"]


class Leader(models.Model):
    """The leadership list of an area (分管领导): who hears of its overdue notices."""

    area = models.ForeignKey("regions.Area", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("平台账号"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("分管领导")
        verbose_name_plural = _("分管领导名单")
        ordering = ["area__code", "id"]

    def __str__(self):
        return f"{self.area} {self.title} {self.name}"


class Notification(models.Model):
    """A message in the platform (站内通知) to the staff of an area: notices sent, answered,
    decided, escalated; materials requested. The same news also goes out through the outbox."""

    area = models.ForeignKey("regions.Area", verbose_name=_("接收单位"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class NotificationRead(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "user"], name="uniq_notification_read")]


class CycleScore(models.Model):
    """A cycle's score of one site, or of one district (the mean of its sites), with its rank."""

    class Level(models.TextChoices):
        SITE = "site", _("场所")
        DISTRICT = "district", _("县（市）区")

    cycle = models.ForeignKey(Cycle, verbose_name=_("督查周期"), on_delete=models.CASCADE, related_name="scores")
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Area", verbose_name=_("县（市）区"), on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("得分（百分制）"), max_digits=5, decimal_places=1)
    checks = models.PositiveSmallIntegerField(_("检查次数"))
    findings = models.PositiveSmallIntegerField(_("发现问题数"), default=0)
    rank = models.PositiveSmallIntegerField(_("排名"))

    class Meta:
        verbose_name = _("周期得分")
        verbose_name_plural = _("周期得分")
        ordering = ["cycle", "level", "rank"]


class AssessmentScheme(models.Model):
    """The weights of the annual assessment for one organiser and year (configurable)."""

    area = models.ForeignKey("regions.Area", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    weights = models.JSONField(_("权重"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.CharField(_("更新人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("年度考核权重")
        verbose_name_plural = _("年度考核权重")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_assessment_scheme")]


class Assessment(models.Model):
    """The annual assessment of the districts below an organiser, as last computed."""

    area = models.ForeignKey("regions.Area", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    weights = models.JSONField(_("计算时的权重"))
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    computed_by = models.CharField(_("计算人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_assessment")]


class AssessmentRow(models.Model):
    assessment = models.ForeignKey(Assessment, verbose_name=_("年度考核"), on_delete=models.CASCADE, related_name="rows")
    district = models.ForeignKey("regions.Area", verbose_name=_("县（市）区"), on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(_("综合得分"), max_digits=5, decimal_places=1)
    rank = models.PositiveSmallIntegerField(_("排名"))
    breakdown = models.JSONField(_("得分构成"))

    class Meta:
        verbose_name = _("年度考核得分")
        verbose_name_plural = _("年度考核得分")
        ordering = ["assessment", "rank"]
