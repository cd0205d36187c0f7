from django.contrib import admin

from .models import Appeal, AppealEvent, DeadlineRule, ImportJob, RectificationRequest, TopicClass


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    """Administrators set the working days per appeal kind here."""

    list_display = ("kind", "reply_days", "contact_days", "warn_days")


@admin.register(TopicClass)
class TopicClassAdmin(admin.ModelAdmin):
    """The content classification (诉求分类): names and keywords may be tuned here; a city's own
    file is loaded with `bianmin manage load_topics FILE`. Classes are never deleted (appeals
    point at them): switch one off instead."""

    list_display = ("code", "name", "parent", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = AppealEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "at", "actor_label", "department", "text")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    """Read-only: appeals change through their workflow (services), never by editing fields."""

    list_display = ("number", "work_order_no", "kind", "channel", "status", "area", "due_date")
    list_filter = ("kind", "channel", "status")
    search_fields = ("number", "work_order_no", "title")
    exclude = ("name", "mobile", "id_number", "email", "credit_code")  # personal data stays masked here
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("filename", "area", "status", "total", "created_count", "updated_count", "created_at")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RectificationRequest)
class RectificationRequestAdmin(admin.ModelAdmin):
    list_display = ("group_label", "group_by", "appeal_count", "area", "status", "created_at")

    def has_change_permission(self, request, obj=None):
        return False
