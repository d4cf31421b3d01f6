"""The grid worker app (mounted at /app/)."""

from django.urls import path

from civicgrid.web import views_app, views_app_registry

app_name = "app"

urlpatterns = [
    path("", views_app.home, name="home"),
    path("manifest.webmanifest", views_app.manifest, name="manifest"),
    path("sw.js", views_app.service_worker, name="sw"),
    path("households/", views_app_registry.households, name="households"),
    path("households/<int:pk>/", views_app_registry.household, name="household"),
]
