"""Pages of the peace index (mounted at /peace-index/)."""

from django.urls import URLPattern, path

from civicgrid.peace_index import views

urlpatterns: list[URLPattern] = [
    path("", views.public, name="peace-index-public"),
    path("dashboard/", views.dashboard, name="peace-index-dashboard"),
]
