"""Back office for users, departments and staff posts."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Department, StaffPost, User
from civicgrid.accounts.services import staff_post_save_from_admin


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
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Profile"), {"fields": ("display_name", "phone")}),
    )
    inlines = [StaffPostInline]

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        if formset.model is not StaffPost:
            return super().save_formset(request, form, formset, change)
        for post in formset.save(commit=False):
            staff_post_save_from_admin(actor=request.user, post=post)
        for post in formset.deleted_objects:
            post.delete()


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
