"""群众参与与提案办理: quarterly symposiums with deputies, members, enterprises and citizens;
trainings for enterprises; opinion-collection campaigns (民意诉求征集); CPPCC proposals and NPC
suggestions (提案、建议) with their official replies.

engagement comes after followups in the spine: its questionnaires are followups' questionnaires
and every problem it finds goes to followups' one rectification ledger (``Rectification`` with
source 座谈会意见 / 民意征集 / 提案办理). followups never imports this app; it tells it of a completed
rectification by a signal sent on commit. Nothing here is deleted: records move through states
and keep their history (``ProposalEvent``) and audit rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


# --- symposiums (座谈会) ------------------------------------------------------------------------

class Representative(models.Model):
    """Someone the committee invites: a people's congress deputy, a CPPCC member, an enterprise's or
    the citizens' representative. The phone is personal data (masked, unmasking audited); so is a
    citizen representative's name."""

    class Kind(models.TextChoices):
        NPC_DEPUTY = "npc", _("人大代表")
        CPPCC_MEMBER = "cppcc", _("政协委员")
        ENTERPRISE = "enterprise", _("企业代表")
        CITIZEN = "citizen", _("市民代表")

    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("姓名"), max_length=50)
    organisation = models.CharField(_("单位或企业"), max_length=100, blank=True)
    phone = models.CharField(_("手机号码"), max_length=11, blank=True)
    active = models.BooleanField(_("在册"), default=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("代表名录")
        verbose_name_plural = _("代表名录")
        ordering = ["kind", "name", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}"

    @property
    def name_is_personal(self) -> bool:
        """Deputies, members and enterprises' delegates act in a public capacity; a citizen does not."""
        return self.kind == self.Kind.CITIZEN


class Symposium(models.Model):
    """The quarterly 座谈会 of one committee or district (its area): one per quarter."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划中")
        INVITED = "invited", _("已发邀请")
        HELD = "held", _("已召开")
        CANCELLED = "cancelled", _("已取消")

    area = models.ForeignKey("regions.Area", verbose_name=_("主办区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("会场（服务场所）"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    title = models.CharField(_("名称"), max_length=200)
    planned_on = models.DateField(_("计划日期"))
    venue = models.CharField(_("地点"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True)
    held_on = models.DateField(_("召开日期"), null=True, blank=True)
    minutes = models.TextField(_("会议纪要"), blank=True)
    minutes_at = models.DateTimeField(_("纪要登记时间"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("座谈会")
        verbose_name_plural = _("座谈会")
        ordering = ["-year", "-quarter", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year", "quarter"], name="uniq_symposium_area_quarter"),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="symposium_quarter_1_4"),
        ]

    def __str__(self):
        return self.title


class SymposiumInvitation(models.Model):
    """One representative invited to one symposium; the SMS goes through the outbox."""

    class Reply(models.TextChoices):
        NONE = "", _("未回复")
        ACCEPTED = "accepted", _("确认参加")
        DECLINED = "declined", _("请假")

    symposium = models.ForeignKey(Symposium, verbose_name=_("座谈会"), on_delete=models.PROTECT, related_name="invitations")
    representative = models.ForeignKey(Representative, verbose_name=_("代表"), on_delete=models.PROTECT,
                                       related_name="invitations")
    invited_at = models.DateTimeField(_("邀请时间"), default=timezone.now)
    reply = models.CharField(_("回复"), max_length=10, choices=Reply.choices, blank=True, default="")
    attended = models.BooleanField(_("出席"), null=True, blank=True)

    class Meta:
        verbose_name = _("座谈会邀请")
        verbose_name_plural = _("座谈会邀请")
        ordering = ["symposium", "representative__kind", "id"]
        constraints = [models.UniqueConstraint(fields=["symposium", "representative"], name="uniq_symposium_invitee")]


class Opinion(models.Model):
    """An opinion raised at a symposium, tracked to an answer or a rectification (the shared
    ledger) by a deadline in working days, with feedback to whoever raised it."""

    class Status(models.TextChoices):
        OPEN = "open", _("待办理")
        ANSWERED = "answered", _("已答复")
        RECTIFYING = "rectifying", _("整改中")
        RECTIFIED = "rectified", _("已整改")

    symposium = models.ForeignKey(Symposium, verbose_name=_("座谈会"), on_delete=models.PROTECT, related_name="opinions")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(SymposiumInvitation, verbose_name=_("提出人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="opinions")
    content = models.TextField(_("意见建议"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    working_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    due_on = models.DateField(_("办理期限"), db_index=True)
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    rectification = models.OneToOneField("followups.Rectification", verbose_name=_("整改"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="symposium_opinion")
    feedback = models.TextField(_("反馈内容"), blank=True)
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("座谈会意见")
        verbose_name_plural = _("座谈会意见")
        ordering = ["symposium", "id"]

    def __str__(self):
        return self.content[:30]


# --- trainings (培训会) -------------------------------------------------------------------------

class Training(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("报名中")
        CLOSED = "closed", _("报名截止")
        HELD = "held", _("已举办")

    area = models.ForeignKey("regions.Area", verbose_name=_("主办区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("培训场所"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("培训名称"), max_length=200)
    topic = models.CharField(_("培训内容"), max_length=300, blank=True)
    starts_at = models.DateTimeField(_("培训时间"))
    venue = models.CharField(_("地点"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("名额（人）"), default=100)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    token = models.CharField(_("报名链接随机码"), max_length=40, unique=True)
    questionnaire = models.OneToOneField("followups.Questionnaire", verbose_name=_("反馈问卷"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="training")
    created_by = models.ForeignKey(USER, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("培训会")
        verbose_name_plural = _("培训会")
        ordering = ["-starts_at", "-id"]

    def __str__(self):
        return self.title


class TrainingRegistration(models.Model):
    """An enterprise registered for a training, by its 统一社会信用代码 (once per training)."""

    class Channel(models.TextChoices):
        LINK = "link", _("企业在线报名")
        STAFF = "staff", _("工作人员代报")

    training = models.ForeignKey(Training, verbose_name=_("培训会"), on_delete=models.PROTECT, related_name="registrations")
    enterprise_name = models.CharField(_("企业名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18)
    pilot_code = models.BooleanField(_("早期试点代码（校验位不符，经确认）"), default=False)
    pilot_confirmed_by = models.ForeignKey(USER, verbose_name=_("试点代码确认人"), null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=11)
    attendees = models.PositiveSmallIntegerField(_("参训人数"), default=1)
    channel = models.CharField(_("报名方式"), max_length=6, choices=Channel.choices, default=Channel.LINK)
    registered_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    attended = models.BooleanField(_("签到"), null=True, blank=True)

    class Meta:
        verbose_name = _("培训报名")
        verbose_name_plural = _("培训报名")
        ordering = ["training", "registered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["training", "credit_code"], name="uniq_training_enterprise")]


class TrainingMaterial(models.Model):
    """A handout, stored once by content through the shared upload checks (``cases.StoredFile``)."""

    training = models.ForeignKey(Training, verbose_name=_("培训会"), on_delete=models.PROTECT, related_name="materials")
    file = models.ForeignKey("cases.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    uploaded_by = models.CharField(_("上传人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("培训资料")
        verbose_name_plural = _("培训资料")
        ordering = ["training", "uploaded_at", "id"]


# --- opinion-collection campaigns (民意诉求征集) ------------------------------------------------

class Campaign(models.Model):
    """A campaign over some sites with one questionnaire (办事环境, 服务态度, 服务时效, 服务质量 by
    default), answered by QR link or entered by staff after a home visit or a call. It ends in a
    回访台账, a 问题清单 and a 整改计划 (its findings in the shared ledger)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("征集中")
        CLOSED = "closed", _("已结束")

    area = models.ForeignKey("regions.Area", verbose_name=_("组织区划"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("活动名称"), max_length=200)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    questionnaire = models.OneToOneField("followups.Questionnaire", verbose_name=_("问卷"), on_delete=models.PROTECT,
                                         related_name="campaign")
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.RUNNING, db_index=True)
    summary = models.TextField(_("活动总结"), blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("民意诉求征集")
        verbose_name_plural = _("民意诉求征集")
        ordering = ["-starts_on", "-id"]

    def __str__(self):
        return self.title


class CampaignSite(models.Model):
    """A site in a campaign, with its own QR link (answers count for that site)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("征集活动"), on_delete=models.PROTECT, related_name="sites")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    token = models.CharField(_("扫码链接随机码"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("征集场所")
        verbose_name_plural = _("征集场所")
        ordering = ["campaign", "site__code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "site"], name="uniq_campaign_site")]


class CampaignEntry(models.Model):
    """One answer sheet of a campaign at one site: scanned by a citizen, or entered by staff after
    a home visit or a call (then also a 回访 in followups' one 回访台账)."""

    class Channel(models.TextChoices):
        QR = "qr", _("扫码填写")
        VISIT = "visit", _("上门回访")
        CALL = "call", _("电话回访")

    campaign = models.ForeignKey(Campaign, verbose_name=_("征集活动"), on_delete=models.PROTECT, related_name="entries")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("方式"), max_length=6, choices=Channel.choices)
    response = models.OneToOneField("followups.SurveyResponse", verbose_name=_("答卷"), on_delete=models.PROTECT,
                                    related_name="campaign_entry")
    followup = models.OneToOneField("followups.FollowUp", verbose_name=_("回访记录"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="campaign_entry")
    contact_name = models.CharField(_("回访对象"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=11, blank=True)
    problem = models.TextField(_("反映问题"), blank=True)
    entered_by = models.ForeignKey(USER, verbose_name=_("录入人"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("征集答卷")
        verbose_name_plural = _("征集答卷")
        ordering = ["campaign", "-created_at", "-id"]


class CampaignFinding(models.Model):
    """A problem found by a campaign (from an answer or from a site's results), raised to the
    shared rectification ledger: together they are the campaign's 问题清单 and 整改计划."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("征集活动"), on_delete=models.PROTECT, related_name="findings")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("regions.Area", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(CampaignEntry, verbose_name=_("来源答卷"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="finding")
    problem = models.TextField(_("存在问题"))
    rectification = models.OneToOneField("followups.Rectification", verbose_name=_("整改"), on_delete=models.PROTECT,
                                         related_name="campaign_finding")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("征集发现问题")
        verbose_name_plural = _("征集发现问题")
        ordering = ["campaign", "id"]


# --- proposals (提案、建议) ---------------------------------------------------------------------

class ProposalClass(models.Model):
    """A reply's result class (办理结果分类) as data, so a locality sets its own: by default A 已解决
    或采纳, B 正在解决或列入计划, C 留作参考 (a four-class variant adds 因条件限制需以后解决)."""

    code = models.CharField(_("类别代码"), max_length=2, unique=True)
    label = models.CharField(_("含义"), max_length=100)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("办理结果分类")
        verbose_name_plural = _("办理结果分类")
        ordering = ["position", "code"]

    def __str__(self):
        return f"{self.code}类（{self.label}）"


class Proposal(models.Model):
    """A CPPCC proposal (提案) or an NPC suggestion (建议) as received. ``area`` is the receiving
    office's area; each handling unit's part is an ``Assignment`` in its own area."""

    class Kind(models.TextChoices):
        PROPOSAL = "proposal", _("政协提案")
        SUGGESTION = "suggestion", _("人大代表建议")

    class ProposerKind(models.TextChoices):
        MEMBER = "member", _("委员（代表）")
        UNIT = "unit", _("单位或党派团体")

    class Status(models.TextChoices):
        RECEIVED = "received", _("待交办")
        HANDLING = "handling", _("办理中")
        REPLIED = "replied", _("已答复待评价")
        REHANDLING = "rehandling", _("重新办理")
        CLOSED = "closed", _("已办结")

    area = models.ForeignKey("regions.Area", verbose_name=_("受理区划"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    session = models.CharField(_("届次"), max_length=100, help_text=_("如：市政协十三届五次会议"))
    number = models.CharField(_("编号"), max_length=20)
    letter_number = models.CharField(_("来文编号"), max_length=20, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    proposer_kind = models.CharField(_("提出者类别"), max_length=6, choices=ProposerKind.choices,
                                     default=ProposerKind.MEMBER)
    proposer = models.CharField(_("委员（代表）姓名或单位名称"), max_length=100)
    content = models.TextField(_("内容摘要"), blank=True)
    received_on = models.DateField(_("收到日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("提案建议")
        verbose_name_plural = _("提案建议")
        ordering = ["-received_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "session", "number"], name="uniq_proposal_number")]

    def __str__(self):
        return f"{self.number}号 {self.title}"

    @property
    def addressee_suffix(self) -> str:
        return "委员" if self.kind == self.Kind.PROPOSAL else "代表"


class Assignment(models.Model):
    """A handling unit's part in a proposal: 主办 leads and replies (会办 send their view to it within
    a month and countersign its reply, never replying themselves); under 分办 each unit replies on
    its own. A wrongly assigned unit returns it within 10 days."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        JOINT = "joint", _("会办")
        SEPARATE = "separate", _("分办")

    class Status(models.TextChoices):
        HANDLING = "handling", _("办理中")
        OPINION_SENT = "opinion_sent", _("已提出会办意见")
        REPLIED = "replied", _("已答复")
        RETURNED = "returned", _("已退回")

    proposal = models.ForeignKey(Proposal, verbose_name=_("提案建议"), on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("办理方式"), max_length=8, choices=Role.choices)
    area = models.ForeignKey("regions.Area", verbose_name=_("承办区划"), on_delete=models.PROTECT, related_name="+")
    unit_name = models.CharField(_("承办单位"), max_length=100)
    contact_phone = models.CharField(_("联系人手机（催办提醒）"), max_length=11, blank=True)
    assigned_on = models.DateField(_("交办日期"))
    due_on = models.DateField(_("办理期限"), db_index=True)
    extension_reason = models.TextField(_("延期理由"), blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.HANDLING, db_index=True)
    opinion = models.TextField(_("会办意见"), blank=True)
    opinion_at = models.DateTimeField(_("会办意见时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["proposal", "role", "id"]

    def __str__(self):
        return f"{self.get_role_display()} {self.unit_name}"

    @property
    def replies_directly(self) -> bool:
        return self.role in (self.Role.LEAD, self.Role.SEPARATE)


class Reply(models.Model):
    """The reply of a 主办 or 分办 unit as an official document (GB/T 9704-2012): drafted, countersigned
    by the 会办 units, signed off by the 签发人; once signed it no longer changes. Re-handling after
    the member's 不满意 is a new round."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("拟稿")
        SIGNED = "signed", _("已签发")

    class Disclosure(models.TextChoices):
        ON_REQUEST = "on_request", _("此件依申请公开")
        PUBLIC = "public", _("此件公开发布")
        NOT_PUBLIC = "not_public", _("此件不予公开")

    class Quality(models.TextChoices):
        EXCELLENT = "excellent", _("优")
        GOOD = "good", _("良")
        FAIR = "fair", _("一般")

    assignment = models.ForeignKey(Assignment, verbose_name=_("交办"), on_delete=models.PROTECT, related_name="replies")
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.DRAFT, db_index=True)
    result_class = models.ForeignKey(ProposalClass, verbose_name=_("办理结果"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    org_mark = models.CharField(_("发文机关标志"), max_length=60)
    doc_number = models.CharField(_("发文字号"), max_length=40, blank=True)
    signer_name = models.CharField(_("签发人"), max_length=30, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    addressee = models.CharField(_("主送"), max_length=100)
    body = models.TextField(_("正文"), blank=True, help_text=_("段落之间空一行；“一、”“（一）”开头的段落为标题"))
    leader_name = models.CharField(_("领导署名"), max_length=30, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    issuer = models.CharField(_("落款（发文机关署名）"), max_length=60)
    written_on = models.DateField(_("成文日期"), null=True, blank=True)
    disclosure = models.CharField(_("附注"), max_length=12, choices=Disclosure.choices, default=Disclosure.ON_REQUEST)
    printer = models.CharField(_("印发机关"), max_length=60)
    printed_on = models.DateField(_("印发日期"), null=True, blank=True)
    table_title = models.CharField(_("附表名称"), max_length=60, default="提案建议采纳情况及实施安排表")
    quality_rating = models.CharField(_("承办单位对提案质量的评价"), max_length=10, choices=Quality.choices, blank=True)
    drafted_by = models.ForeignKey(USER, verbose_name=_("拟稿人"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    drafted_at = models.DateTimeField(_("拟稿时间"), default=timezone.now)
    signed_by = models.ForeignKey(USER, verbose_name=_("签发账号"), null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = models.DateTimeField(_("签发时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("答复")
        verbose_name_plural = _("答复")
        ordering = ["assignment", "round"]
        constraints = [models.UniqueConstraint(fields=["assignment", "round"], name="uniq_reply_round")]

    def __str__(self):
        return self.title

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class Suggestion(models.Model):
    """One suggestion of the proposal and whether the reply adopts it (采纳/部分采纳/不采纳, with the
    reason when not fully adopted)."""

    class Adoption(models.TextChoices):
        ADOPTED = "adopted", _("采纳")
        PARTIAL = "partial", _("部分采纳")
        REJECTED = "rejected", _("不采纳")

    reply = models.ForeignKey(Reply, verbose_name=_("答复"), on_delete=models.PROTECT, related_name="suggestions")
    position = models.PositiveSmallIntegerField(_("序号"))
    content = models.CharField(_("建议内容"), max_length=500)
    adoption = models.CharField(_("采纳情况"), max_length=8, choices=Adoption.choices)
    reason = models.TextField(_("未采纳或部分采纳的原因"), blank=True)

    class Meta:
        verbose_name = _("建议采纳情况")
        verbose_name_plural = _("建议采纳情况")
        ordering = ["reply", "position"]
        constraints = [models.UniqueConstraint(fields=["reply", "position"], name="uniq_suggestion_position")]


class PlanItem(models.Model):
    """One item of the implementation plan (实施计划及进度安排), tracked as a task: a deadline (a date
    for the reminders, and the wording of the table, e.g. “持续推进”) and its progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("未开始")
        IN_PROGRESS = "in_progress", _("推进中")
        DONE = "done", _("已完成")

    reply = models.ForeignKey(Reply, verbose_name=_("答复"), on_delete=models.PROTECT, related_name="plan_items")
    suggestion = models.ForeignKey(Suggestion, verbose_name=_("对应建议"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="plan_items")
    position = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("措施"), max_length=100)
    content = models.TextField(_("内容"), blank=True)
    deadline_text = models.CharField(_("完成时限"), max_length=200, blank=True)
    due_on = models.DateField(_("完成日期"), null=True, blank=True, db_index=True)
    owner_name = models.CharField(_("责任人"), max_length=50, blank=True)
    status = models.CharField(_("进度"), max_length=12, choices=Status.choices, default=Status.PENDING)
    progress_note = models.TextField(_("最新进展"), blank=True)
    done_on = models.DateField(_("完成于"), null=True, blank=True)

    class Meta:
        verbose_name = _("实施计划")
        verbose_name_plural = _("实施计划")
        ordering = ["reply", "position"]
        constraints = [models.UniqueConstraint(fields=["reply", "position"], name="uniq_plan_item_position")]


class Countersign(models.Model):
    """会签: a 会办 unit's signature on the 主办's reply (agreed, or not with its reason)."""

    reply = models.ForeignKey(Reply, verbose_name=_("答复"), on_delete=models.PROTECT, related_name="countersigns")
    assignment = models.ForeignKey(Assignment, verbose_name=_("会办单位"), on_delete=models.PROTECT, related_name="+")
    agreed = models.BooleanField(_("同意"))
    note = models.TextField(_("意见"), blank=True)
    signed_by = models.ForeignKey(USER, verbose_name=_("会签人"), null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = models.DateTimeField(_("会签时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会签")
        verbose_name_plural = _("会签")
        ordering = ["reply", "id"]
        constraints = [models.UniqueConstraint(fields=["reply", "assignment"], name="uniq_countersign")]


class MemberRating(models.Model):
    """The member's (deputy's) rating of a reply: 办理态度 and 办理结果, each 满意/基本满意/不满意."""

    class Grade(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    reply = models.OneToOneField(Reply, verbose_name=_("答复"), on_delete=models.PROTECT, related_name="rating")
    attitude = models.CharField(_("办理态度"), max_length=12, choices=Grade.choices)
    result = models.CharField(_("办理结果"), max_length=12, choices=Grade.choices)
    note = models.TextField(_("意见"), blank=True)
    rated_on = models.DateField(_("评价日期"))
    recorded_by = models.ForeignKey(USER, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("委员评价")
        verbose_name_plural = _("委员评价")


class ProposalEvent(models.Model):
    """The proposal's history: one row per change, typed (as a case's timeline)."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("登记")
        ASSIGNED = "assigned", _("交办")
        RETURNED = "returned", _("退回")
        EXTENDED = "extended", _("延期")
        OPINION = "opinion", _("会办意见")
        DRAFTED = "drafted", _("拟稿")
        EDITED = "edited", _("修改答复")
        COUNTERSIGNED = "countersigned", _("会签")
        SIGNED = "signed", _("签发")
        PROGRESS = "progress", _("实施进展")
        RATED = "rated", _("委员评价")
        REHANDLING = "rehandling", _("重新办理")
        REMINDED = "reminded", _("催办提醒")
        CLOSED = "closed", _("办结")

    proposal = models.ForeignKey(Proposal, verbose_name=_("提案建议"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    text = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("提案办理进程")
        verbose_name_plural = _("提案办理进程")
        ordering = ["at", "id"]
