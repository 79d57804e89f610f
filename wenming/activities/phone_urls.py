"""The volunteers' phone pages of activities, under /a/ (the address notices link to)."""

from django.urls import path

from . import phone_views as views

app_name = "activities_phone"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/signup/", views.signup, name="signup"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/scan/", views.scan, name="scan"),
]
