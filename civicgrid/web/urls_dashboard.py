"""The leadership dashboard (mounted at /dashboard/)."""

from django.urls import path

from civicgrid.web import views_dashboard

app_name = "dashboard"

urlpatterns = [
    path("", views_dashboard.page, name="page"),
    path("areas/<str:code>/", views_dashboard.figures, name="figures"),
    path("areas/<str:code>/live/", views_dashboard.live, name="live"),
]
