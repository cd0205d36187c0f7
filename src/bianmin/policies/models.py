"""The enterprise-policy library (惠企政策).

A policy is kept as versions: each `Policy` row is one version of the policy named by `code`,
complete with its relations (items, departments, areas, attachments). Editors work on a draft row;
a reviewer publishes it; the row published before it is then superseded. So what the public
reads (the published or expired row) never changes while a revision is being written, and every
earlier version stays readable as it was published.

Public readers and outside systems see rows in the states PUBLISHED and EXPIRED (one per code,
enforced by a constraint). Every change they can see (a publication, an expiry, a withdrawal) is
one `PolicyChange` with a sequence number given in commit order: the cursor of the changes feed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bianmin.catalog.models import Department, StandardItem
from bianmin.regions.models import Area

from . import industries


class Category(models.TextChoices):
    FUNDING = "funding", _("资金奖补")
    TAX = "tax", _("税费减免")
    FINANCE = "finance", _("金融支持")
    TALENT = "talent", _("人才支持")
    INNOVATION = "innovation", _("科技创新")
    EMPLOYMENT = "employment", _("稳岗就业")
    MARKET = "market", _("市场开拓")
    CULTIVATION = "cultivation", _("企业培育")
    FACTORS = "factors", _("要素保障")
    OTHER = "other", _("其他")


class Size(models.TextChoices):
    """Enterprise size as classified by 统计上大中小微型企业划分办法."""

    LARGE = "large", _("大型")
    MEDIUM = "medium", _("中型")
    SMALL = "small", _("小型")
    MICRO = "micro", _("微型")


class State(models.TextChoices):
    DRAFT = "draft", _("草稿")
    REVIEW = "review", _("待审核")
    PUBLISHED = "published", _("已发布")
    EXPIRED = "expired", _("已过期")
    WITHDRAWN = "withdrawn", _("已撤回")
    SUPERSEDED = "superseded", _("已被新版本替代")


PUBLIC_STATES = (State.PUBLISHED, State.EXPIRED)
OPEN_STATES = (State.DRAFT, State.REVIEW)


class Policy(models.Model):
    """One version of an enterprise policy guide (惠企政策申报指南)."""

    code = models.CharField(_("政策编号"), max_length=40, db_index=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.DRAFT, db_index=True)
    previous = models.ForeignKey("self", verbose_name=_("修订自"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="revisions")

    title = models.CharField(_("政策名称"), max_length=200, db_index=True)  # exact-title hits in search
    aliases = models.TextField(_("俗称"), blank=True, help_text=_("企业常用叫法，每行一个或以“、”分隔，如 稳岗返还、技改补助"))
    category = models.CharField(_("政策类别"), max_length=20, choices=Category.choices)
    lead_department = models.ForeignKey(Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT,
                                        related_name="led_policies")
    co_departments = models.ManyToManyField(Department, verbose_name=_("协办部门"), blank=True,
                                            related_name="co_policies")
    # The lead department's area: the scope rule reads it (who may edit), and a policy applies
    # within it unless `areas` narrows it.
    area = models.ForeignKey(Area, verbose_name=_("发布区划"), on_delete=models.PROTECT, related_name="policies")
    handling_office = models.CharField(_("承办科室"), max_length=100)
    handling_phone = models.CharField(_("承办科室电话"), max_length=60)
    valid_from = models.DateField(_("执行期限起"))
    valid_until = models.DateField(_("执行期限止"), null=True, blank=True, help_text=_("留空为长期有效"))
    benefits = models.TextField(_("优惠内容"))
    conditions = models.TextField(_("申请条件"))
    materials = models.TextField(_("申报材料"))
    procedure = models.TextField(_("办理流程"))
    document_number = models.CharField(_("发文字号"), max_length=100, blank=True)
    issuing_body = models.CharField(_("发文机关"), max_length=200, blank=True)
    source_url = models.URLField(_("原文链接"), max_length=500, blank=True)
    industries = models.JSONField(_("适用行业"), default=list, blank=True,
                                  help_text=_("GB/T 4754-2017 门类（如 C）或大类（如 13）代码；空为不限行业"))
    sizes = models.JSONField(_("适用企业规模"), default=list, blank=True, help_text=_("large/medium/small/micro；空为不限"))
    areas = models.ManyToManyField(Area, verbose_name=_("适用区域"), blank=True, related_name="+",
                                   help_text=_("空为发布区划全域"))
    tags = models.JSONField(_("标签"), default=list, blank=True)
    required_tags = models.JSONField(_("资质要求"), default=list, blank=True,
                                     help_text=_("企业须具备其中之一，如 高新技术企业、专精特新中小企业；空为不限"))
    min_age_years = models.PositiveSmallIntegerField(_("成立至少（年）"), null=True, blank=True)
    max_age_years = models.PositiveSmallIntegerField(_("成立不超过（年）"), null=True, blank=True)
    no_application = models.BooleanField(_("免申即享"), default=False,
                                         help_text=_("符合条件的企业无需申请，由部门主动兑现"))
    items = models.ManyToManyField(StandardItem, verbose_name=_("申办事项"), blank=True, related_name="policies",
                                   help_text=_("申请本政策时要办理的事项"))

    # workflow
    created_by = models.CharField(_("创建人"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_by = models.CharField(_("提交人"), max_length=150, blank=True)
    submitted_by_user_id = models.BigIntegerField(_("提交人编号"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_by = models.CharField(_("审核人"), max_length=150, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(_("过期/撤回时间"), null=True, blank=True)
    withdraw_reason = models.CharField(_("撤回原因"), max_length=500, blank=True)

    # public reads
    feed_seq = models.BigIntegerField(_("变更序号"), default=0, editable=False)
    public_body = models.TextField(_("公开内容（JSON）"), blank=True, editable=False)
    search_text = models.TextField(_("检索全文（分词）"), blank=True, editable=False)
    expiry_notice_for = models.DateField(_("已提醒到期日"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("惠企政策")
        verbose_name_plural = _("惠企政策")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="uniq_policy_version"),
            models.UniqueConstraint(fields=["code"], condition=Q(state__in=["published", "expired"]),
                                    name="uniq_policy_live_version"),
            models.UniqueConstraint(fields=["code"], condition=Q(state__in=["draft", "review"]),
                                    name="uniq_policy_open_version"),
        ]
        indexes = [models.Index(fields=["state", "valid_until"], name="policy_state_until")]

    def __str__(self):
        return f"{self.title}（{self.code} 第{self.version}版）"

    @property
    def alias_list(self) -> list[str]:
        from bianmin.catalog.models import split_aliases

        return split_aliases(self.aliases)

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    def in_force_on(self, day) -> bool:
        return (self.state == State.PUBLISHED and self.valid_from <= day
                and (self.valid_until is None or day <= self.valid_until))

    @property
    def size_labels(self) -> list[str]:
        return [str(Size(s).label) for s in self.sizes if s in Size.values]

    @property
    def industry_labels(self) -> list[str]:
        return [industries.label(c) for c in self.industries]

    def clean(self):
        errors: dict[str, str] = {}
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            errors["valid_until"] = "执行期限止不能早于执行期限起"
        bad = [c for c in self.industries or [] if industries.get(str(c)) is None]
        if not isinstance(self.industries, list) or bad:
            errors["industries"] = f"行业代码无效：{'、'.join(map(str, bad))}（应为 GB/T 4754-2017 的门类字母或两位大类代码）"
        if not isinstance(self.sizes, list) or any(s not in Size.values for s in self.sizes):
            errors["sizes"] = "企业规模应为 大型、中型、小型、微型 中的一个或多个"
        for name in ("tags", "required_tags"):
            value = getattr(self, name)
            if not isinstance(value, list) or any(not isinstance(t, str) or not t.strip() or len(t) > 30 for t in value):
                errors[name] = "标签应为不超过30字的词语列表"
        if self.min_age_years is not None and self.max_age_years is not None and self.min_age_years > self.max_age_years:
            errors["max_age_years"] = "成立年限的上限不能小于下限"
        if errors:
            raise ValidationError(errors)


class PolicyAttachment(models.Model):
    """A form to fill in (申报表格) or another file published with a version."""

    policy = models.ForeignKey(Policy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="attachments")
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("文件名"), max_length=200)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("申报表格")
        verbose_name_plural = _("申报表格")
        ordering = ["policy", "position", "id"]

    def __str__(self):
        return self.name


class PolicyFacet(models.Model):
    """One filter value of a public version (category, department, size, industry, area, tag…),
    as the token the search index also holds: browsing without a query filters on this table,
    searching filters in the index, and both read the tokens made by one function
    (`indexing.facet_tokens`)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="facets")
    token = models.CharField(max_length=80)

    class Meta:
        verbose_name = _("筛选值")
        verbose_name_plural = _("筛选值")
        indexes = [models.Index(fields=["token", "policy"], name="policy_facet_token")]
        constraints = [models.UniqueConstraint(fields=["policy", "token"], name="uniq_policy_facet")]


