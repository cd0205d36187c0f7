from django import forms
from django.contrib.auth.forms import AuthenticationForm

from bianmin.core.capabilities import Cap
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal
from bianmin.core.validators import validate_day

from . import selectors
from .principals import KEY_SCOPE_CAPABILITIES, KEY_SCOPE_LABELS
from .roles import Role
from .selectors import AuditFilters, KeyFilters, UserFilters
from .services import LOGIN_FAILED_MESSAGE


class LoginForm(AuthenticationForm):
    """The staff log-in. Lockout is done by the auth backend; this form gives one message for
    every failure, so that a locked account and an unknown username look alike."""

    error_messages = {
        "invalid_login": LOGIN_FAILED_MESSAGE,
        "inactive": LOGIN_FAILED_MESSAGE,
    }


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="原密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label="新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label="确认新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", "两次输入的新密码不一致")
        return data


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label="操作人", required=False, max_length=150)
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部")] + list(AuditEntry.Action.choices))
    target_type = forms.CharField(label="对象类型", required=False, max_length=100,
                                  widget=forms.TextInput(attrs={"placeholder": "例如 accounts.user"}))
    target_id = forms.CharField(label="对象标识", required=False, max_length=64)
    area_code = forms.CharField(label="区划代码", required=False, max_length=12,
                                widget=forms.TextInput(attrs={"placeholder": "6、9 或 12 位，含下级"}))
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                validators=[validate_day])
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              validators=[validate_day])

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "截止日期不能早于起始日期")
        return data

    def filters(self) -> AuditFilters:
        d = self.cleaned_data
        return AuditFilters(
            actor=d.get("actor") or "", action=d.get("action") or "", target_type=d.get("target_type") or "",
            target_id=d.get("target_id") or "", area_code=d.get("area_code") or "",
            date_from=d.get("date_from"), date_to=d.get("date_to"),
        )


# --- 账号管理 and 接口密钥管理 (forms take the acting principal: their choices are in its scope) ---------


def _indent(area) -> str:
    depth = {"city": 0, "district": 1, "township": 2, "village": 3}.get(area.level, 0)
    return f"{'　' * depth}{area.name}（{area.code}）"


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _indent(obj)


class SiteField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.area.name}）"


class WindowField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.site.name} · {obj.number}号窗口 {obj.name}"


def _area_field(principal: Principal, capability: str, *, required: bool, label: str = "区划") -> AreaField:
    return AreaField(
        label=label, required=required, to_field_name="code", empty_label="全部" if not required else "请选择",
        queryset=selectors.area_choices(principal=principal, capability=capability),
        error_messages={"required": "请选择区划", "invalid_choice": "请选择您辖区内的区划"},
    )


class UserSearchForm(forms.Form):
    q = forms.CharField(label="用户名或姓名", required=False, max_length=50)
    role = forms.ChoiceField(label="角色", required=False, choices=[("", "全部")] + list(Role.choices))
    status = forms.ChoiceField(label="状态", required=False, choices=selectors.USER_STATUS_CHOICES)

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"] = _area_field(principal, Cap.USERS_MANAGE, required=False)
        self.order_fields(["q", "area", "role", "status"])

    def filters(self) -> UserFilters:
        d = self.cleaned_data
        return UserFilters(q=d.get("q") or "", area=d.get("area"), role=d.get("role") or "", status=d.get("status") or "")


class RoleAssignForm(forms.Form):
    """A role at an area (and optionally the site where the person works). Every role is a valid
    value, so that a role the caller may not grant reaches the service and its refusal; the
    select offers only the grantable ones."""

    role = forms.ChoiceField(label="角色", choices=Role.choices, error_messages={
        "required": "请选择角色", "invalid_choice": "角色不存在"})

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.choices = [("", "请选择")] + selectors.grantable_roles(principal=principal)
        self.fields["area"] = _area_field(principal, Cap.USERS_MANAGE, required=True, label="所辖区划")
        self.fields["site"] = SiteField(
            label="所在场所（可选）", required=False, empty_label="（不指定）",
            queryset=selectors.sites_for(principal=principal, capability=Cap.USERS_MANAGE),
            error_messages={"invalid_choice": "请选择您辖区内的服务场所"},
        )


