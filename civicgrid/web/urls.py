"""Pages."""

from django.urls import path

from civicgrid.web import views

urlpatterns = [path("", views.home, name="home")]
