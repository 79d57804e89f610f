from django.contrib import admin
from django.urls import include, path

from wenming.api import api
from wenming.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("open311/v2/", include("wenming.needs.open311_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("", include("wenming.core.urls")),
    path("org/", include("wenming.org.urls")),
    path("people/", include("wenming.people.urls")),
    path("a/", include("wenming.activities.phone_urls")),
    path("notices/", include("wenming.notices.urls")),
    path("activities/", include("wenming.activities.urls")),
    path("needs/", include("wenming.needs.urls")),
    path("n/", include("wenming.needs.public_urls")),
    path("publicity/", include("wenming.publicity.urls")),
    path("stats/summary/", include("wenming.stats.narrative_urls")),
    path("stats/", include("wenming.stats.urls")),
    path("data/", include("wenming.core.excel_urls")),
    path("", include("wenming.ledger.urls")),
]

handler404 = "wenming.core.views.not_found"
handler500 = "wenming.core.views.server_error"
handler403 = "wenming.core.views.forbidden"
