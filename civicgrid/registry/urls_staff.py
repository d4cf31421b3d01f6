"""Households on the staff workbench (mounted at /workbench/households/)."""

from django.urls import path

from civicgrid.registry import views_staff

app_name = "households"

urlpatterns = [
    path("", views_staff.households, name="list"),
    path("import/", views_staff.household_import, name="import"),
    path("<int:pk>/", views_staff.household, name="detail"),
]
