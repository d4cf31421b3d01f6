"""URL map: admin, REST API v1 with its OpenAPI schema and docs, pages."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from civicgrid.accounts import api as accounts_api
from civicgrid.regions import api as regions_api

admin.site.site_header = _("CivicGrid administration")
admin.site.site_title = _("CivicGrid")
admin.site.index_title = _("Administration")

api_v1 = [
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("departments/", accounts_api.DepartmentList.as_view(), name="department-list"),
    path("regions/", regions_api.RegionList.as_view(), name="region-list"),
    path(
        "regions/<str:code>/", regions_api.RegionDetail.as_view(), name="region-detail"
    ),
    path(
        "regions/<str:code>/children/",
        regions_api.RegionChildren.as_view(),
        name="region-children",
    ),
    path(
        "regions/<str:code>/ancestors/",
        regions_api.RegionAncestors.as_view(),
        name="region-ancestors",
    ),
    path(
        "regions/<str:code>/coverage/",
        regions_api.CoverageView.as_view(),
        name="region-coverage",
    ),
    path("grids/", regions_api.GridList.as_view(), name="grid-list"),
    path("grids/import/", regions_api.GridImport.as_view(), name="grid-import"),
    path("grids/<str:code>/", regions_api.GridDetail.as_view(), name="grid-detail"),
    path("locate", regions_api.LocateView.as_view(), name="locate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("civicgrid.web.urls")),
]
