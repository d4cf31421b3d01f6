"""The grid worker app (mounted at /app/)."""

from django.urls import path

from civicgrid.web import views_app

app_name = "app"

urlpatterns = [
    path("", views_app.home, name="home"),
    path("manifest.webmanifest", views_app.manifest, name="manifest"),
    path("sw.js", views_app.service_worker, name="sw"),
]
