from django.contrib import admin

from .models import EnterpriseProfile, Policy, PolicyChange, Subscription


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only: policies change only through the workflow (the staff pages and their services),
    which checks, audits and tells outside systems; an edit here would do none of that."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "title", "state", "lead_department", "valid_from", "valid_until", "published_at")
    list_filter = ("state", "category", "no_application")
    search_fields = ("code", "title", "aliases", "document_number")
    list_select_related = ("lead_department",)


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyAdmin):
    list_display = ("seq", "code", "action", "reason", "at")
    list_filter = ("action", "reason")
    search_fields = ("code",)


@admin.register(EnterpriseProfile)
class EnterpriseProfileAdmin(ReadOnlyAdmin):
    list_display = ("name", "area", "industry", "size", "pilot_code", "saved_by", "updated_at")
    list_filter = ("size", "pilot_code")
    search_fields = ("name",)
    list_select_related = ("area",)
    exclude = ("credit_code",)  # shown masked in the staff pages only


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("profile", "channel", "status", "created_at", "confirmed_at")
    list_filter = ("status", "channel")
    list_select_related = ("profile",)
    exclude = ("contact",)
