"""Back office of the peace index: catalogues (edited through the services), runs,
results, rectifications and notices (read-only where figures are concerned)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.peace_index import catalogue
from civicgrid.peace_index.models import (
    AreaResult,
    CatalogueVersion,
    CountImport,
    Indicator,
    MonthRun,
    Notice,
    Rectification,
    RectificationProgress,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["code", "name", "category", "weight"]
    readonly_fields = ["code", "name", "category", "weight"]
    can_delete = False


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(ReadOnly):
    list_display = ["kind", "number", "label", "status", "created_at"]
    list_filter = ["kind", "status"]
    inlines = [IndicatorInline]
    actions = ["copy_to_draft", "activate"]

    @admin.action(description="复制为新草稿版本")
    def copy_to_draft(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            catalogue.catalogue_version_copy(actor=request.user, version=version)

    @admin.action(description="启用所选草稿版本")
    def activate(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            catalogue.catalogue_version_activate(actor=request.user, version=version)


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "weight", "version"]
    list_filter = ["version__kind", "category"]
    fields = ["code", "name", "category", "weight", "event_matters"]
    readonly_fields = ["code", "category"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        catalogue.indicator_update(
            actor=request.user,
            indicator=Indicator.objects.get(pk=obj.pk),
            weight=obj.weight,
            name=obj.name,
            event_matters=obj.event_matters,
        )


@admin.register(MonthRun)
class MonthRunAdmin(ReadOnly):
    list_display = ["kind", "city_code", "month", "status", "version", "computed_at"]
    list_filter = ["kind", "status"]


@admin.register(AreaResult)
class AreaResultAdmin(ReadOnly):
    list_display = ["month", "region_code", "level", "index", "rank", "warned"]
    list_filter = ["kind", "level", "warned"]
    search_fields = ["region_code"]


@admin.register(CountImport)
class CountImportAdmin(ReadOnly):
    list_display = ["imported_at", "source", "file_name", "rows", "imported_by"]


@admin.register(Rectification)
class RectificationAdmin(ReadOnly):
    list_display = ["region_code", "status", "listed_month", "months_listed"]
    list_filter = ["status"]


@admin.register(RectificationProgress)
class RectificationProgressAdmin(ReadOnly):
    list_display = ["rectification", "at", "actor_label"]


@admin.register(Notice)
class NoticeAdmin(ReadOnly):
    list_display = ["created_at", "kind", "region_code", "title"]
    list_filter = ["kind"]
