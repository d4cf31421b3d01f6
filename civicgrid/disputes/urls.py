"""Pages of dispute resolution (mounted at /disputes/)."""

from django.urls import path

from civicgrid.disputes import views, views_case, views_consult, views_registry

app_name = "disputes"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    # the registry, reports and consultations (before the case codes)
    path("organisations/", views_registry.organisation_list, name="organisations"),
    path(
        "organisations/<int:pk>/",
        views_registry.organisation_detail,
        name="organisation",
    ),
    path("mediators/", views_registry.mediator_list, name="mediators"),
    path("mediators/<int:pk>/", views_registry.mediator_detail, name="mediator"),
    path("stats/", views_registry.stats, name="stats"),
    path("subsidies/", views_registry.ledger, name="ledger"),
    path("subsidies/export/", views_registry.ledger_export, name="ledger_export"),
    path("subsidies/budget/", views_registry.budget, name="budget"),
    path("consultations/", views_consult.consultation_list, name="consultations"),
    path(
        "consultations/new/",
        views_consult.consultation_new,
        name="consultation_new",
    ),
    path(
        "consultations/<int:pk>/",
        views_consult.consultation_detail,
        name="consultation",
    ),
    path(
        "consultations/<int:pk>/units/",
        views_consult.consultation_units,
        name="consultation_units",
    ),
    path(
        "consultations/<int:pk>/items/",
        views_consult.consultation_item_add,
        name="consultation_items",
    ),
    path(
        "consultations/<int:pk>/items/<int:item>/",
        views_consult.consultation_item_decide,
        name="consultation_item",
    ),
    path(
        "consultations/<int:pk>/items/<int:item>/done/",
        views_consult.consultation_follow_up_done,
        name="consultation_follow_up_done",
    ),
    # one case
    path("<str:code>/", views.case_detail, name="detail"),
    path("<str:code>/step/", views.case_step, name="step"),
    path("<str:code>/own/", views.case_own, name="own"),
    path("<str:code>/subsidy/", views.case_subsidise, name="subsidy"),
    path("<str:code>/recusal/", views_case.case_recusal, name="recusal"),
    path("<str:code>/rating/", views_case.case_rate, name="rate"),
    path("<str:code>/attachments/", views_case.case_attach, name="attach"),
    path(
        "<str:code>/attachments/<int:pk>/",
        views_case.case_attachment,
        name="attachment",
    ),
]
