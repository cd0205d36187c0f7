"""好差评: evaluations of finished cases from every channel, their links, and reporting upward.

An evaluation belongs to its case; the case's site, window, clerk, item and area are copied on
it at creation (they are what the figures group by, and a case moved later must not move its
past evaluations between areas). One first evaluation and at most one 追评 per case
(GB/T 39734 一事一评, local 追评 rule) are enforced by a unique constraint, which is also what
makes a repeated submission store nothing new."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Grade(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASIC = 3, _("基本满意")
    UNSATISFIED = 2, _("不满意")
    VERY_UNSATISFIED = 1, _("非常不满意")


# The bad-review rule, once (差评: 不满意 or 非常不满意). Everything that asks "is this a bad
# review" uses these: the reasons a bad grade needs, the handling it opens, the daily call list,
# the figures, the pages.
BAD_GRADES = (Grade.UNSATISFIED, Grade.VERY_UNSATISFIED)


def is_bad_grade(grade) -> bool:
    return grade in BAD_GRADES


# The same as queries: ranges, the shape the ledgers' and rates' plans were measured with.
BAD = Q(grade__lte=max(BAD_GRADES))
NOT_BAD = Q(grade__gt=max(BAD_GRADES))  # 基本满意 and better
# A bad review that counts: a citizen's (not the default 满意 after 7 days) and not excluded (an
# upheld 申诉, 刷评). It opens a handling, is called back and enters the figures.
COUNTED_BAD = BAD & Q(is_default=False, excluded=False)
# Some provinces score the grades (STANDARDS.md, local): 10/8/6/3/0.
GRADE_SCORES = {5: 10, 4: 8, 3: 6, 2: 3, 1: 0}


class AspectSet(models.TextChoices):
    ONSITE = "onsite", _("现场服务")
    ONLINE = "online", _("网上服务")


# GB/T 39735: what is rated besides the overall grade, on site and online.
ASPECTS: dict[str, list[tuple[str, str]]] = {
    AspectSet.ONSITE: [("overall", "总体满意度"), ("efficiency", "办事效率"), ("service", "服务水平"),
                       ("attitude", "服务态度")],
    AspectSet.ONLINE: [("overall", "总体满意度"), ("efficiency", "办事效率"), ("guide", "办事指南准确性"),
                       ("convenience", "办事便捷度"), ("usability", "平台易用性")],
}


class Channel(models.TextChoices):
    QR = "qr", _("扫码评价")
    SMS = "sms", _("短信评价")
    DEVICE = "device", _("窗口评价器")
    KIOSK = "kiosk", _("自助终端")
    WEB = "web", _("网上评价")
    PAPER = "paper", _("纸质评价（工作人员录入）")
    PHONE = "phone", _("电话评价（工作人员录入）")
    PROVINCIAL_APP = "prov_app", _("闽政通（省级）")
    PROVINCIAL_HALL = "prov_hall", _("省网上办事大厅")
    DEFAULT = "default", _("默认好评")


# Which aspects a channel asks for: evaluations at the place of service rate the on-site set.
ONSITE_CHANNELS = {Channel.QR, Channel.DEVICE, Channel.KIOSK, Channel.PAPER, Channel.PHONE}
STAFF_CHANNELS = {Channel.PAPER, Channel.PHONE}
PROVINCIAL_CHANNELS = {Channel.PROVINCIAL_APP, Channel.PROVINCIAL_HALL}


class ReasonOption(models.Model):
    """A reason a citizen may pick for a bad grade. The list is configurable (admin); inactive
    reasons stay for the history of the evaluations that used them."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    label = models.CharField(_("原因"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("差评原因")
        verbose_name_plural = _("差评原因")
        ordering = ["order", "id"]

    def __str__(self):
        return self.label


