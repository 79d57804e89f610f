from django.contrib import admin

from .models import ContactPoint, GuidanceVisit, Platform, Site, SocialOrganization


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "lead_department", "ordering"]


@admin.register(SocialOrganization)
class SocialOrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "node"]
    search_fields = ["name", "credit_code"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "node", "radius_m"]
    list_filter = ["kind"]
    search_fields = ["name"]


class VisitInline(admin.TabularInline):
    model = GuidanceVisit
    extra = 0


@admin.register(ContactPoint)
class ContactPointAdmin(admin.ModelAdmin):
    list_display = ["party", "kind", "node", "frequency_days", "started_on"]
    list_filter = ["kind"]
    inlines = [VisitInline]
