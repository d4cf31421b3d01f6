"""REST API of the peace index (mounted at /api/v1/peace-index/)."""

from django.urls import URLPattern, path

from civicgrid.peace_index import api

urlpatterns: list[URLPattern] = [
    path(
        "published/<str:code>/",
        api.PublishedArea.as_view(),
        name="peace-index-published",
    ),
    path("results/", api.ResultList.as_view(), name="peace-index-results"),
    path("runs/", api.RunList.as_view(), name="peace-index-runs"),
    path("counts/import/", api.CountImportView.as_view(), name="peace-index-import"),
    path(
        "rectifications/",
        api.RectificationList.as_view(),
        name="peace-index-rectifications",
    ),
    path(
        "rectifications/<int:pk>/",
        api.RectificationDetail.as_view(),
        name="peace-index-rectification",
    ),
    path(
        "rectifications/<int:pk>/close/",
        api.RectificationCloseView.as_view(),
        name="peace-index-rectification-close",
    ),
    path("reports/", api.ReportList.as_view(), name="peace-index-report-list"),
    path("notices/", api.NoticeList.as_view(), name="peace-index-notices"),
    path(
        "reports/<str:code>/<str:period>/",
        api.ReportDownload.as_view(),
        name="peace-index-report",
    ),
    path("map/<str:code>/", api.MapView.as_view(), name="peace-index-map"),
]
