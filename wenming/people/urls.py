from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("volunteers/", views.volunteer_list, name="volunteers"),
    path("volunteers/new/", views.volunteer_new, name="volunteer_new"),
    path("volunteers/<int:pk>/", views.volunteer_detail, name="volunteer"),
    path("volunteers/<int:pk>/edit/", views.volunteer_edit, name="volunteer_edit"),
    path("volunteers/<int:pk>/reveal/<slug:field>/", views.volunteer_reveal, name="volunteer_reveal"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_new, name="team_new"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/members/", views.team_member_add, name="team_member_add"),
    path("teams/<int:pk>/members/<int:volunteer_id>/remove/", views.team_member_remove, name="team_member_remove"),
    path("join/", views.join, name="join"),
    path("join/stations/", views.join_stations, name="join_stations"),
    path("join/done/", views.join_done, name="join_done"),
]
