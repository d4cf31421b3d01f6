"""URLs of the disputes API, mounted at /api/v1/disputes/."""

from django.urls import path

from civicgrid.disputes import api, api_attachments, api_consult, api_registry

urlpatterns = [
    path("cases/", api.CaseListCreate.as_view(), name="dispute-case-list"),
    path("cases/<str:code>/", api.CaseDetail.as_view(), name="dispute-case-detail"),
    path("cases/<str:code>/steps/", api.CaseStep.as_view(), name="dispute-case-step"),
    path(
        "cases/<str:code>/diversion/",
        api.CaseDiversion.as_view(),
        name="dispute-case-diversion",
    ),
    path(
        "cases/<str:code>/experts/",
        api.CaseExperts.as_view(),
        name="dispute-case-experts",
    ),
    path(
        "cases/<str:code>/recusals/",
        api.CaseRecusal.as_view(),
        name="dispute-case-recusal",
    ),
    path(
        "cases/<str:code>/leader/", api.CaseLeader.as_view(), name="dispute-case-leader"
    ),
    path(
        "cases/<str:code>/subsidy/",
        api.CaseSubsidy.as_view(),
        name="dispute-case-subsidy",
    ),
    path(
        "cases/<str:code>/attachments/",
        api_attachments.CaseAttachments.as_view(),
        name="dispute-case-attachments",
    ),
    path(
        "cases/<str:code>/attachments/<int:pk>/",
        api_attachments.CaseAttachmentDownload.as_view(),
        name="dispute-case-attachment",
    ),
    path(
        "cases/<str:code>/ratings/",
        api_registry.CaseRating.as_view(),
        name="dispute-case-rating",
    ),
    path(
        "organisations/",
        api_registry.OrganisationList.as_view(),
        name="dispute-organisation-list",
    ),
    path(
        "mediators/", api_registry.MediatorList.as_view(), name="dispute-mediator-list"
    ),
    path(
        "consultations/",
        api_registry.ConsultationListCreate.as_view(),
        name="dispute-consultation-list",
    ),
    path(
        "consultations/<int:pk>/",
        api_consult.ConsultationDetail.as_view(),
        name="dispute-consultation-detail",
    ),
    path(
        "consultations/<int:pk>/items/",
        api_consult.ConsultationItemAdd.as_view(),
        name="dispute-consultation-items",
    ),
    path(
        "consultations/<int:pk>/items/<str:code>/decision/",
        api_consult.ConsultationDecision.as_view(),
        name="dispute-consultation-decision",
    ),
    path(
        "consultations/<int:pk>/items/<str:code>/follow-up/",
        api_consult.ConsultationFollowUpDone.as_view(),
        name="dispute-consultation-follow-up",
    ),
    path(
        "consultations/<int:pk>/attendees/",
        api_consult.ConsultationUnits.as_view(),
        name="dispute-consultation-attendees",
    ),
    path("stats/", api_registry.StatsView.as_view(), name="dispute-stats"),
    path(
        "subsidies/ledger/",
        api_registry.SubsidyLedger.as_view(),
        name="dispute-subsidy-ledger",
    ),
    path(
        "subsidies/budget/",
        api_registry.SubsidyBudgetView.as_view(),
        name="dispute-subsidy-budget",
    ),
]
