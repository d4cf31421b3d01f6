"""Back office: the registry read-only (it changes through information collections
and visits, which are audited), scoped to the viewer's regions, personal data masked."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.scope import prefixes_q
from civicgrid.registry.models import Collection, Household, Person, Visit


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        prefixes = getattr(request.user, "scope_prefixes", [])
        return super().get_queryset(request).filter(prefixes_q(prefixes))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonInline(admin.TabularInline):
    model = Person
    fields = ("masked_name", "masked_id", "relation", "residence", "groups", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("name"))
    def masked_name(self, person: Person) -> str:
        return mask(person.name, PersonalKind.NAME)

    @admin.display(description=_("ID number"))
    def masked_id(self, person: Person) -> str:
        return mask(person.id_number, PersonalKind.ID_NUMBER)


@admin.register(Household)
class HouseholdAdmin(ScopedReadOnlyAdmin):
    list_display = ("address", "grid", "kind", "last_visit_at", "version")
    list_filter = ("kind",)
    search_fields = ("address", "region_code")
    list_select_related = ("grid",)
    inlines = [PersonInline]
    exclude = ()


@admin.register(Visit)
class VisitAdmin(ScopedReadOnlyAdmin):
    list_display = ("household", "worker", "visited_at", "kind", "follow_up", "event")
    list_filter = ("kind", "follow_up")
    list_select_related = ("household", "worker", "event")
    date_hierarchy = "visited_at"


@admin.register(Collection)
class CollectionAdmin(ScopedReadOnlyAdmin):
    list_display = ("household", "worker", "collected_at", "version")
    list_select_related = ("household", "worker")
