"""Console pages of the media-reports ledger, mounted at /publicity/."""

from django.urls import path

from . import views

app_name = "publicity"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("new/", views.report_new, name="new"),
    path("<int:pk>/edit/", views.report_edit, name="edit"),
    path("<int:pk>/delete/", views.report_delete, name="delete"),
    path("activity-options/", views.activity_options, name="activity_options"),
]
