"""Admin for areas (read-only: areas come from the official file via load_areas) and for
service sites and windows (written through the services, so every change is audited and
limited to the editor's areas)."""

from django.contrib import admin

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Grant, Principal, request_principal
from bianmin.core.scoping import scoped

from . import services
from .models import Area, ServiceSite, Window


def _actor(request) -> Principal:
    """The editing principal. A superuser edits the whole tree (a grant at the empty path
    prefixes every area); everyone else through their role assignments."""
    principal = request_principal(request)
    if request.user.is_superuser:
        return Principal(label=principal.label, grants=[Grant("", frozenset({Cap.REGIONS_EDIT}))],
                         user=request.user, ip=principal.ip)
    return principal


def _can_edit(request, area) -> bool:
    return _actor(request).can(Cap.REGIONS_EDIT, area)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_functional_zone")
    list_filter = ("level", "is_functional_zone")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    readonly_fields = ("code", "name", "level", "parent", "path", "is_functional_zone", "urban_rural_code", "administers")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # areas come from the official division file (load_areas)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WindowInline(admin.TabularInline):
    model = Window
    fields = ("number", "name", "active")
    extra = 0
    can_delete = False  # close a window (启用 off) instead: cases and evaluations point to it


class _ScopedSiteMixin:
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return scoped(qs, _actor(request), Cap.REGIONS_EDIT, area_field=self.area_field)


@admin.register(ServiceSite)
class ServiceSiteAdmin(_ScopedSiteMixin, admin.ModelAdmin):
    area_field = "area"
    list_display = ("code", "name", "kind", "venue", "area", "active")
    list_filter = ("kind", "venue", "active")
    search_fields = ("code", "name", "address", "area__name", "area__code")
    list_select_related = ("area",)
    raw_id_fields = ("area", "parent_site")
    inlines = [WindowInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "venue", "area", "parent_site", "active")}),
        ("地址与位置", {"fields": ("address", "lng", "lat")}),
        ("对外服务信息", {"fields": ("hours", "phone", "complaint_phone", "email")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or request.user.is_superuser or _can_edit(request, obj.area)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate (运行中 off): cases and evaluations point to sites

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in form.cleaned_data if f in services.SITE_FIELDS or f in ("area", "parent_site")}
        if change:
            saved = services.site_update(actor=_actor(request), site=obj, **data)
        else:
            saved = services.site_create(actor=_actor(request), code=form.cleaned_data["code"], **data)
        obj.pk = saved.pk

    def save_formset(self, request, form, formset, change):
        actor = _actor(request)
        site = form.instance
        # The admin's change message reads these, as BaseModelFormSet.save() would have set them.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            data = inline_form.cleaned_data
            if inline_form.instance.pk is None:
                window = services.window_create(actor=actor, site=site, number=data["number"], name=data["name"],
                                                active=data.get("active", True))
                formset.new_objects.append(window)
            else:
                window = services.window_update(actor=actor, window=inline_form.instance, name=data["name"],
                                                active=data.get("active", True))
                formset.changed_objects.append((window, [f for f in inline_form.changed_data if f != "number"]))


@admin.register(Window)
class WindowAdmin(_ScopedSiteMixin, admin.ModelAdmin):
    area_field = "site__area"
    list_display = ("site", "number", "name", "active")
    list_filter = ("active", "site__kind")
    search_fields = ("site__name", "site__code", "name")
    list_select_related = ("site",)
    raw_id_fields = ("site",)

    def get_readonly_fields(self, request, obj=None):
        return ("site", "number") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.window_update(actor=_actor(request), window=obj, name=data["name"], active=data["active"])
        else:
            saved = services.window_create(actor=_actor(request), site=data["site"], number=data["number"],
                                           name=data["name"], active=data["active"])
        obj.pk = saved.pk
