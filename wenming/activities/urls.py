"""Console pages of activities (mounted at /activities/) and the public iCalendar feeds.

Feeds:
- `activities:ical-node` (node_id): a node's (station's …) published activities, its subtree included;
- `activities:ical-team` (team_id): a team's published activities;
- `activities:ical-volunteer` (token): a volunteer's own sign-ups; token = `ical.volunteer_token(volunteer)`
  (or the whole path: `ical.volunteer_feed_path(volunteer)`).
"""

from django.urls import path

from . import ical, views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_new, name="new"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/publish/", views.activity_publish, name="publish"),
    path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
    path("<int:pk>/signup/", views.activity_signup, name="signup"),
    path("<int:pk>/signups/<int:signup_id>/cancel/", views.signup_cancel, name="signup_cancel"),
    path("<int:pk>/live/", views.activity_live, name="live"),
    path("<int:pk>/live/board/", views.activity_live_board, name="live_board"),
    path("<int:pk>/code/", views.activity_code, name="code"),
    path("<int:pk>/code.json", views.activity_code_json, name="code_json"),
    path("<int:pk>/settle/", views.activity_settle, name="settle"),
    path("<int:pk>/attendance/<int:attendance_id>/decide/", views.attendance_decide, name="decide"),
    path("themes/", views.theme_list, name="themes"),
    path("themes/new/", views.theme_form, name="theme_new"),
    path("themes/<int:pk>/edit/", views.theme_form, name="theme_edit"),
    path("brands/", views.brand_list, name="brands"),
    path("brands/new/", views.brand_form, name="brand_new"),
    path("brands/<int:pk>/edit/", views.brand_form, name="brand_edit"),
    path("feeds/", views.feeds, name="feeds"),
    path("ical/node/<int:node_id>.ics", ical.node_feed, name="ical-node"),
    path("ical/team/<int:team_id>.ics", ical.team_feed, name="ical-team"),
    path("ical/volunteer/<str:token>.ics", ical.volunteer_feed, name="ical-volunteer"),
]
