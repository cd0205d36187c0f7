"""Engagement in the admin. Records are written through the services (audited, with their history and
their SMS); the admin shows them only. The reply classes (办理结果分类) are the one rule kept as data
that an administrator edits here; each change is audited (AuditedModelAdmin)."""

from django.contrib import admin

from bianmin.accounts.admin import AuditedModelAdmin

from .models import (
    Assignment,
    Campaign,
    CampaignEntry,
    CampaignFinding,
    Opinion,
    Proposal,
    ProposalClass,
    ProposalEvent,
    Reply,
    Representative,
    Symposium,
    Training,
    TrainingRegistration,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProposalClass)
class ProposalClassAdmin(AuditedModelAdmin):
    list_display = ("code", "label", "position", "active")

    def has_delete_permission(self, request, obj=None):
        # A class already given to a reply is kept (PROTECT); retiring it is "启用" off.
        return False


@admin.register(Representative)
class RepresentativeAdmin(ReadOnly):
    # No name or phone: they are masked in lists; the engagement pages unmask them, audited.
    list_display = ("id", "kind", "organisation", "area", "active")
    list_select_related = ("area",)
    list_filter = ("kind", "active")


@admin.register(Symposium)
class SymposiumAdmin(ReadOnly):
    list_display = ("title", "area", "year", "quarter", "planned_on", "status")
    list_select_related = ("area",)
    list_filter = ("status", "year", "quarter")


@admin.register(Opinion)
class OpinionAdmin(ReadOnly):
    list_display = ("id", "symposium", "area", "status", "due_on")
    list_select_related = ("symposium", "area")
    list_filter = ("status",)


@admin.register(Training)
class TrainingAdmin(ReadOnly):
    list_display = ("title", "area", "starts_at", "capacity", "status")
    list_select_related = ("area",)
    list_filter = ("status",)


@admin.register(TrainingRegistration)
class TrainingRegistrationAdmin(ReadOnly):
    list_display = ("enterprise_name", "credit_code", "training", "channel", "attended")
    list_select_related = ("training",)
    search_fields = ("credit_code", "enterprise_name")


@admin.register(Campaign)
class CampaignAdmin(ReadOnly):
    list_display = ("title", "area", "starts_on", "ends_on", "status")
    list_select_related = ("area",)
    list_filter = ("status",)


@admin.register(CampaignEntry)
class CampaignEntryAdmin(ReadOnly):
    list_display = ("id", "campaign", "site", "channel", "created_at")
    list_select_related = ("campaign", "site")
    list_filter = ("channel",)


@admin.register(CampaignFinding)
class CampaignFindingAdmin(ReadOnly):
    list_display = ("id", "campaign", "site", "created_at")
    list_select_related = ("campaign", "site")


@admin.register(Proposal)
class ProposalAdmin(ReadOnly):
    list_display = ("number", "kind", "session", "title", "area", "received_on", "status")
    list_select_related = ("area",)
    list_filter = ("kind", "status")
    search_fields = ("number", "title")


@admin.register(Assignment)
class AssignmentAdmin(ReadOnly):
    list_display = ("proposal", "role", "unit_name", "area", "due_on", "status")
    list_select_related = ("proposal", "area")
    list_filter = ("role", "status")


@admin.register(Reply)
class ReplyAdmin(ReadOnly):
    list_display = ("id", "assignment", "round", "result_class", "doc_number", "status", "signed_at")
    list_select_related = ("assignment", "result_class")
    list_filter = ("status",)


@admin.register(ProposalEvent)
class ProposalEventAdmin(ReadOnly):
    list_display = ("proposal", "kind", "actor_label", "at")
    list_select_related = ("proposal",)
