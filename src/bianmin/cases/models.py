"""办件: one application, from intake (受理) to completion (办结).

A `Case` snapshots what it needs from the catalog at intake (time limits, handling mode, the
authorising department, the checklist), so later catalog edits do not rewrite its history. Its
state moves only through the transition table in `workflow.py`; each move writes one `CaseEvent`
(the timeline) and one audit row. The clock (working days from acceptance) pauses while a
correction (补正) is outstanding: each pause is a `Suspension` row and pushes the due dates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    CORRECTION = "correction", _("补正中")
    IN_PROGRESS = "in_progress", _("办理中")
    COMPLETED = "completed", _("已办结")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_STATES = (State.SUBMITTED, State.ACCEPTED, State.CORRECTION, State.IN_PROGRESS)
# States in which the clock runs (accepted, not paused, not finished).
CLOCK_STATES = (State.ACCEPTED, State.IN_PROGRESS)
FINAL_STATES = (State.COMPLETED, State.NOT_ACCEPTED, State.WITHDRAWN)


class Case(models.Model):
    class Channel(models.TextChoices):
        WINDOW = "window", _("窗口受理")
        ONLINE = "online", _("网上申请")
        API = "api", _("外部系统推送")

    class ApplicantKind(models.TextChoices):
        PERSON = "person", _("自然人")
        ENTERPRISE = "enterprise", _("法人（企业）")

    class Result(models.TextChoices):
        APPROVED = "approved", _("准予（办结）")
        DENIED = "denied", _("不予批准")

    class Mode(models.TextChoices):
        # Mirrors catalog.Item.Mode; copied at intake so the case keeps the mode it was taken in under.
        ON_THE_SPOT = "on_the_spot", _("当场办理")
        AUTHORIZED = "authorized", _("授权办理")
        DELEGATED = "delegated", _("直接下放")
        TRANSFER = "transfer", _("业务转办")

    item = models.ForeignKey("catalog.Item", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="cases")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("办理场所"), on_delete=models.PROTECT,
                             related_name="cases", help_text=_("当前负责办理的场所；业务转办后为上级场所"))
    received_site = models.ForeignKey("regions.ServiceSite", verbose_name=_("收件场所"), on_delete=models.PROTECT,
                                      related_name="received_cases", help_text=_("申请人递交申请的场所"))
    window = models.ForeignKey("regions.Window", verbose_name=_("窗口"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="cases")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="cases")
    channel = models.CharField(_("申请渠道"), max_length=10, choices=Channel.choices, default=Channel.WINDOW)
    external_source = models.CharField(_("外部系统"), max_length=100, blank=True)
    external_id = models.CharField(_("外部编号"), max_length=100, blank=True)
    # The area of the key that pushed the case: an outside system's numbers are unique within
    # it, so one township's key taking a number first neither blocks another township's key nor
    # tells it which numbers exist.
    external_area = models.ForeignKey("regions.Area", verbose_name=_("外部编号所属区划"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    request_digest = models.CharField(_("请求摘要"), max_length=64, blank=True,
                                      help_text=_("外部系统最近一次推送内容的摘要，用于幂等判断"))

    state = models.CharField(_("状态"), max_length=15, choices=State.choices, default=State.SUBMITTED, db_index=True)
    state_before_correction = models.CharField(_("补正前状态"), max_length=15, choices=State.choices, blank=True)
    acceptance_number = models.CharField(_("受理编号"), max_length=64, null=True, blank=True, unique=True)

    # Applicant (申请人): a person or an enterprise. ID numbers and phones are shown masked.
    applicant_kind = models.CharField(_("申请人类型"), max_length=10, choices=ApplicantKind.choices)
    applicant_name = models.CharField(_("申请人"), max_length=100)
    id_number = models.CharField(_("身份证号码"), max_length=18, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=11)
    summary = models.CharField(_("申请内容"), max_length=300, blank=True)

    # Snapshot from the catalog at intake.
    mode = models.CharField(_("办理方式"), max_length=15, choices=Mode.choices, default=Mode.ON_THE_SPOT)
    authorized_by = models.ForeignKey("catalog.Department", verbose_name=_("授权部门"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    legal_limit_days = models.PositiveIntegerField(_("法定时限（工作日）"))
    promised_limit_days = models.PositiveIntegerField(_("承诺时限（工作日）"))

    # Clock.
    submitted_at = models.DateTimeField(_("申请时间"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    suspended_since = models.DateField(_("暂停计时起"), null=True, blank=True)
    suspended_days = models.PositiveIntegerField(_("累计暂停（工作日）"), default=0)
    promised_due_on = models.DateField(_("承诺办结日"), null=True, blank=True, db_index=True)
    legal_due_on = models.DateField(_("法定办结日"), null=True, blank=True)
    overdue = models.BooleanField(_("已超期"), default=False, db_index=True)
    overdue_marked_on = models.DateField(_("超期标记日"), null=True, blank=True)

    # Outcome.
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_on = models.DateField(_("办结日期"), null=True, blank=True)
    result = models.CharField(_("办理结果"), max_length=10, choices=Result.choices, blank=True)
    reason = models.TextField(_("理由"), blank=True, help_text=_("不予受理、不予批准或撤回的理由"))

    visit_count = models.PositiveIntegerField(_("跑动次数"), default=0, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["external_source", "external_area", "external_id"],
                                    condition=~Q(external_id=""), name="uniq_case_external_id_in_area"),
            models.CheckConstraint(
                condition=Q(applicant_kind="person", credit_code="") | Q(applicant_kind="enterprise", id_number=""),
                name="case_applicant_one_identifier"),
        ]
        indexes = [
            # The clerk queue: a site's open cases by due date.
            models.Index(fields=["site", "state", "promised_due_on"], name="case_queue_idx"),
            models.Index(fields=["owner", "state"], name="case_owner_idx"),
            models.Index(fields=["received_site", "state"], name="case_received_idx"),
            models.Index(fields=["state", "promised_due_on"], name="case_due_idx"),
            models.Index(fields=["submitted_at"], name="case_submitted_idx"),
            # The figures recount one (site, day) slice after each case's or evaluation's news.
            models.Index(fields=["site", "completed_at"], name="case_site_completed_idx"),
            models.Index(fields=["received_site", "accepted_at"], name="case_received_accepted_idx"),
        ]

    def __str__(self):
        return self.acceptance_number or f"办件#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def multi_trip(self) -> bool:
        """跑多趟: the applicant came to a site more than once for this case."""
        return self.visit_count > 1


class AcceptanceCounter(models.Model):
    """The last acceptance sequence used per site and day. Locked (select_for_update) while a
    number is taken, so two clerks accepting at once never get the same number."""

    site = models.ForeignKey("regions.ServiceSite", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="uniq_acceptance_counter")]


class Suspension(models.Model):
    """One pause of the clock (补正, 暂停计时): from the request for materials until they arrive.
    `working_days` is counted when it ends and added to the due dates (Open Zaak's opschorting)."""

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="suspensions")
    reason = models.CharField(_("原因"), max_length=300)
    missing_materials = models.JSONField(_("需补正材料"), default=list)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    working_days = models.PositiveIntegerField(_("暂停工作日数"), default=0)
    due_on = models.DateField(_("补正期限"), null=True, blank=True,
                              help_text=_("一次性告知书上写明的补交材料截止日"))
    clock_running = models.BooleanField(_("暂停前已在计时"), default=True,
                                        help_text=_("受理前的补正不影响时限"))

    class Meta:
        verbose_name = _("暂停计时（补正）")
        verbose_name_plural = _("暂停计时（补正）")
        ordering = ["case", "started_on", "id"]


