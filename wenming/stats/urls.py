"""The figures' pages: /stats/…"""

from django.urls import path

from . import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("screen/", views.bigscreen, name="bigscreen"),
    path("live.json", views.live_json, name="live"),
    path("figures.json", views.figures_json, name="figures"),
    path("report.xlsx", views.report_xlsx, name="report"),
]