class Evaluation(models.Model):
    class Kind(models.TextChoices):
        FIRST = "first", _("评价")
        ADDITIONAL = "additional", _("追评")

    class Flag(models.TextChoices):
        NONE = "", _("无")
        BURST = "burst", _("短时集中评价")
        REPEATED_TEXT = "repeated_text", _("重复评价内容")

    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.FIRST)
    grade = models.PositiveSmallIntegerField(_("评价等级"), choices=Grade.choices)
    aspect_set = models.CharField(_("评价指标集"), max_length=10, choices=AspectSet.choices)
    aspects = models.JSONField(_("分项评价"), default=dict, blank=True)
    reasons = models.JSONField(_("差评原因"), default=list, blank=True)
    text = models.TextField(_("评价内容"), blank=True)
    channel = models.CharField(_("评价渠道"), max_length=10, choices=Channel.choices, db_index=True)
    is_default = models.BooleanField(_("默认好评"), default=False, db_index=True,
                                     help_text=_("办结后7日内未评价，系统默认满意；不计入主动评价"))

    # Copied from the case at creation: what figures group by and what the scope rule reads.
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey("regions.Window", verbose_name=_("窗口"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("被评价人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    item = models.ForeignKey("catalog.Item", verbose_name=_("事项"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")

    evaluated_at = models.DateTimeField(_("评价时间"), default=timezone.now, db_index=True)
    fingerprint = models.CharField(_("内容摘要"), max_length=64,
                                   help_text=_("评价内容的摘要：同一评价重复提交时据此识别并返回原结果"))
    idempotency_key = models.CharField(_("幂等键"), max_length=100, null=True, blank=True, unique=True)
    external_id = models.CharField(_("省级评价编号"), max_length=100, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    help_text=_("纸质、电话评价由工作人员代为录入"))
    device_key = models.ForeignKey("accounts.ApiKey", verbose_name=_("评价设备"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    # Keyed digests (HMAC) of the applicant's phone and of the text: what the rate limits and the
    # repeated-text check look up by index, without a join to cases or a scan of recent rows.
    phone_key = models.CharField(_("手机号摘要"), max_length=16, blank=True, default="", editable=False)
    text_key = models.CharField(_("内容摘要键"), max_length=16, blank=True, default="", editable=False)
    flag = models.CharField(_("异常标记"), max_length=15, choices=Flag.choices, blank=True, default="", db_index=True)
    flag_reviewed = models.BooleanField(_("异常已复核"), default=False)
    excluded = models.BooleanField(_("不计入统计"), default=False, db_index=True,
                                   help_text=_("差评申诉经上级复核成立：保留记录，不计入统计"))

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-evaluated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="uniq_evaluation_case_kind"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=5), name="evaluation_grade_range"),
        ]
        indexes = [
            models.Index(fields=["area", "evaluated_at"], name="evaluation_area_time_idx"),
            models.Index(fields=["site", "evaluated_at"], name="evaluation_site_time_idx"),
            models.Index(fields=["phone_key", "evaluated_at"], name="evaluation_phone_time_idx"),
            models.Index(fields=["text_key", "evaluated_at"], name="evaluation_text_time_idx"),
            models.Index(fields=["device_key", "evaluated_at"], name="evaluation_device_time_idx"),
        ]

    def __str__(self):
        return f"{self.case} {self.get_kind_display()} {self.get_grade_display()}"

    @property
    def is_bad(self) -> bool:
        return is_bad_grade(self.grade)

    @property
    def is_counted_bad(self) -> bool:
        """``COUNTED_BAD`` for one evaluation."""
        return self.is_bad and not self.is_default and not self.excluded

    def reason_labels(self) -> list[str]:
        labels = dict(ReasonOption.objects.filter(code__in=self.reasons or []).values_list("code", "label"))
        return [labels.get(code, code) for code in self.reasons or []]


class EvaluationLink(models.Model):
    """The evaluation link of a completed case (QR code, SMS). The URL carries a signed random
    nonce: unguessable, recognisably forged without a lookup, and re-creatable for the window
    screen and the completion slip. Expires; single use."""

    case = models.OneToOneField("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT, related_name="evaluation_link")
    nonce = models.CharField(_("随机码"), max_length=32, unique=True)
    # The short code printed on the slip for typing by hand (``/e/<code>``): eight characters
    # from an alphabet without look-alikes (links.SHORT_ALPHABET). Older links get one when
    # their slip is first printed.
    short_code = models.CharField(_("短链接码"), max_length=8, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    sms_invited = models.BooleanField(_("已发短信邀请"), default=False)

    class Meta:
        verbose_name = _("评价链接")
        verbose_name_plural = _("评价链接")

    def __str__(self):
        return f"{self.case} 评价链接"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ProvincialReport(models.Model):
    """One report to the provincial 好差评 system, kept beside its outbox message so the status
    page can show sent / pending / failed per area (the outbox itself knows no areas)."""

    class Event(models.TextChoices):
        EVALUATION = "evaluation", _("评价")
        DEFAULT = "default", _("默认好评")
        ADDITIONAL = "additional", _("追评")
        OUTCOME = "outcome", _("差评处理结果")

    evaluation = models.ForeignKey(Evaluation, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="reports")
    event = models.CharField(_("上报内容"), max_length=12, choices=Event.choices)
    message = models.OneToOneField("core.OutboxMessage", verbose_name=_("外发消息"), on_delete=models.PROTECT,
                                   related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("省级上报")
        verbose_name_plural = _("省级上报")
        ordering = ["-created_at", "-id"]
