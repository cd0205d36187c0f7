from django.contrib import admin

from .models import Evaluation, EvaluationLink, ProvincialReport, ReasonOption


@admin.register(ReasonOption)
class ReasonOptionAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "active", "order"]
    list_editable = ["active", "order"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    """Read-only: evaluations are changed only by their services (nothing is ever deleted)."""

    list_display = ["case", "kind", "grade", "channel", "is_default", "site", "evaluated_at", "flag", "excluded"]
    # Only what the list shows: without it the admin follows every foreign key (14 tables), which
    # PostgreSQL can plan into minutes (tests/test_admin_lists.py).
    list_select_related = ["case", "site"]
    list_filter = ["grade", "channel", "is_default", "flag", "excluded"]
    search_fields = ["case__acceptance_number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EvaluationLink)
class EvaluationLinkAdmin(admin.ModelAdmin):
    list_display = ["case", "created_at", "expires_at", "used_at", "sms_invited"]
    list_select_related = ["case"]
    exclude = ["nonce"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProvincialReport)
class ProvincialReportAdmin(admin.ModelAdmin):
    list_display = ["evaluation", "event", "area", "created_at"]
    list_select_related = ["evaluation__case", "area"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
