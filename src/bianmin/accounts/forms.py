from django import forms
from django.contrib.auth.forms import AuthenticationForm

from bianmin.core.models import AuditEntry

from .selectors import AuditFilters
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
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

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
