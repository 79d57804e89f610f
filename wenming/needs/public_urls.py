"""The public need pages (no account): /n/… — 群众点单, 查询进度, 心愿墙, 服务清单."""

from django.urls import path

from . import public_views as views

app_name = "n"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("submitted/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    path("track/forget/", views.forget, name="forget"),
    path("track/<str:code>/", views.track_need, name="track_need"),
    path("track/<str:code>/cancel/", views.cancel, name="cancel"),
    path("track/<str:code>/rate/", views.rate, name="rate"),
    path("wishes/", views.wishes, name="wishes"),
    path("menu/", views.menu, name="menu"),
]