class UserCreateForm(RoleAssignForm):
    username = forms.CharField(label="用户名", max_length=150, error_messages={"required": "请填写用户名"})
    display_name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名"})
    mobile = forms.CharField(label="手机号码（可选）", required=False, max_length=20)
    password = forms.CharField(
        label="初始密码（可选）", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="留空则由系统生成临时密码并只显示一次；用户首次登录须修改密码。",
    )

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, principal=principal, **kwargs)
        self.order_fields(["username", "display_name", "mobile", "password", "role", "area", "site"])


class KeySearchForm(forms.Form):
    q = forms.CharField(label="名称或前缀", required=False, max_length=50)
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部")] + selectors.KEY_KIND_CHOICES)
    status = forms.ChoiceField(label="状态", required=False, choices=selectors.KEY_STATUS_CHOICES)

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"] = SiteField(
            label="场所", required=False, empty_label="全部",
            queryset=selectors.sites_for(principal=principal, capability=Cap.KEYS_MANAGE),
            error_messages={"invalid_choice": "请选择您辖区内的服务场所"},
        )

    def filters(self) -> KeyFilters:
        d = self.cleaned_data
        return KeyFilters(q=d.get("q") or "", kind=d.get("kind") or "", status=d.get("status") or "", site=d.get("site"))


# Scopes an outside system may be given; the device scopes come with the evaluator and kiosk kinds
# (a terminal's own key, kiosks.terminal, is made by the terminal register).
SYSTEM_SCOPES = [s for s in KEY_SCOPE_CAPABILITIES
                 if s not in ("evaluations.device", "evaluations.kiosk", "kiosks.terminal")]


class KeyIssueForm(forms.Form):
    """One kind at a time (chosen by a link, no script): an evaluator is bound to a window, a
    kiosk to a site, an outside system to an area with the scopes chosen."""

    name = forms.CharField(label="名称", max_length=100, error_messages={"required": "请填写密钥名称"})
    PLACEHOLDERS = {"evaluator": "例如 1 号窗口评价器", "kiosk": "例如 大厅自助终端", "system": "例如 12345 工单平台"}

    def __init__(self, *args, principal: Principal, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["name"].widget.attrs["placeholder"] = self.PLACEHOLDERS.get(kind, "")
        if kind == "evaluator":
            self.fields["window"] = WindowField(
                label="绑定窗口", empty_label="请选择",
                queryset=selectors.windows_for(principal=principal, capability=Cap.KEYS_MANAGE),
                error_messages={"required": "请选择绑定的窗口", "invalid_choice": "请选择您辖区内的窗口"},
            )
        elif kind == "kiosk":
            self.fields["site"] = SiteField(
                label="所在场所", empty_label="请选择",
                queryset=selectors.sites_for(principal=principal, capability=Cap.KEYS_MANAGE),
                error_messages={"required": "请选择自助终端所在的场所", "invalid_choice": "请选择您辖区内的服务场所"},
            )
        else:
            self.fields["area"] = _area_field(principal, Cap.KEYS_MANAGE, required=True, label="授权区划")
            self.fields["scopes"] = forms.MultipleChoiceField(
                label="权限范围", widget=forms.CheckboxSelectMultiple,
                choices=[(s, f"{KEY_SCOPE_LABELS.get(s, s)}（{s}）") for s in SYSTEM_SCOPES],
                error_messages={"required": "至少选择一项权限范围", "invalid_choice": "未知的权限范围：%(value)s"},
            )
            self.fields["system"] = forms.CharField(
                label="外部系统标识", max_length=50, required=False,
                help_text="如 fj_online_hall；该系统推送的外部编号在授权区划内唯一，轮换密钥时填写相同标识",
            )

    def service_arguments(self) -> dict:
        """The keyword arguments of services.apikey_create for this kind."""
        from .models import ApiKey

        d = self.cleaned_data
        if self.kind == "evaluator":
            window = d["window"]
            return {"kind": ApiKey.Kind.DEVICE, "area": window.site.area, "site": window.site, "window": window,
                    "scopes": ["evaluations.device"]}
        if self.kind == "kiosk":
            site = d["site"]
            return {"kind": ApiKey.Kind.DEVICE, "area": site.area, "site": site, "scopes": ["evaluations.kiosk"]}
        return {"kind": ApiKey.Kind.SYSTEM, "area": d["area"], "scopes": list(d["scopes"]), "system": d.get("system", "")}
