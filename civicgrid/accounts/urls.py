"""Account steps (mounted at /accounts/)."""

from django.urls import path

from civicgrid.accounts import views

app_name = "accounts"

urlpatterns = [
    path("otp/", views.otp_step, name="otp"),
    path("password/", views.password_change, name="password_change"),
]
