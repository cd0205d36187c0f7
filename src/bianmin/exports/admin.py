from django.contrib import admin

from .models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs change only through the services (the worker, the requester's page)."""

    list_display = ("id", "title", "user", "status", "rows_written", "rows_expected", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("title", "user__username")
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
