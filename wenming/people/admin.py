from django.contrib import admin

from .models import Team, Volunteer


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    """Masked numbers only; registration and changes go through the console (validated, audited)."""

    list_display = ["number", "name", "gender", "id_number_masked", "phone_masked", "station", "source"]
    list_filter = ["source", "gender", "political_status"]
    search_fields = ["number", "name", "name_initials"]
    fields = ["number", "name", "gender", "birth_date", "id_number_masked", "phone_masked", "political_status",
              "station", "availability", "agreement_consent_at", "privacy_consent_at", "guardian_name",
              "guardian_phone_masked", "guardian_consent_at", "source", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "node", "platform", "social_org", "leader", "capacity"]
    search_fields = ["name"]
    raw_id_fields = ["leader"]
