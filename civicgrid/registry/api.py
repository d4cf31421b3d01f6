"""REST API of the registry (/api/v1/registry/): households with their members
(personal data masked), information collections and household visits. Writes take
an Idempotency-Key so that a phone sending again after a lost answer changes
nothing twice."""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import HasRole, IsStaffMember
from civicgrid.core.reports import ImportRejected
from civicgrid.events.errors import EventError
from civicgrid.events.uploads import check_photos
from civicgrid.regions.models import Grid
from civicgrid.registry import selectors, services
from civicgrid.registry.errors import (
    IdempotencyConflict,
    OutsideScope,
    RegistryError,
    StaleHousehold,
)
from civicgrid.registry.imports import households_import
from civicgrid.registry.models import (
    Household,
    HouseKind,
    Relation,
    Residence,
    SpecialGroup,
    Visit,
    VisitKind,
)

RECENT_VISITS = 20
KEY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)


class RegistryPermission(IsStaffMember):
    """Staff holding one of the registry's roles (superusers always pass)."""

    message = HasRole.message

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and selectors.may_use_registry(
            request.user
        )


# --- shapes ------------------------------------------------------------------------


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="masked")
    id_number = serializers.CharField(help_text="masked")
    phone = serializers.CharField(help_text="masked")
    relation = serializers.ChoiceField(choices=Relation.choices)
    relation_label = serializers.CharField()
    residence = serializers.ChoiceField(choices=Residence.choices)
    residence_label = serializers.CharField()
    groups = serializers.ListField(child=serializers.ChoiceField(SpecialGroup.choices))
    active = serializers.BooleanField()


class HouseholdOut(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    members = serializers.IntegerField(default=None, allow_null=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "grid",
            "grid_name",
            "region_code",
            "address",
            "kind",
            "lon",
            "lat",
            "note",
            "version",
            "last_visit_at",
            "members",
            "updated_at",
        ]


class VisitOut(serializers.ModelSerializer):
    worker = serializers.CharField(source="worker.get_username")
    event = serializers.CharField(source="event.code", default=None, allow_null=True)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "region_code",
            "worker",
            "visited_at",
            "kind",
            "lon",
            "lat",
            "notes",
            "follow_up",
            "event",
            "photos",
            "created_at",
        ]

    def get_photos(self, visit: Visit) -> int:
        return len(visit.photos.all())


class HouseholdDetailOut(HouseholdOut):
    persons = serializers.SerializerMethodField()
    visits = serializers.SerializerMethodField()

    class Meta(HouseholdOut.Meta):
        fields = [*HouseholdOut.Meta.fields, "persons", "visits"]

    @extend_schema(responses=PersonOut(many=True))  # type: ignore[misc]
    def get_persons(self, household: Household) -> list[dict[str, Any]]:
        return selectors.household_members(self.context["request"].user, household)

    @extend_schema(responses=VisitOut(many=True))  # type: ignore[misc]
    def get_visits(self, household: Household) -> list[dict[str, Any]]:
        visits = (
            household.visits.select_related("worker", "event")
            .prefetch_related("photos")
            .order_by("-visited_at", "-id")[:RECENT_VISITS]
        )
        return list(VisitOut(visits, many=True).data)


class PersonIn(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="a member to update")
    name = serializers.CharField(max_length=50, required=False)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    relation = serializers.ChoiceField(Relation.choices, required=False)
    residence = serializers.ChoiceField(Residence.choices, required=False)
    groups = serializers.ListField(
        child=serializers.ChoiceField(SpecialGroup.choices), required=False
    )
    active = serializers.BooleanField(required=False)


class CollectionIn(serializers.Serializer):
    household = serializers.IntegerField(
        required=False, help_text="the household to update; none registers a new one"
    )
    grid = serializers.CharField(
        max_length=15, required=False, help_text="the grid of a new household"
    )
    version = serializers.IntegerField(
        required=False, help_text="the household's version the edit was made on"
    )
    address = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(HouseKind.choices, required=False)
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    persons = PersonIn(many=True, required=False)
    collected_at = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "household" in attrs and "version" not in attrs:
            raise ValidationError({"version": _("An update needs the version.")})
        if "household" not in attrs and "grid" not in attrs:
            raise ValidationError({"grid": _("Name the household or its grid.")})
        return attrs


class CollectionOut(serializers.Serializer):
    collection = serializers.IntegerField()
    household = HouseholdDetailOut()


class VisitIn(serializers.Serializer):
    household = serializers.IntegerField()
    kind = serializers.ChoiceField(VisitKind.choices, default=VisitKind.ROUTINE)
    visited_at = serializers.DateTimeField(required=False)
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    follow_up = serializers.BooleanField(default=False)
    follow_up_title = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )


# --- helpers -------------------------------------------------------------------------


def _key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key") or None
    if key and len(key) > 100:
        raise RegistryError("Idempotency-Key longer than 100 characters")
    return key


