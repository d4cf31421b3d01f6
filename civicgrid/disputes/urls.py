"""Pages of dispute resolution (mounted at /disputes/)."""

from django.urls import path

from civicgrid.disputes import views

app_name = "disputes"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("<str:code>/", views.case_detail, name="detail"),
    path("<str:code>/step/", views.case_step, name="step"),
    path("<str:code>/own/", views.case_own, name="own"),
    path("<str:code>/subsidy/", views.case_subsidise, name="subsidy"),
]
