"""URL map: admin, REST API v1 with its OpenAPI schema and docs, pages."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from civicgrid.accounts import api as accounts_api
from civicgrid.core import api_personal
from civicgrid.events import api as events_api
from civicgrid.events import api_supervision as sup_api
from civicgrid.regions import api as regions_api

admin.site.site_header = _("CivicGrid administration")
admin.site.site_title = _("CivicGrid")
admin.site.index_title = _("Administration")

api_v1: list[URLPattern | URLResolver] = [
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
    path("events/", events_api.EventListCreate.as_view(), name="event-list"),
    path("events/routing/", events_api.RoutingView.as_view(), name="event-routing"),
    path("events/stats/", sup_api.EventStatsView.as_view(), name="event-stats"),
    path("events/<str:code>/", events_api.EventDetail.as_view(), name="event-detail"),
    path(
        "events/<str:code>/actions/",
        events_api.EventActionView.as_view(),
        name="event-action",
    ),
    path(
        "events/<str:code>/whistles/",
        sup_api.WhistleView.as_view(),
        name="event-whistle",
    ),
    path(
        "events/<str:code>/supervision/",
        sup_api.SupervisionOrderView.as_view(),
        name="event-supervision",
    ),
    path(
        "events/<str:code>/duplicates/",
        sup_api.DuplicatesView.as_view(),
        name="event-duplicates",
    ),
    path(
        "whistle-calls/<int:pk>/check-in/",
        sup_api.WhistleCheckIn.as_view(),
        name="whistle-check-in",
    ),
    path(
        "supervision/<int:pk>/answer/",
        sup_api.SupervisionAnswerView.as_view(),
        name="supervision-answer",
    ),
    path("inbox/", sup_api.InboxView.as_view(), name="inbox"),
    path("inbox/<int:pk>/read/", sup_api.InboxRead.as_view(), name="inbox-read"),
    path("public/reports/", events_api.PublicReport.as_view(), name="public-report"),
    path(
        "public/reports/<str:code>/",
        events_api.PublicTrack.as_view(),
        name="public-track",
    ),
    path(
        "personal-data/reveal/",
        api_personal.PersonalRevealView.as_view(),
        name="personal-reveal",
    ),
    path("peace-index/", include("civicgrid.peace_index.api_urls")),
    path("disputes/", include("civicgrid.disputes.api_urls")),
    path("registry/", include("civicgrid.registry.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("civicgrid.accounts.urls")),
    path("peace-index/", include("civicgrid.peace_index.urls")),
    path("disputes/", include("civicgrid.disputes.urls")),
    path("workbench/households/", include("civicgrid.registry.urls_staff")),
    path("workbench/", include("civicgrid.events.urls_staff")),
    path("report/", include("civicgrid.events.urls_public")),
    path("open311/", include("civicgrid.exchange.open311_urls")),
    path("exchange/v1/", include("civicgrid.exchange.push_urls")),
    path("exchange/", include("civicgrid.exchange.urls")),
    path("", include("civicgrid.web.urls")),
]
