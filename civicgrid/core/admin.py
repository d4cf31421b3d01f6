"""Read-only audit log in the admin: the trail is never edited by hand."""

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.core.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "region_code",
    )
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id", "region_code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
