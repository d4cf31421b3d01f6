"""/api/v1/registry/ (included by civicgrid.urls.api_v1)."""

from django.urls import path

from civicgrid.registry import api

urlpatterns = [
    path("households/", api.HouseholdList.as_view(), name="registry-household-list"),
    path(
        "households/import/",
        api.HouseholdImport.as_view(),
        name="registry-household-import",
    ),
    path(
        "households/<int:pk>/",
        api.HouseholdDetail.as_view(),
        name="registry-household-detail",
    ),
    path(
        "collections/",
        api.CollectionCreate.as_view(),
        name="registry-collection-create",
    ),
    path("visits/", api.VisitListCreate.as_view(), name="registry-visit-list"),
    path("visits/<int:pk>/", api.VisitDetail.as_view(), name="registry-visit-detail"),
]
