"""Django's admin, for superusers only (the console is where staff work)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import ApiToken, AuditEntry, Department, OrgNode, Skill, User

admin.site.site_header = "文明实践云平台 · 系统管理"
admin.site.site_title = "文明实践云平台"
# Only superusers: staff flags alone never open the admin.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser


@admin.register(OrgNode)
class OrgNodeAdmin(TreeAdmin):
    form = movenodeform_factory(OrgNode)
    list_display = ["name", "kind", "division_code", "secretary", "is_demonstration"]
    search_fields = ["name", "division_code"]


@admin.register(User)
class WenmingUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "is_active", "is_superuser", "last_login"]
    list_filter = ["role", "is_active", "is_superuser"]
    fieldsets = UserAdmin.fieldsets + (("文明实践", {"fields": ("display_name", "role", "scopes", "department")}),)
    filter_horizontal = ["scopes", "groups", "user_permissions"]


admin.site.register(Department)
admin.site.register(Skill)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail cannot be changed, not even here."""

    list_display = ["at", "actor_name", "action", "object_repr", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "object_repr", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
