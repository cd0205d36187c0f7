import hashlib
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import CAPABILITIES, Role


class User(AbstractUser):
    """A staff member. Citizens do not log in: they use links, numbers and public pages."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)
    failed_logins = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(
        _("须修改密码"), default=False, help_text=_("管理员设置的初始密码或重置后的密码，下次登录须先修改"),
    )
    is_demo = models.BooleanField(_("演示账号"), default=False, help_text=_("演示数据创建的账号，对外开放前必须删除"))
    # Two names a reader takes for the same account share this key (accounts/usernames.py):
    # unique, so "gudong_clеrk" (Cyrillic е) cannot stand beside "gudong_clerk".
    username_key = models.CharField(_("用户名比对键"), max_length=150, unique=True, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.display_name or self.username

    def clean(self):
        from django.core.exceptions import ValidationError

        from .usernames import username_key

        super().clean()
        key = username_key(self.username)
        if User.objects.exclude(pk=self.pk).filter(username_key=key).exists():
            raise ValidationError({"username": "该用户名与已有用户名仅大小写或形近字母不同，请换一个"})

    def save(self, *args, **kwargs):
        from .usernames import username_key

        self.username_key = username_key(self.username)
        fields = kwargs.get("update_fields")
        if fields is not None and "username" in fields:
            kwargs["update_fields"] = {*fields, "username_key"}
        super().save(*args, **kwargs)
        replaced = self.__dict__.pop("_replaced_password", None)
        if replaced:
            PasswordHistory.remember(self, replaced)

    def set_password(self, raw_password):
        # The password being replaced joins the history (saved with the user: save()).
        if self.pk and self.password and self.has_usable_password():
            self._replaced_password = self.password
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    def password_expired(self) -> bool:
        """等保: periodic password change. Passwords set through set_password() carry their date;
        a row without one (created without a password) is judged by must_change_password only."""
        from django.conf import settings

        if self.must_change_password:
            return True
        if self.password_changed_at is None:
            return False
        max_age = timedelta(days=settings.BIANMIN_PASSWORD_MAX_AGE_DAYS)
        return timezone.now() - self.password_changed_at > max_age

    def capabilities_at(self, area) -> set[str]:
        """Capabilities this user holds over `area` (through assignments at it or above it)."""
        caps: set[str] = set()
        for assignment in self.active_assignments():
            if area.path.startswith(assignment.area.path):
                caps |= CAPABILITIES.get(assignment.role, frozenset())
        return caps

    def active_assignments(self):
        # Cached per request-bound instance: the scope rule asks for this on every query.
        cached = getattr(self, "_assignments_cache", None)
        if cached is None:
            cached = list(self.role_assignments.select_related("area").filter(active=True))
            self._assignments_cache = cached
        return cached


class PasswordHistory(models.Model):
    """The hashes of a user's previous passwords (等保: a new password may not repeat the last
    ones). Only hashes, as the user's own password is kept."""

    KEEP = 5

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("密码摘要"), max_length=128)
    replaced_at = models.DateTimeField(_("更换时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        ordering = ["-replaced_at", "-id"]

    @classmethod
    def remember(cls, user: User, password_hash: str) -> None:
        cls.objects.create(user=user, password=password_hash)
        stale = cls.objects.filter(user=user).values_list("pk", flat=True)[cls.KEEP:]
        cls.objects.filter(pk__in=list(stale)).delete()


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    area = models.ForeignKey("regions.Area", verbose_name=_("所辖区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "regions.ServiceSite", verbose_name=_("所在场所"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("窗口人员、中心负责人所在的服务场所（可选）"),
    )
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [models.UniqueConstraint(fields=["user", "role", "area"], name="uniq_role_assignment")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.area}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.site_id and self.area_id and not self.site.area.is_within(self.area):
            raise ValidationError({"site": "所在场所不在所辖区划范围内"})


class ApiKey(models.Model):
    """A key for an outside system or a device. Only a SHA-256 digest is stored: the key is
    shown once at creation. Keys are long random strings, so a fast hash is safe here."""

    class Kind(models.TextChoices):
        SYSTEM = "system", _("外部系统")
        DEVICE = "device", _("评价器/终端设备")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.SYSTEM)
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True, help_text=_("用于识别密钥，不是密钥本身"))
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    area = models.ForeignKey("regions.Area", verbose_name=_("授权区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("regions.ServiceSite", verbose_name=_("授权场所"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey("regions.Window", verbose_name=_("绑定窗口"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    scopes = models.JSONField(_("权限范围"), default=list, blank=True, help_text=_("例如 cases.intake、evaluations.device"))
    system = models.CharField(
        _("外部系统标识"), max_length=50, blank=True, validators=[RegexValidator(r"^[a-z0-9_.-]*$", _("只能包含小写字母、数字和 _ . -"))],
        help_text=_("对接的外部系统，如 fj_online_hall；该系统推送的外部编号在其授权区划内唯一。轮换密钥时保持不变"),
    )
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("最近使用地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"

    @staticmethod
    def digest_of(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def source_system(self) -> str:
        """The outside system this key speaks for: its external ids belong to it (and to the
        key's area), whatever a request claims."""
        return self.system or "api"

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.site_id and self.area_id and not self.site.area.is_within(self.area):
            errors["site"] = "授权场所不在授权区划范围内"
        if self.window_id:
            if not self.site_id:
                errors["window"] = "绑定窗口时须同时指定所在场所"
            elif self.window.site_id != self.site_id:
                errors["window"] = "绑定窗口不属于授权场所"
        if errors:
            raise ValidationError(errors)
