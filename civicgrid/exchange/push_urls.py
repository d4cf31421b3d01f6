"""/exchange/v1/: the signed API of connected systems."""

from django.urls import path

from civicgrid.exchange import push_views as v

app_name = "exchange"
urlpatterns = [
    path("whoami", v.whoami, name="whoami"),
    path("events", v.push_event, name="events"),
    path("incidents", v.push_incidents, name="incidents"),
    path("reports", v.push_report, name="reports"),
]
