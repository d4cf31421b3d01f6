"""Back office for users, departments and staff posts."""

from typing import Any

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Department, StaffPost, User
from civicgrid.accounts.services import (
    login_lockout_clear,
    staff_post_delete,
    staff_post_save_from_admin,
)


class StaffPostInline(admin.TabularInline):
    model = StaffPost
    fk_name = "user"
    extra = 0
    fields = ("role", "region", "department", "grid", "region_code", "active")
    readonly_fields = ("region_code",)
    raw_id_fields = ("region", "department", "grid")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "display_name",
        "is_active",
        "is_superuser",
        "last_login",
    )
    # Rights come from roles (staff posts) only: no per-user permissions or groups,
    # and superusers are made on the command line, never here.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Profile"),
            {"fields": ("display_name", "phone", "first_name", "last_name", "email")},
        ),
        (_("Status"), {"fields": ("is_active",)}),
        (
            _("Important dates"),
            {"fields": ("last_login", "date_joined", "password_changed_at")},
        ),
    )
    readonly_fields = ("last_login", "date_joined", "password_changed_at")
    list_filter = ("is_active", "is_superuser")
    inlines = [StaffPostInline]

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        if formset.model is not StaffPost:
            return super().save_formset(request, form, formset, change)
        for post in formset.save(commit=False):
            staff_post_save_from_admin(actor=request.user, post=post)
        for post in formset.deleted_objects:
            staff_post_delete(actor=request.user, post=post)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "level", "region_code")
    list_filter = ("kind", "level")
    search_fields = ("name", "region_code")
    raw_id_fields = ("region",)
    readonly_fields = ("region_code", "city_code")


@admin.register(StaffPost)
class StaffPostAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region_code", "department", "active")
    list_filter = ("role", "active")
    raw_id_fields = ("user", "region", "department", "grid")
    readonly_fields = ("region_code", "city_code")

    def save_model(
        self, request: HttpRequest, obj: StaffPost, form: Any, change: bool
    ) -> None:
        staff_post_save_from_admin(actor=request.user, post=obj)

    def delete_model(self, request: HttpRequest, obj: StaffPost) -> None:
        staff_post_delete(actor=request.user, post=obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[StaffPost]
    ) -> None:
        for post in queryset:
            staff_post_delete(actor=request.user, post=post)


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """django-axes' lockouts; deleting one unlocks that user name and address,
    with an audit record."""

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        """The unlock writes its own audit record (``login.unlock``, with the user
        name): the admin's generic deletion entry would only repeat it."""
        return []

    def delete_model(self, request: HttpRequest, obj: AccessAttempt) -> None:
        login_lockout_clear(
            actor=request.user, attempts=AccessAttempt.objects.filter(pk=obj.pk)
        )

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[AccessAttempt]
    ) -> None:
        login_lockout_clear(actor=request.user, attempts=queryset)
