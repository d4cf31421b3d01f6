"""/open311/: service discovery and the GeoReport v2 endpoint (format by extension)."""

from django.urls import re_path

from civicgrid.exchange import open311_views as v

EXT = r"(?:\.(?P<fmt>[a-z]+))?$"
ID = r"(?P<{}>[^/.]+)"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + EXT, v.discovery, name="discovery"),
    re_path(r"^v2/discovery" + EXT, v.discovery, name="v2-discovery"),
    re_path(r"^v2/services" + EXT, v.services, name="services"),
    re_path(
        r"^v2/services/" + ID.format("code") + EXT,
        v.service_definition,
        name="service",
    ),
    re_path(r"^v2/requests" + EXT, v.requests, name="requests"),
    re_path(
        r"^v2/requests/" + ID.format("code") + EXT, v.request_detail, name="request"
    ),
    re_path(r"^v2/tokens/" + ID.format("token") + EXT, v.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + EXT, v.updates, name="updates"),
]