def error_response(exc: Exception, request: Request) -> Response:
    if isinstance(exc, StaleHousehold):
        return Response(
            {
                "detail": _(
                    "Someone changed this household first; here is its current state."
                ),
                "household": HouseholdDetailOut(
                    exc.household, context={"request": request}
                ).data,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IdempotencyConflict):
        return Response(
            {"detail": _("This Idempotency-Key was used for a different request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, OutsideScope):
        return Response(
            {"detail": _("No such household or grid in your regions.")},
            status=status.HTTP_404_NOT_FOUND,
        )
    assert isinstance(exc, RegistryError | EventError)
    body: dict[str, Any] = {"detail": str(exc)}
    if exc.field:
        body["field"] = exc.field
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _household(request: Request, pk: Any) -> Household:
    household = (
        selectors.households_visible(request.user)
        .select_related("grid")
        .filter(pk=pk)
        .first()
    )
    if household is None:
        raise Http404(_("No such household in your regions."))
    return household


# --- views ---------------------------------------------------------------------------


class HouseholdList(generics.ListAPIView):
    """Households of the caller's regions (members counted, no personal data)."""

    permission_classes = [RegistryPermission]
    serializer_class = HouseholdOut
    queryset = Household.objects.none()  # for the schema; get_queryset scopes it

    @extend_schema(
        parameters=[
            OpenApiParameter("grid", str, description="grid code (prefix)"),
            OpenApiParameter("q", str, description="part of the address"),
            OpenApiParameter("group", str, description="special group of a member"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        try:
            return selectors.household_list(
                self.request.user, self.request.query_params
            )
        except ValueError as exc:
            raise ValidationError({"group": str(exc)}) from None


class HouseholdDetail(APIView):
    """One household with its members (masked) and its latest visits."""

    permission_classes = [RegistryPermission]

    @extend_schema(responses=HouseholdDetailOut)
    def get(self, request: Request, pk: int) -> Response:
        household = _household(request, pk)
        return Response(
            HouseholdDetailOut(household, context={"request": request}).data
        )


class CollectionCreate(APIView):
    """Information collection (信息采集): register a household in a grid, or update
    one at the version it was read at (409 if someone changed it since), with its
    members. Idempotent on the Idempotency-Key (422 for the same key with another
    body)."""

    permission_classes = [RegistryPermission]
    parser_classes = [JSONParser]

    @extend_schema(
        request=CollectionIn,
        parameters=[KEY_HEADER],
        responses={
            201: CollectionOut,
            200: CollectionOut,
            400: OpenApiTypes.OBJECT,
            404: OpenApiTypes.OBJECT,
            409: OpenApiTypes.OBJECT,
            422: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        data = CollectionIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        try:
            key = _key(request)
            household = (
                _household(request, v["household"]) if "household" in v else None
            )
            grid = None
            if household is None:
                grid = Grid.objects.filter(code=v["grid"]).first()
                if grid is None:
                    raise OutsideScope(v["grid"])
            payload = {**v, "caller": request.user.pk}
            collection, created = services.household_collect(
                actor=request.user,
                household=household,
                grid=grid,
                version=v.get("version"),
                fields={k: v[k] for k in services.HOUSEHOLD_FIELDS if k in v},
                persons=v.get("persons", []),
                collected_at=v.get("collected_at"),
                idempotency_key=key,
                digest=services.request_digest(payload) if key else "",
            )
        except (
            RegistryError,
            StaleHousehold,
            IdempotencyConflict,
            OutsideScope,
        ) as exc:
            return error_response(exc, request)
        household = _household(request, collection.household_id)
        body = {
            "collection": collection.pk,
            "household": HouseholdDetailOut(
                household, context={"request": request}
            ).data,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class HouseholdImport(APIView):
    """Households from Excel (.xlsx) or CSV: one row per person (网格编码, 住址,
    房屋类别, 姓名, 身份证号, 联系电话, 与户主关系, 人口类别, 特殊人群); the rows of one
    address make one household. Any bad row rejects the file (400 with every bad
    row); nothing is written then."""

    permission_classes = [RegistryPermission]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": _("Send the file as 'file'.")})
        try:
            report = households_import(
                actor=request.user, content=upload.read(), file_name=upload.name or ""
            )
        except ImportRejected as exc:
            return Response(exc.report.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class VisitListCreate(generics.ListAPIView):
    """Visits in the caller's regions, newest first (``?household=`` narrows); POST
    records one (multipart with photos; Idempotency-Key makes retries safe)."""

    permission_classes = [RegistryPermission]
    serializer_class = VisitOut
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = Visit.objects.none()

    @extend_schema(
        parameters=[OpenApiParameter("household", int, description="household id")]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = selectors.visits_visible(self.request.user).select_related(
            "worker", "event"
        )
        household = self.request.query_params.get("household", "")
        if household:
            if not household.isdigit():
                raise ValidationError({"household": _("A household id is a number.")})
            qs = qs.filter(household_id=int(household))
        return qs.prefetch_related("photos").order_by("-visited_at", "-id")

    @extend_schema(
        request={"multipart/form-data": VisitIn, "application/json": VisitIn},
        parameters=[KEY_HEADER],
        responses={
            201: VisitOut,
            200: VisitOut,
            400: OpenApiTypes.OBJECT,
            422: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        data = VisitIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        household = _household(request, v["household"])
        files = request.FILES.getlist("photos") if hasattr(request, "FILES") else []
        try:
            key = _key(request)
            photos = check_photos([(f.name, f.read()) for f in files])
            payload = {**v, "caller": request.user.pk}
            visit, created = services.visit_record(
                actor=request.user,
                household=household,
                kind=v["kind"],
                visited_at=v.get("visited_at"),
                lon=v.get("lon"),
                lat=v.get("lat"),
                notes=v.get("notes", ""),
                follow_up=v["follow_up"],
                follow_up_title=v.get("follow_up_title", ""),
                photos=photos,
                idempotency_key=key,
                digest=services.request_digest(payload, photos) if key else "",
            )
        except (RegistryError, EventError, IdempotencyConflict, OutsideScope) as exc:
            return error_response(exc, request)
        return Response(
            VisitOut(visit).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class VisitDetail(APIView):
    permission_classes = [RegistryPermission]

    @extend_schema(responses=VisitOut)
    def get(self, request: Request, pk: int) -> Response:
        visit = (
            selectors.visits_visible(request.user)
            .select_related("worker", "event")
            .filter(pk=pk)
            .first()
        )
        if visit is None:
            raise Http404(_("No such visit in your regions."))
        return Response(VisitOut(visit).data)
