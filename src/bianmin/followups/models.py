"""回访与整改: bad-review handling, the daily follow-up desk, questionnaires, and the one
rectification (整改) ledger shared by every source (bad reviews, follow-ups, appeals, surveys).

Nothing here is ever deleted: a handling record moves through its states and keeps every step
as an event; a rectification is closed, never removed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BadReviewHandling(models.Model):
    """差评处理: verify (核实) → rectify (整改) or explain (no legal basis) → follow up with the
    citizen (回访) → close. The site may appeal (申诉) a mistaken or malicious review; the level
    above decides (复核). 谁办理谁负责: it belongs to the case's site."""

    class Status(models.TextChoices):
        OPEN = "open", _("待核实")
        RECTIFYING = "rectifying", _("整改中")
        EXPLAINED = "explained", _("已解释说明")
        RECTIFIED = "rectified", _("已整改")
        FOLLOWED_UP = "followed_up", _("已回访")
        APPEALED = "appealed", _("申诉复核中")
        CLOSED = "closed", _("已办结")

    class Verdict(models.TextChoices):
        CONFIRMED = "confirmed", _("情况属实")
        NO_BASIS = "no_basis", _("诉求无法律依据（解释说明）")
        MISTAKEN = "mistaken", _("误评、恶意评价（拟申诉）")

    class AppealDecision(models.TextChoices):
        NONE = "", _("无")
        UPHELD = "upheld", _("申诉成立（不计入统计）")
        REJECTED = "rejected", _("申诉不成立")

    evaluation = models.OneToOneField("evaluations.Evaluation", verbose_name=_("差评"), on_delete=models.PROTECT,
                                      related_name="handling")
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("责任场所"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_at = models.DateTimeField(_("生成时间"), default=timezone.now, db_index=True)
    verify_due = models.DateField(_("核实期限"))
    verdict = models.CharField(_("核实结论"), max_length=10, choices=Verdict.choices, blank=True)
    verification = models.TextField(_("核实情况"), blank=True)
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    explanation = models.TextField(_("解释说明"), blank=True)
    rectification = models.OneToOneField("Rectification", verbose_name=_("整改"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="bad_review")
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    follow_up_result = models.TextField(_("回访情况"), blank=True)
    citizen_satisfied = models.BooleanField(_("回访满意"), null=True, blank=True)
    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    appeal_evidence = models.TextField(_("申诉证据"), blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    appeal_decision = models.CharField(_("复核结论"), max_length=10, choices=AppealDecision.choices, blank=True, default="")
    appeal_decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    appeal_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复核人"), null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    status_before_appeal = models.CharField(_("申诉前状态"), max_length=12, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("差评处理")
        verbose_name_plural = _("差评处理")
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return f"差评处理 {self.case}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class AppealEvidence(models.Model):
    """One evidence file of a 申诉 (a video still, a photo, a signed statement as PDF), stored
    once by content in ``cases.StoredFile`` (the same checked, content-addressed store as the
    case materials). Kept for good: an appeal's evidence is part of its record, decided or not."""

    handling = models.ForeignKey(BadReviewHandling, verbose_name=_("差评处理"), on_delete=models.PROTECT,
                                 related_name="evidence_files")
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    uploaded_by = models.CharField(_("上传人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("申诉证据")
        verbose_name_plural = _("申诉证据")
        ordering = ["handling", "uploaded_at", "id"]

    def __str__(self):
        return self.file_name

    def delete(self, *args, **kwargs):
        raise PermissionError("申诉证据不能删除")


class HandlingEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("生成差评工单")
        VERIFIED = "verified", _("核实")
        RECTIFICATION = "rectification", _("制定整改措施")
        RECTIFIED = "rectified", _("整改完成")
        EXPLAINED = "explained", _("解释说明")
        FOLLOWED_UP = "followed_up", _("回访")
        APPEALED = "appealed", _("申诉")
        APPEAL_DECIDED = "appeal_decided", _("申诉复核")
        EVIDENCE_ADDED = "evidence_added", _("补充申诉证据")
        CLOSED = "closed", _("办结")

    handling = models.ForeignKey(BadReviewHandling, verbose_name=_("差评处理"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    text = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("差评处理进程")
        verbose_name_plural = _("差评处理进程")
        ordering = ["at", "id"]


class Rectification(models.Model):
    """整改台账: one problem, its measure, owner and deadline (working days), and its result."""

    class Source(models.TextChoices):
        BAD_REVIEW = "bad_review", _("差评")
        FOLLOW_UP = "follow_up", _("回访发现")
        APPEAL_GROUP = "appeal_group", _("高频诉求")
        QUESTIONNAIRE = "questionnaire", _("问卷调查")
        INSPECTION = "inspection", _("督查整改通知")
        # engagement's sources (it raises its findings here like any source; followups never reads it)
        SYMPOSIUM = "symposium", _("座谈会意见")
        CAMPAIGN = "campaign", _("民意征集")
        PROPOSAL = "proposal", _("提案办理")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("整改中")
        DONE = "done", _("已整改")

    number = models.CharField(_("台账编号"), max_length=32, unique=True)
    source = models.CharField(_("问题来源"), max_length=15, choices=Source.choices, db_index=True)
    source_ref = models.CharField(_("来源记录"), max_length=64, blank=True)
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("责任场所"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    problem = models.TextField(_("存在问题"))
    measure = models.TextField(_("整改措施"), blank=True)
    owner_name = models.CharField(_("责任人"), max_length=50, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("责任人账号"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(_("整改时限（工作日）"), default=10)
    found_on = models.DateField(_("发现日期"), default=timezone.localdate)
    deadline = models.DateField(_("整改期限"), db_index=True)
    status = models.CharField(_("状态"), max_length=6, choices=Status.choices, default=Status.OPEN, db_index=True)
    result = models.TextField(_("整改结果"), blank=True)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    on_time = models.BooleanField(_("按期整改"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = _("整改台账")
        ordering = ["-found_on", "-id"]
        constraints = [
            # One rectification per source record (a consumed appeal request, a follow-up call).
            models.UniqueConstraint(fields=["source", "source_ref"], condition=~Q(source_ref=""),
                                    name="uniq_rectification_source"),
        ]
        # The ledgers (selectors.problem_list): a wide scope walks the first in the ledger's order
        # and checks the area in the index; a narrow one reads its areas' rows from the second.
        indexes = [models.Index(fields=["found_on", "id", "area"], name="rect_found_scope_idx"),
                   models.Index(fields=["area", "found_on"], name="rect_area_found_idx")]

    def __str__(self):
        return f"{self.number} {self.problem[:30]}"


class FollowUpList(models.Model):
    """The daily call list of one area (a district office's 回访 team). The random draw of
    satisfied evaluations is reproducible from ``seed`` and ``sample_rate``."""

    day = models.DateField(_("日期"))
    area = models.ForeignKey("regions.Area", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField(_("随机种子"))
    sample_rate = models.DecimalField(_("满意评价抽样比例"), max_digits=5, decimal_places=4)
    max_tries = models.PositiveSmallIntegerField(_("未接通最多尝试次数"), default=3)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    stats = models.JSONField(_("构成"), default=dict, blank=True)

    class Meta:
        verbose_name = _("每日回访名单")
        verbose_name_plural = _("每日回访名单")
        ordering = ["-day", "area__code"]
        constraints = [models.UniqueConstraint(fields=["day", "area"], name="uniq_followup_list_day_area")]

    def __str__(self):
        return f"{self.day} {self.area} 回访名单"


class FollowUp(models.Model):
    """One follow-up (回访) of a citizen: a call on the daily list, a home visit, or a
    questionnaire; with its result. An unreached call is retried on following days as a new
    row (``attempt`` + 1) linked to the first through ``first_try``."""

    class Reason(models.TextChoices):
        UNSATISFIED = "unsatisfied", _("不满意评价必回访")
        MULTI_TRIP = "multi_trip", _("跑多趟办理回访")
        SAMPLE = "sample", _("满意评价随机回访")
        APPEAL = "appeal", _("诉求回访")
        MANUAL = "manual", _("主动回访")

    class Method(models.TextChoices):
        CALL = "call", _("电话回访")
        VISIT = "visit", _("上门回访")
        QUESTIONNAIRE = "questionnaire", _("问卷调查")

    class Outcome(models.TextChoices):
        PENDING = "", _("待回访")
        REACHED = "reached", _("已联系")
        UNREACHED = "unreached", _("未接通")
        REFUSED = "refused", _("拒绝回访")
        GAVE_UP = "gave_up", _("多次未接通")

    class Satisfaction(models.TextChoices):
        NONE = "", _("—")
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    follow_list = models.ForeignKey(FollowUpList, verbose_name=_("回访名单"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="items")
    reason = models.CharField(_("回访原因"), max_length=12, choices=Reason.choices, db_index=True)
    method = models.CharField(_("回访方式"), max_length=14, choices=Method.choices, default=Method.CALL)
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    evaluation = models.ForeignKey("evaluations.Evaluation", verbose_name=_("评价"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="followups")
    appeal = models.ForeignKey("appeals.Appeal", verbose_name=_("诉求"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    handling = models.ForeignKey(BadReviewHandling, verbose_name=_("差评处理"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="followups")
    contact_name = models.CharField(_("回访对象"), max_length=100, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    attempt = models.PositiveSmallIntegerField(_("第几次联系"), default=1)
    first_try = models.ForeignKey("self", verbose_name=_("首次回访"), null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="retries")
    outcome = models.CharField(_("回访结果"), max_length=10, choices=Outcome.choices, blank=True, default="", db_index=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True, default="")
    notes = models.TextField(_("回访记录"), blank=True)
    problem = models.TextField(_("发现问题"), blank=True)
    rectification = models.ForeignKey(Rectification, verbose_name=_("整改"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="followups")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("回访人"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("回访时间"), null=True, blank=True)  # indexed first in followup_done_scope_idx
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访台账")
        ordering = ["follow_list", "reason", "id"]
        constraints = [
            # A list holds each subject once: rebuilding the day's list adds nothing twice.
            models.UniqueConstraint(fields=["follow_list", "case", "reason"], condition=Q(case__isnull=False),
                                    name="uniq_followup_list_case_reason"),
            models.UniqueConstraint(fields=["follow_list", "appeal"], condition=Q(appeal__isnull=False),
                                    name="uniq_followup_list_appeal"),
        ]
        # 回访台账 (selectors.followup_ledger): as Rectification's two ledger indexes.
        indexes = [models.Index(fields=["done_at", "id", "area", "outcome"], name="followup_done_scope_idx"),
                   models.Index(fields=["area", "done_at"], name="followup_area_done_idx")]

    def __str__(self):
        return f"{self.get_reason_display()} {self.contact_name}"

    @property
    def is_done(self) -> bool:
        return self.outcome != ""


class Questionnaire(models.Model):
    title = models.CharField(_("问卷标题"), max_length=200)
    intro = models.TextField(_("说明"), blank=True)
    area = models.ForeignKey("regions.Area", verbose_name=_("发起区划"), on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("进行中"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")
        TEXT = "text", _("填空")
        SCALE = "scale", _("打分（1–5）")

    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT, related_name="questions")
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("题型"), max_length=10, choices=Kind.choices)
    text = models.CharField(_("题目"), max_length=300)
    options = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必答"), default=True)

    class Meta:
        verbose_name = _("问卷题目")
        verbose_name_plural = _("问卷题目")
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "position"], name="uniq_question_position")]


class SurveyInvitation(models.Model):
    """One answer sheet of a questionnaire, answered once: sent to one phone by SMS link, or
    opened by a QR code (no phone), or filled in by staff after a home visit or a call."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信链接")
        QR = "qr", _("扫码填写")
        VISIT = "visit", _("上门回访录入")
        CALL = "call", _("电话回访录入")

    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT, related_name="invitations")
    token = models.CharField(_("链接随机码"), max_length=40, unique=True)
    channel = models.CharField(_("答卷方式"), max_length=6, choices=Channel.choices, default=Channel.SMS)
    phone = models.CharField(_("手机号码"), max_length=11, blank=True)
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    answered_at = models.DateTimeField(_("答卷时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("问卷邀请")
        verbose_name_plural = _("问卷邀请")
        # A phone is invited once per questionnaire; sheets without a phone (QR, staff entry) are many.
        constraints = [models.UniqueConstraint(fields=["questionnaire", "phone"], condition=~Q(phone=""),
                                               name="uniq_survey_invite_phone")]


class SurveyResponse(models.Model):
    invitation = models.OneToOneField(SurveyInvitation, verbose_name=_("邀请"), on_delete=models.PROTECT, related_name="response")
    answers = models.JSONField(_("答案"), default=dict)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("问卷答卷")
        verbose_name_plural = _("问卷答卷")
