"""Admin for the core records: the working-day calendar (city
administrators correct and extend it when the State Council publishes a schedule) and the
outbox (look at failures, send again)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction

from .audit import audit, client_ip
from .calendar import ADMIN_SOURCE
from .masking import mask_mobile
from .models import AuditEntry, CalendarDay, CalendarYear, OutboxMessage
from .outbox import outbox_retry
from .principal import Principal

WEEKDAYS = "一二三四五六日"


def _principal(request) -> Principal:
    return Principal(label=request.user.get_username(), user=request.user, ip=client_ip(request), display=str(request.user))


class _AuditedCalendarAdmin(admin.ModelAdmin):
    """Saving marks the row as edited by hand (seed_calendar leaves it alone from then on) and
    writes an audit row in the same transaction."""

    fields_audited: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            obj.edited = True
            if "source" not in form.changed_data:
                # The admin did not name a source (e.g. the notice's number): say who changed it.
                obj.source = ADMIN_SOURCE
            obj.full_clean()
            super().save_model(request, obj, form, change)
            audit(
                actor=_principal(request),
                action=AuditEntry.Action.UPDATE if change else AuditEntry.Action.CREATE,
                target=obj,
                changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._delete_one(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._delete_one(request, obj)

    def _delete_one(self, request, obj):
        audit(actor=_principal(request), action=AuditEntry.Action.DELETE, target=obj)
        obj.delete()


@admin.register(CalendarDay)
class CalendarDayAdmin(_AuditedCalendarAdmin):
    list_display = ("date", "weekday", "kind", "name", "source", "edited")
    list_filter = ("kind", "edited", "source")
    search_fields = ("name",)
    date_hierarchy = "date"
    fields = ("date", "kind", "name", "source")
    ordering = ("-date",)

    @admin.display(description="星期")
    def weekday(self, obj):
        return f"星期{WEEKDAYS[obj.date.weekday()]}"

    def _delete_one(self, request, obj):
        # A deleted day must stay deleted: seed_calendar would put a seeded day back, so the
        # year it belongs to becomes maintained by hand.
        CalendarYear.objects.update_or_create(
            year=obj.date.year, defaults={"edited": True},
        )
        super()._delete_one(request, obj)


@admin.register(CalendarYear)
class CalendarYearAdmin(_AuditedCalendarAdmin):
    list_display = ("year", "confirmed", "source", "edited", "updated_at")
    list_filter = ("confirmed", "edited")
    fields = ("year", "confirmed", "source")
    ordering = ("-year",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "masked_recipient", "status", "attempts", "next_attempt_at", "created_at",
                    "sent_at", "short_error")
    list_filter = ("status", "channel")
    search_fields = ("dedupe_key", "ordering_key")
    readonly_fields = ("channel", "masked_recipient", "payload", "dedupe_key", "ordering_key", "status",
                       "attempts", "next_attempt_at", "last_error", "created_at", "sent_at")
    fields = readonly_fields
    actions = ("requeue",)

    @admin.display(description="接收方")
    def masked_recipient(self, obj):
        # Recipients are mostly citizens' phone numbers: masked like everywhere else.
        return mask_mobile(obj.recipient) if obj.recipient.isdigit() else obj.recipient

    @admin.display(description="最近错误")
    def short_error(self, obj):
        return (obj.last_error[:60] + "…") if len(obj.last_error) > 60 else obj.last_error

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="重新发送所选消息（未发送成功的）", permissions=["change"])
    def requeue(self, request, queryset):
        count = outbox_retry(actor=_principal(request), message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"已重新排队 {count} 条消息", messages.SUCCESS)
