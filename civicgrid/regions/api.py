"""REST API of regions and grids: tree, search, coverage, grids, locate."""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from shapely.geometry import mapping

from civicgrid.accounts.models import Role
from civicgrid.core.api import HasRole, IsStaffMember, scope_of
from civicgrid.core.ratelimit import ScopedWindowThrottle
from civicgrid.core.reports import ImportRejected
from civicgrid.regions import selectors
from civicgrid.regions.coverage import check_coverage
from civicgrid.regions.crs import CRS, to_wgs84, valid_lon_lat
from civicgrid.regions.grid_import import import_grids
from civicgrid.regions.locate import locator
from civicgrid.regions.models import Grid, Region


class RegionOut(serializers.ModelSerializer):
    prefix = serializers.CharField(source="region_code")

    class Meta:
        model = Region
        fields = [
            "code",
            "prefix",
            "name",
            "level",
            "parent",
            "city_code",
            "population",
            "households",
            "area_class",
        ]


class RegionBrief(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level"]


def _visible_region(request: Request, code: str) -> Region:
    region = selectors.region_by_any_code(code)
    if (
        region is None
        or not selectors.regions_visible(scope_of(request))
        .filter(pk=region.pk)
        .exists()
    ):
        raise Http404(_("No such region in your scope."))
    return region


class RegionList(generics.ListAPIView):
    """Regions in the caller's scope (and its ancestors); ``q`` searches names."""

    permission_classes = [IsStaffMember]
    serializer_class = RegionOut

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="name contains"),
            OpenApiParameter(
                "level", str, enum=["province", "city", "county", "town", "village"]
            ),
            OpenApiParameter("parent", str, description="parent's 12-digit code"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        qs = selectors.regions_visible(scope_of(self.request))
        if params.get("q"):
            qs = qs.filter(name__contains=params["q"].strip())
        if params.get("level"):
            qs = qs.filter(level=params["level"])
        if params.get("parent"):
            qs = qs.filter(parent_id=params["parent"])
        return qs.order_by("code")


class RegionDetail(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=RegionOut)
    def get(self, request: Request, code: str) -> Response:
        return Response(RegionOut(_visible_region(request, code)).data)


class RegionChildren(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = RegionOut

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Region.objects.none()
        region = _visible_region(self.request, self.kwargs["code"])
        return (
            selectors.regions_visible(scope_of(self.request))
            .filter(parent=region)
            .order_by("code")
        )


class RegionAncestors(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=RegionBrief(many=True))
    def get(self, request: Request, code: str) -> Response:
        region = _visible_region(request, code)
        return Response(RegionBrief(selectors.ancestors(region), many=True).data)


class CoverageView(APIView):
    """Every gap and overlap between the grids of a town, county or city (全域覆盖)."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        region = _visible_region(request, code)
        if not selectors.region_in_scope(region, scope_of(request)):
            raise PermissionDenied(_("This region is outside your scope."))
        if region.level not in ("town", "county", "city", "province"):
            raise ValidationError(
                {"detail": _("Coverage is checked for a town, county or city.")}
            )
        return Response(check_coverage(region).as_dict())


class GridOut(serializers.ModelSerializer):
    village = serializers.CharField(source="village_id")
    village_name = serializers.CharField(source="village.name")

    class Meta:
        model = Grid
        fields = [
            "code",
            "name",
            "village",
            "village_name",
            "area_m2",
            "households",
            "population",
        ]


class GridDetailOut(GridOut):
    geometry = serializers.SerializerMethodField()

    class Meta(GridOut.Meta):
        fields = [*GridOut.Meta.fields, "geometry"]

    def get_geometry(self, grid: Grid) -> dict[str, Any]:
        return mapping(grid.geometry)


class GridList(generics.ListAPIView):
    """Grids in the caller's scope; ``region`` narrows to a region's code prefix."""

    permission_classes = [IsStaffMember]
    serializer_class = GridOut

    @extend_schema(
        parameters=[OpenApiParameter("region", str, description="region code prefix")]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = selectors.grids_visible(scope_of(self.request)).select_related("village")
        prefix = self.request.query_params.get("region", "").strip()
        if prefix:
            qs = qs.filter(region_code__startswith=prefix)
        return qs.order_by("code")


class GridDetail(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=GridDetailOut)
    def get(self, request: Request, code: str) -> Response:
        grid = (
            selectors.grids_visible(scope_of(request))
            .select_related("village")
            .filter(code=code)
            .first()
        )
        if grid is None:
            raise Http404(_("No such grid in your scope."))
        return Response(GridDetailOut(grid).data)


class GridImportIn(serializers.Serializer):
    file = serializers.FileField()
    crs = serializers.ChoiceField(choices=[c.value for c in CRS])
    partial = serializers.BooleanField(default=False)  # type: ignore[assignment]


class GridImport(APIView):
    """Upload grids as GeoJSON; every bad feature is reported and nothing is written."""

    permission_classes = [HasRole]
    required_roles = [Role.SYSADMIN]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": GridImportIn}, responses=OpenApiTypes.OBJECT
    )
    def post(self, request: Request) -> Response:
        data = GridImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > 50 * 1024 * 1024:
            raise ValidationError({"file": _("File larger than 50 MB.")})
        try:
            report = import_grids(
                upload.read(),
                crs=data.validated_data["crs"],
                actor=request.user,
                file=upload.name,
                partial=data.validated_data["partial"],
                scope=scope_of(request),
            )
        except ImportRejected as exc:
            return Response(
                {
                    "detail": _("Bad features; nothing was imported."),
                    **exc.report.as_dict(),
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class LocateIn(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.ChoiceField(
        choices=[c.value for c in CRS], default=CRS.WGS84.value
    )


class LocateOut(serializers.Serializer):
    grid = serializers.DictField()
    point = serializers.DictField()
    regions = RegionBrief(many=True)


class LocateView(APIView):
    """The grid holding a point, and its full region chain (province → village)."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedWindowThrottle]
    throttle_scope = "locate"

    @extend_schema(
        parameters=[LocateIn],
        responses={200: LocateOut, 400: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = LocateIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        lon, lat = params.validated_data["lon"], params.validated_data["lat"]
        if not valid_lon_lat(lon, lat):
            raise ValidationError(
                {"detail": _("Longitude must be within ±180 and latitude within ±90.")}
            )
        wlon, wlat = to_wgs84(lon, lat, params.validated_data["crs"])
        locator.refresh()
        code = locator.locate(wlon, wlat)
        found = selectors.grid_with_chain(code) if code else None
        if found is None:
            return Response(
                {"detail": _("The point is not inside any grid.")},
                status=status.HTTP_404_NOT_FOUND,
            )
        grid, chain = found
        return Response(
            {
                "grid": {"code": grid.code, "name": grid.name},
                "point": {"lon": round(wlon, 7), "lat": round(wlat, 7), "crs": "wgs84"},
                "regions": RegionBrief(chain, many=True).data,
            }
        )
