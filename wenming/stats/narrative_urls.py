"""The work summary's pages: /stats/summary/…"""

from django.urls import path

from . import narrative_views as views

app_name = "stats_summary"
urlpatterns = [
    path("", views.summary_page, name="page"),
    path("docx/", views.summary_docx, name="docx"),
    path("template/", views.template_edit, name="template"),
]
