"""Django admin in Chinese for users, role assignments, API keys and the audit log.

Every change made here is written to the audit log (AuditedModelAdmin); keys are created and
revoked through the services, so the raw key is shown once and only its digest is stored."""

from __future__ import annotations

from dataclasses import replace

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from bianmin.core.audit import audit
from bianmin.core.errors import DomainError
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Grant, Principal
from bianmin.regions.models import Area

from . import services
from .models import ApiKey, RoleAssignment, User
from .principals import KEY_SCOPE_CAPABILITIES, KEY_SCOPE_LABELS, principal_of
from .roles import CAPABILITIES

_ALL_CAPS = frozenset(c for caps in CAPABILITIES.values() for c in caps)



def admin_principal(request) -> Principal:
    """The acting principal in the admin. A superuser acts with every capability at the top areas,
    whether or not they hold a role assignment (the admin is their tool)."""
    principal = principal_of(request)
    if request.user.is_superuser:
        roots = [Grant(p, _ALL_CAPS) for p in Area.objects.filter(parent__isnull=True).values_list("path", flat=True)]
        principal = replace(principal, grants=[*principal.grants, *roots])
    return principal


class AuditedModelAdmin(admin.ModelAdmin):
    """Writes an AuditEntry beside the admin's own LogEntry for every addition, change and deletion.
    `audit_area_field` is the lookup path from the object to its Area, if it has one."""

    audit_area_field: str | None = None

    def _area_code(self, obj) -> str:
        if not self.audit_area_field:
            return ""
        value = obj
        for part in self.audit_area_field.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return ""
        return getattr(value, "code", "")

    def log_addition(self, request, obj, message):
        audit(actor=principal_of(request), action=AuditEntry.Action.CREATE, target=obj,
              area_code=self._area_code(obj), changes={"admin": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit(actor=principal_of(request), action=AuditEntry.Action.UPDATE, target=obj,
              area_code=self._area_code(obj), changes={"admin": message})
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit(actor=principal_of(request), action=AuditEntry.Action.DELETE, target=obj,
                  area_code=self._area_code(obj))
        return super().log_deletions(request, queryset)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fields = ("role", "area", "site", "active", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ()
    raw_id_fields = ("area", "site")
    can_delete = False


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ("username", "display_name", "is_active", "is_staff", "locked_until", "password_changed_at", "is_demo")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_demo", "role_assignments__role")
    search_fields = ("username", "display_name")
    ordering = ("username",)
    readonly_fields = ("last_login", "date_joined", "failed_logins", "password_changed_at")
    inlines = [RoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("display_name", "mobile", "email")}),
        ("账号状态", {"fields": ("is_active", "is_staff", "is_superuser", "must_change_password", "is_demo")}),
        ("登录安全", {"fields": ("failed_logins", "locked_until", "password_changed_at", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "display_name", "password1", "password2")}),)
    actions = ["unlock"]

    def save_model(self, request, obj, form, change):
        if not change:
            # A password typed by an administrator is temporary (等保: the user sets their own).
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    @admin.action(description="解除登录锁定")
    def unlock(self, request, queryset):
        principal = admin_principal(request)
        for user in queryset:
            services.lockout_clear(actor=principal, user=user)
        self.message_user(request, f"已解除 {queryset.count()} 个账号的锁定", messages.SUCCESS)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedModelAdmin):
    list_display = ("user", "role", "area", "site", "active", "created_at")
    list_filter = ("role", "active", "area__level")
    search_fields = ("user__username", "user__display_name", "area__name", "area__code")
    raw_id_fields = ("user", "area", "site")
    audit_area_field = "area"
    actions = ["revoke"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the history of who held what stays

    @admin.action(description="撤销所选角色分配")
    def revoke(self, request, queryset):
        principal = admin_principal(request)
        done = 0
        for assignment in queryset.filter(active=True):
            try:
                services.role_revoke(actor=principal, assignment=assignment)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{assignment}：{exc.message}", messages.ERROR)
        self.message_user(request, f"已撤销 {done} 项角色分配", messages.SUCCESS)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label="权限范围", widget=forms.CheckboxSelectMultiple,
        choices=[(s, f"{KEY_SCOPE_LABELS.get(s, s)}（{s}）") for s in KEY_SCOPE_CAPABILITIES],
    )

    class Meta:
        model = ApiKey
        fields = ("name", "kind", "area", "site", "window", "scopes", "system")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "kind", "area", "site", "window", "created_at", "last_used_at", "last_used_ip", "revoked_at")
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    raw_id_fields = ("area", "site", "window")
    actions = ["revoke"]
    # The digest never appears: not in the form, not in the list, not read-only.
    readonly_on_change = ("name", "kind", "prefix", "area", "site", "window", "scopes", "system", "created_by", "created_at",
                          "last_used_at", "last_used_ip", "revoked_at")

    def get_fields(self, request, obj=None):
        return self.readonly_on_change if obj is not None else ApiKeyForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_on_change if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead

    def save_model(self, request, obj, form, change):
        if change:
            return  # keys are not edited; they are revoked and replaced
        data = form.cleaned_data
        key, raw = services.apikey_create(
            actor=admin_principal(request), name=data["name"], kind=data["kind"], area=data["area"],
            site=data.get("site"), window=data.get("window"), scopes=list(data["scopes"]), system=data.get("system", ""),
        )
        obj.pk, obj.prefix, obj.created_at = key.pk, key.prefix, key.created_at
        obj._state.adding = False
        messages.warning(request, f"密钥已创建，仅显示这一次，请立即复制并妥善保存：{raw}")

    def log_addition(self, request, obj, message):
        return super().log_addition(request, obj, message)  # audited by apikey_create

    @admin.action(description="吊销所选密钥")
    def revoke(self, request, queryset):
        principal = admin_principal(request)
        done = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                services.apikey_revoke(actor=principal, key=key)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{key}：{exc.message}", messages.ERROR)
        self.message_user(request, f"已吊销 {done} 个密钥", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only (网络安全法 §21, 等保)."""

    list_display = ("at", "actor_label", "action", "target_type", "target_id", "target_label", "area_code", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_id", "target_label", "area_code")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
