"""Open311 GeoReport v2 under /open311/v2/ (see open311.py); every path ends in .json or .xml."""

from django.urls import re_path

from . import open311

app_name = "open311"
FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[-A-Za-z0-9_]{1,40})" + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.service_requests, name="requests"),
    re_path(r"^requests/(?P<code>[A-Za-z0-9]{1,12})" + FMT, open311.service_request, name="request"),
    re_path(r"^tokens/(?P<token>[A-Za-z0-9]{1,12})" + FMT, open311.token_lookup, name="token"),
    re_path(r"^(?P<path>.*)$", open311.not_found),
]
