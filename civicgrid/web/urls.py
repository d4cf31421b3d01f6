"""Pages: the home page, the grid worker app and the leadership dashboard."""

from django.urls import include, path

from civicgrid.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("app/", include("civicgrid.web.urls_app")),
    path("dashboard/", include("civicgrid.web.urls_dashboard")),
]
