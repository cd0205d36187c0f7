"""Cross-cutting records: the audit log, the working-day calendar and the outbox."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Stored actor labels that name no person (core.audit writes "system" when no principal acts).
_SYSTEM_LABELS = {"": "系统", "system": "系统", "anonymous": "群众", "cli": "命令行"}


class AuditEntry(models.Model):
    """One write or one unmasking of personal data. Append-only: never updated or deleted
    (enforced in save/delete and by the admin being read-only)."""

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        TRANSITION = "transition", _("状态变更")
        UNMASK = "unmask", _("查看完整个人信息")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出")
        KEY = "key", _("密钥操作")
        IMPORT = "import", _("导入")
        EXPORT = "export", _("导出")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True, help_text=_("用户名或系统密钥名称"))
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=100, blank=True, db_index=True)
    target_id = models.CharField(_("对象标识"), max_length=64, blank=True, db_index=True)
    target_label = models.CharField(_("对象"), max_length=200, blank=True)
    area_code = models.CharField(_("所属区划"), max_length=12, blank=True, db_index=True)
    changes = models.JSONField(_("内容"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志不能删除")

    @property
    def actor_shown(self) -> str:
        """Who acted, as a person reads it: the person's name, "系统" for the platform's own jobs,
        an API key by its name. A failed log-in keeps the name that was typed (no person)."""
        if self.actor_id is not None:
            return str(self.actor)
        label = self.actor_label
        if label in _SYSTEM_LABELS:
            return _SYSTEM_LABELS[label]
        if label.startswith("key:"):
            return f"接口密钥“{label[4:]}”"
        return label


class CalendarDay(models.Model):
    """A day whose status differs from the plain Monday–Friday rule: a statutory holiday on a
    weekday, or a weekend day made a working day by 调休. Days not listed follow the weekday rule."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休）")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=100, blank=True)
    edited = models.BooleanField(
        _("已人工维护"), default=False,
        help_text=_("管理员新增或修改过的日期，自动导入（seed_calendar）不会覆盖"),
    )

    class Meta:
        verbose_name = _("工作日历特殊日")
        verbose_name_plural = _("工作日历特殊日")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarYear(models.Model):
    """Whether a year's schedule is the official one (published by the State Council) or an
    estimate. Deadlines falling in an unconfirmed year are flagged."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    confirmed = models.BooleanField(_("已按国务院公布安排确认"), default=False)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    edited = models.BooleanField(
        _("已人工维护"), default=False,
        help_text=_("管理员维护的年度：自动导入（seed_calendar）不再改动该年度及其中的日期"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["year"]

    def __str__(self):
        return f"{self.year}（{'已确认' if self.confirmed else '未确认'}）"


class OutboxMessage(models.Model):
    """A message to an outside system (SMS gateway, 12345 platform, provincial 好差评 system,
    staff notifications). Written in the same transaction as the change that causes it, so it
    is never lost; delivered by the worker with retries and back-off; `dedupe_key` makes
    enqueueing idempotent so nothing is sent twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("通道"), max_length=30, db_index=True)
    recipient = models.CharField(_("接收方"), max_length=200, blank=True)
    payload = models.JSONField(_("内容"), default=dict)
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)
    ordering_key = models.CharField(_("顺序键"), max_length=100, blank=True, db_index=True,
                                    help_text=_("同一顺序键的消息按创建顺序逐条送达"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), db_index=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class RateCounter(models.Model):
    """One fixed-window rate-limit counter, used when the shared cache is the database.

    Django's DatabaseCache implements ``incr`` as a read followed by a write, so two servers
    counting at once can both read 4 and both write 5. This table is incremented with one
    ``UPDATE … SET count = count + 1`` instead, which both engines apply atomically. Rows
    outlive their window only until ``ratelimit.purge_expired()`` runs."""

    bucket = models.CharField(_("计数键"), max_length=250, unique=True)
    count = models.PositiveIntegerField(_("次数"), default=0)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)

    class Meta:
        verbose_name = _("限流计数")
        verbose_name_plural = _("限流计数")

    def __str__(self):
        return f"{self.bucket}={self.count}"


class ContentVersion(models.Model):
    """The version of one kind of public content ("catalog", "regions", …). Every write that
    changes what the public pages show bumps it in its own transaction (core/pagecache.py), and
    every cached public page carries it in its key: a change is seen by the very next request,
    on any app server, without purging anything."""

    namespace = models.CharField(_("内容类别"), max_length=40, primary_key=True)
    version = models.BigIntegerField(_("版本"), default=0)
    changed_at = models.DateTimeField(_("变更时间"))

    class Meta:
        verbose_name = _("公开内容版本")
        verbose_name_plural = _("公开内容版本")

    def __str__(self):
        return f"{self.namespace}@{self.version}"
