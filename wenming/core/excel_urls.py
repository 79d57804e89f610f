"""Excel import and export of the ledgers: included at /data/ by wenming/urls.py."""

from django.urls import path

from . import excel_views as views

app_name = "excel"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:dataset>/import/", views.import_view, name="import"),
    path("<slug:dataset>/template.xlsx", views.template_view, name="template"),
    path("<slug:dataset>/export.xlsx", views.export_view, name="export"),
    path("<slug:dataset>/errors/<str:token>.xlsx", views.errors_view, name="errors"),
    path("<slug:dataset>/jobs/<str:token>/", views.job_view, name="job"),
]
