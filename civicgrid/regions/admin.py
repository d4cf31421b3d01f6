"""Back office for regions and grids. Grid edits go through the services, so the
locate index and the audit log follow every change."""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import json_script
from django.utils.translation import gettext_lazy as _
from shapely.geometry import mapping, shape

from civicgrid.regions import services
from civicgrid.regions.coverage import (
    COVERAGE_LEVELS,
    CompactJSONEncoder,
    check_coverage,
    coverage_map_data,
)
from civicgrid.regions.crs import CRS, geometry_to_wgs84
from civicgrid.regions.models import Grid, Region
from civicgrid.regions.selectors import grid_neighbours_geojson, region_in_scope


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "population", "area_class")
    list_filter = ("level", "area_class")
    search_fields = ("code", "name")
    readonly_fields = (
        "code",
        "region_code",
        "parent",
        "city_code",
        "boundary_source",
        "data_source",
    )
    exclude = ("boundary",)
    change_form_template = "admin/regions/region/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/coverage/",
                self.admin_site.admin_view(self.coverage_view),
                name="regions_region_coverage",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = kwargs.get("obj")
        context["coverage_checked"] = bool(obj and obj.level in COVERAGE_LEVELS)
        return super().render_change_form(request, context, *args, **kwargs)

    def coverage_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The coverage report on a map: the region's grids, and every gap, overlap
        and spill beyond the boundary drawn over them with its area."""
        region = get_object_or_404(Region, pk=object_id)
        if not self.has_view_permission(request, region) or not region_in_scope(
            region, getattr(request.user, "scope_prefixes", [])
        ):
            raise PermissionDenied
        if region.level not in COVERAGE_LEVELS:
            raise Http404(_("Coverage is checked for a town, county or city."))
        report = check_coverage(region)
        data = coverage_map_data(region, report)
        return TemplateResponse(
            request,
            "admin/regions/region/coverage.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": region,
                "title": _("Grid coverage of %(name)s") % {"name": region.name},
                "report": report,
                "pieces": [*report.gaps, *report.overlaps, *report.outside],
                "map_overview": data["outlines"] is not None,
                # Compact separators: the city overview is a large drawing.
                "map_data": json_script(
                    data,
                    "coverage-data",
                    encoder=CompactJSONEncoder,
                ),
            },
        )


class GridForm(forms.ModelForm):
    geojson = forms.CharField(
        label=_("boundary (GeoJSON geometry)"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
    )
    crs = forms.ChoiceField(
        label=_("coordinate system of the GeoJSON"),
        choices=[
            (CRS.WGS84.value, "WGS-84"),
            (CRS.GCJ02.value, _("GCJ-02 (Amap, Tencent)")),
            (CRS.BD09.value, _("BD-09 (Baidu)")),
        ],
        initial=CRS.WGS84.value,
    )

    class Meta:
        model = Grid
        fields = ["code", "name", "households", "population"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["geojson"].initial = json.dumps(mapping(self.instance.geometry))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            geom = shape(json.loads(data.get("geojson") or ""))
            data["geometry_wgs84"] = geometry_to_wgs84(geom, data.get("crs", CRS.WGS84))
        except Exception as exc:  # bad JSON and bad geometry raise various types
            raise forms.ValidationError(
                _("Unreadable GeoJSON geometry: %(e)s"), params={"e": exc}
            ) from None
        code = self.instance.code if self.instance.pk else data.get("code", "")
        try:
            services.grid_validate_geometry(code, data["geometry_wgs84"])
            if not self.instance.pk:
                services.village_for_grid_code(code)
        except services.GridError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    form = GridForm
    list_display = ("code", "name", "village", "area_m2", "households", "updated_at")
    search_fields = ("code", "name")
    list_select_related = ("village",)
    readonly_fields = ("area_m2", "updated_at")

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = kwargs.get("obj")
        context["grid_neighbours"] = grid_neighbours_geojson(obj) if obj else None
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Grid, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.grid_update(
                    actor=request.user,
                    grid=obj,
                    name=data["name"],
                    geometry=data["geometry_wgs84"],
                    households=data.get("households"),
                    population=data.get("population"),
                )
            else:
                created = services.grid_create(
                    actor=request.user,
                    code=data["code"],
                    name=data["name"],
                    geometry=data["geometry_wgs84"],
                    households=data.get("households"),
                    population=data.get("population"),
                    data_source="admin",
                )
                obj.pk = created.pk
        except services.GridError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def delete_model(self, request: HttpRequest, obj: Grid) -> None:
        services.grid_delete(actor=request.user, grid=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for grid in queryset:
            services.grid_delete(actor=request.user, grid=grid)