class Transfer(models.Model):
    """业务转办: a case forwarded from a village/community station to a higher site. Both the
    sending and the receiving site see the case (the scope rule reads `received_site` too)."""

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="transfers")
    from_site = models.ForeignKey("regions.ServiceSite", verbose_name=_("转出场所"), on_delete=models.PROTECT, related_name="+")
    to_site = models.ForeignKey("regions.ServiceSite", verbose_name=_("转入场所"), on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(_("转办时间"))
    by_label = models.CharField(_("转办人"), max_length=150)

    class Meta:
        verbose_name = _("业务转办")
        verbose_name_plural = _("业务转办")
        ordering = ["case", "at", "id"]


class Visit(models.Model):
    """跑动: one trip of the applicant to a site for this case."""

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="visits")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("场所"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"))
    purpose = models.CharField(_("事由"), max_length=100, blank=True)
    recorded_by = models.CharField(_("登记人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("跑动记录")
        verbose_name_plural = _("跑动记录")
        ordering = ["case", "at", "id"]


class StoredFile(models.Model):
    """An uploaded file, stored once by content (sha256) under the default storage."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("类型"), max_length=100)
    path = models.CharField(_("存储路径"), max_length=200)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")


class CaseMaterial(models.Model):
    """One line of the case's checklist (from the guide at intake), and the file given for it."""

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必要"), default=True)
    trust_level = models.CharField(_("信任等级"), max_length=1, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    received = models.BooleanField(_("已收取"), default=False)
    file = models.ForeignKey(StoredFile, verbose_name=_("文件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["case", "position", "id"]


class CaseEvent(models.Model):
    """One line of a case's timeline (Saleor-style typed events; constructors in events.py)."""

    class Type(models.TextChoices):
        SUBMITTED = "submitted", _("提交申请")
        UPDATED = "updated", _("更新申请信息")
        ACCEPTED = "accepted", _("受理")
        NOT_ACCEPTED = "not_accepted", _("不予受理")
        CORRECTION_REQUESTED = "correction_requested", _("一次性告知补正")
        CORRECTION_RECEIVED = "correction_received", _("补正材料已收齐")
        STARTED = "started", _("开始办理")
        COMPLETED = "completed", _("办结")
        WITHDRAWN = "withdrawn", _("撤回")
        TRANSFERRED = "transferred", _("业务转办")
        VISIT = "visit", _("到场")
        MATERIAL = "material", _("收取材料")
        OVERDUE = "overdue", _("超期")
        ASSIGNED = "assigned", _("指定经办人")

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("类型"), max_length=30, choices=Type.choices)
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办件事件")
        verbose_name_plural = _("办件事件")
        ordering = ["case", "at", "id"]

    @property
    def actor_shown(self) -> str:
        """Who acted, as a person reads it (the timeline, the dossier): the person's name; the
        stored label for a key, the demo or the platform ("系统"). Never a log-in name (22.9)."""
        if self.actor_id is not None:
            return str(self.actor)
        return "系统" if self.actor_label in ("", "system") else self.actor_label
