"""Workbench pages for staff (mounted at /workbench/)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from civicgrid.events import views_staff
from civicgrid.web.views import SignOutView

app_name = "workbench"

urlpatterns = [
    path("", views_staff.queue, name="queue"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="events/login.html",
            redirect_authenticated_user=True,
            next_page=reverse_lazy("workbench:queue"),
        ),
        name="login",
    ),
    path(
        "logout/",
        SignOutView.as_view(next_page=reverse_lazy("workbench:login")),
        name="logout",
    ),
    path("events/<str:code>/", views_staff.detail, name="detail"),
    path("events/<str:code>/act/", views_staff.act, name="act"),
    path(
        "events/<str:code>/reveal-phone/",
        views_staff.reveal_phone,
        name="reveal_phone",
    ),
    path("attachments/<int:pk>/", views_staff.attachment, name="attachment"),
]
