"""Citizen pages without an account (mounted at /report/)."""

from django.urls import path

from civicgrid.events import views_public

app_name = "report"

urlpatterns = [
    path("", views_public.report, name="form"),
    path("done/", views_public.done, name="done"),
    path("track/", views_public.track, name="track"),
    path("track/rate/", views_public.rate, name="rate"),
]
