"""The console's need pages: /needs/…"""

from django.urls import path

from . import views

app_name = "needs"
urlpatterns = [
    path("", views.need_list, name="list"),
    path("new/", views.need_new, name="new"),
    path("overdue/", views.overdue_list, name="overdue"),
    path("pool/", views.pool, name="pool"),
    path("figures/", views.figures, name="figures"),
    path("batch/", views.batch, name="batch"),
    path("offers/", views.offers, name="offers"),
    path("<int:pk>/", views.need_detail, name="detail"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/activity/", views.new_activity, name="new_activity"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/grab/", views.grab, name="grab"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/phone/", views.reveal_phone, name="reveal_phone"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
]
