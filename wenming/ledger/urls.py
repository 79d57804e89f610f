from django.urls import path, re_path

from . import views

app_name = "ledger"
urlpatterns = [
    # A volunteer's own pages (phone).
    path("me/", views.me_hours, name="me"),
    path("me/hours/", views.me_hours, name="me_hours"),
    path("me/records/", views.me_records, name="me_records"),
    path("me/points/", views.me_points, name="me_points"),
    path("me/stars/", views.me_stars, name="me_stars"),
    path("me/certificates/", views.me_certificates, name="me_certificates"),
    path("me/certificates/<str:number>.pdf", views.me_certificate_pdf, name="me_certificate_pdf"),
    # Console.
    path("ledger/records/", views.records, name="records"),
    path("ledger/records/<int:pk>/", views.record_detail, name="record"),
    path("ledger/volunteers/<int:pk>/", views.volunteer_ledger, name="volunteer"),
    path(
        "ledger/volunteers/<int:pk>/certificates/<str:number>.pdf",
        views.volunteer_certificate_pdf,
        name="volunteer_certificate_pdf",
    ),
    path("ledger/requests/", views.requests, name="requests"),
    path("ledger/requests/new/", views.request_new, name="request_new"),
    path("ledger/requests/<int:pk>/", views.request_detail, name="request"),
    path("ledger/requests/<int:pk>/approve/", views.request_approve, name="request_approve"),
    path("ledger/requests/<int:pk>/reject/", views.request_reject, name="request_reject"),
    # Public verification of a certificate (the QR code's address), with or without a trailing slash.
    path("verify/", views.verify, name="verify_form"),
    path("verify/<str:number>", views.verify, name="verify"),
    re_path(r"^verify/(?P<number>[^/]+)/$", views.verify),
]
