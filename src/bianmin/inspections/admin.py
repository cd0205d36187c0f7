from django.contrib import admin

from .models import ChecklistTemplate, Cycle, FieldCheck, Leader, Notice, Schedule


class ReadOnly(admin.ModelAdmin):
    """Inspections are written through their services (audited); the admin only shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ReadOnly):
    list_display = ("code", "version", "name", "area", "created_at")
    list_select_related = ("area",)


@admin.register(Schedule)
class ScheduleAdmin(ReadOnly):
    list_display = ("area", "active", "period_months", "template_code")
    list_select_related = ("area",)


@admin.register(Cycle)
class CycleAdmin(ReadOnly):
    list_display = ("number", "title", "area", "status", "period_start", "period_end")
    list_select_related = ("area",)
    list_filter = ("status",)


@admin.register(FieldCheck)
class FieldCheckAdmin(ReadOnly):
    list_display = ("method", "site", "at", "status")
    list_select_related = ("site",)
    list_filter = ("method", "status")


@admin.register(Notice)
class NoticeAdmin(ReadOnly):
    list_display = ("number", "site", "addressee", "status", "deadline")
    list_select_related = ("site", "addressee")
    list_filter = ("status",)
    search_fields = ("number",)


@admin.register(Leader)
class LeaderAdmin(ReadOnly):
    list_display = ("area", "title", "name", "active")
    list_select_related = ("area",)
