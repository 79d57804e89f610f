"""Read-only admin of deliveries (superusers): what reached the gateway, what waits for a retry
and what failed, with the last error. Failed ones are requeued with `wenming deliver_notices
--retry-failed` once the gateway works again."""

from django.contrib import admin

from .models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "notice_id", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["=notice__id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