class PolicyChange(models.Model):
    """A change outside systems must apply to their copy: `seq` is the feed's cursor."""

    class Action(models.TextChoices):
        UPSERT = "upsert", _("新增或更新")
        DELETE = "delete", _("删除")

    class Reason(models.TextChoices):
        PUBLISHED = "published", _("发布")
        REVISED = "revised", _("修订发布")
        EXPIRED = "expired", _("到期")
        WITHDRAWN = "withdrawn", _("撤回")

    seq = models.BigIntegerField(_("序号"), unique=True)
    code = models.CharField(_("政策编号"), max_length=40, db_index=True)
    policy = models.ForeignKey(Policy, verbose_name=_("版本"), on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(_("动作"), max_length=10, choices=Action.choices)
    reason = models.CharField(_("原因"), max_length=12, choices=Reason.choices)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政策变更")
        verbose_name_plural = _("政策变更")
        ordering = ["seq"]


class FeedCounter(models.Model):
    """The last sequence number given to a PolicyChange. Writers lock this one row, so numbers are
    given in commit order: a reader that saw number N can never later find a change below N
    (with a database sequence, a slower transaction could commit a smaller number afterwards)."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("变更序号计数")
        verbose_name_plural = _("变更序号计数")


# --- enterprises ------------------------------------------------------------------------------


class EnterpriseProfile(models.Model):
    """What matching needs to know of an enterprise. Saved by the enterprise itself when it
    subscribes (no account: its subscription link is its key), or by staff for an enterprise they
    serve; `area` is the district it is registered in (the scope of staff reads)."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18)
    pilot_code = models.BooleanField(_("早期试点代码（校验位不符，经确认）"), default=False)
    name = models.CharField(_("企业名称"), max_length=200)
    industry = models.CharField(_("所属行业（大类）"), max_length=2, blank=True)
    size = models.CharField(_("企业规模"), max_length=10, choices=Size.choices, blank=True)
    area = models.ForeignKey(Area, verbose_name=_("注册地"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    tags = models.JSONField(_("资质与标签"), default=list, blank=True)
    saved_by = models.CharField(_("保存人"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业画像")
        verbose_name_plural = _("企业画像")
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.industry and (industries.get(self.industry) is None or industries.get(self.industry).is_section):
            errors["industry"] = "所属行业应为 GB/T 4754-2017 的两位大类代码"
        if not isinstance(self.tags, list) or any(not isinstance(t, str) or not t.strip() or len(t) > 30 for t in self.tags):
            errors["tags"] = "标签应为不超过30字的词语列表"
        if errors:
            raise ValidationError(errors)


class Subscription(models.Model):
    """An enterprise asks to be told of new policies matching its profile. Pending until the
    contact confirms through the link sent to it, so that nobody can subscribe a stranger's phone."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("电子邮件")

    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        ACTIVE = "active", _("已订阅")
        CANCELLED = "cancelled", _("已退订")

    profile = models.ForeignKey(EnterpriseProfile, verbose_name=_("企业画像"), on_delete=models.CASCADE,
                                related_name="subscriptions")
    channel = models.CharField(_("通知方式"), max_length=10, choices=Channel.choices)
    contact = models.CharField(_("手机号码或邮箱"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("退订时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("政策订阅")
        verbose_name_plural = _("政策订阅")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.profile.name}（{self.get_channel_display()}）"


class SubscriptionNotice(models.Model):
    """A policy a subscriber was told of: one row per subscription and policy code, so nobody is
    told of the same policy twice (a revision, a rerun of the job, two workers at once)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="notices")
    code = models.CharField(_("政策编号"), max_length=40)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("通知时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("订阅通知")
        verbose_name_plural = _("订阅通知")
        constraints = [models.UniqueConstraint(fields=["subscription", "code"], name="uniq_subscription_notice")]
