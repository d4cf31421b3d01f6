"""/exchange/: pages of the exchange."""

from django.urls import path

from civicgrid.exchange import views

app_name = "exchange_pages"
urlpatterns = [
    path("cities/", views.cities, name="cities"),
    path("bulk/", views.bulk, name="bulk"),
]
