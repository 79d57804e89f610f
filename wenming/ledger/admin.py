"""Read-only admin views of the ledger (superusers only): nothing here can change it."""

from django.contrib import admin

from .models import Account, HoursRequest, PointMovement, ServiceRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "volunteer",
        "sequence",
        "kind",
        "title",
        "service_date",
        "minutes",
        "node",
        "approved_by",
    ]
    list_filter = ["kind"]
    search_fields = ["title", "volunteer__number", "volunteer__name"]
    list_select_related = ["volunteer", "node", "approved_by"]


@admin.register(HoursRequest)
class HoursRequestAdmin(ReadOnlyAdmin):
    list_display = ["volunteer", "kind", "status", "title", "minutes", "requested_by", "decided_by"]
    list_filter = ["kind", "status"]
    list_select_related = ["volunteer", "requested_by", "decided_by"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "created_at"]
    list_filter = ["kind"]


@admin.register(PointMovement)
class PointMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "memo", "source_type", "source_id"]
    list_filter = ["kind"]
