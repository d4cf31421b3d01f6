"""REST API of the peace index: published figures (public), results, runs, imports,
rectifications, notices, reports and the map (staff, region-scoped)."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.accounts.models import Role, User
from civicgrid.core.api import HasRole, IsStaffMember, scope_of
from civicgrid.core.reports import ImportRejected
from civicgrid.core.scope import covers
from civicgrid.peace_index import selectors, services
from civicgrid.peace_index.imports import counts_import, parse_month
from civicgrid.peace_index.maps import map_geojson
from civicgrid.peace_index.models import (
    AreaResult,
    IndexKind,
    MonthRun,
    Rectification,
    Report,
)
from civicgrid.peace_index.rectification import (
    rectification_close,
    rectification_update,
)
from civicgrid.peace_index.reports import report_deliver
from civicgrid.regions.selectors import region_by_any_code

KIND = OpenApiParameter("kind", str, enum=[k.value for k in IndexKind])
MONTH = OpenApiParameter("month", str, description="YYYY-MM")


def _kind(request: Request) -> str:
    kind = request.query_params.get("kind", IndexKind.PEACE)
    if kind not in IndexKind.values:
        raise ValidationError({"detail": _("Unknown index.")})
    return kind


# The list endpoints answer a JSON array of objects.
OBJECT_LIST = {"type": "array", "items": {"type": "object"}}


class PublishedArea(APIView):
    """Published figures of an area (anyone): its last 12 published months and the
    areas directly below it in the latest one."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[KIND], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        region = region_by_any_code(code)
        published = selectors.results_published(_kind(request)).select_related("region")
        if region is None:
            raise Http404(_("No published figures for this area."))
        month = selectors.latest_month(published.filter(region_code=region.region_code))
        if month is None:
            raise Http404(_("No published figures for this area."))
        history = selectors.area_history(published, region.region_code, month)
        children = list(
            published.filter(month=month, parent_code=region.region_code).order_by(
                "rank", "region_code"
            )
        )
        names = selectors.item_names(history + children)
        return Response(
            {
                "area": {"code": region.code, "name": region.name},
                "latest": selectors.result_dict(history[-1], names),
                "history": [selectors.result_dict(r, names) for r in history],
                "children": [selectors.result_dict(r, names) for r in children],
            }
        )


class ResultList(APIView):
    """Results of a month in the caller's scope, in every state, with explanations."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[KIND, MONTH, OpenApiParameter("level", str)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        qs = selectors.results_visible(scope_of(request), _kind(request))
        month = request.query_params.get("month") or selectors.latest_month(qs)
        qs = qs.filter(month=month).select_related("region")
        if request.query_params.get("level"):
            qs = qs.filter(level=request.query_params["level"])
        rows = list(qs.order_by("level", "rank", "region_code")[:2000])
        names = selectors.item_names(rows)
        return Response(
            {
                "month": month,
                "results": [selectors.result_dict(r, names) for r in rows],
            }
        )


class RunIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IndexKind.choices, default=IndexKind.PEACE)
    city = serializers.CharField(max_length=4, min_length=4)
    month = serializers.CharField(max_length=7)
    action = serializers.ChoiceField(choices=["compute", "review", "publish"])


class RunOut(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number")

    class Meta:
        model = MonthRun
        fields = [
            "kind",
            "city_code",
            "month",
            "status",
            "version",
            "input_digest",
            "computed_at",
            "computed_by",
            "reviewed_at",
            "reviewed_by",
            "published_at",
            "published_by",
        ]


class RunList(APIView):
    """Monthly runs of the caller's city; POST computes, reviews or publishes one
    (the city's center staff, or a system administrator)."""

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [HasRole()]
        return [IsStaffMember()]

    required_roles = [Role.CENTER_STAFF, Role.SYSADMIN, Role.LEADER]

    @extend_schema(responses=RunOut(many=True))
    def get(self, request: Request) -> Response:
        runs = selectors.runs_visible(scope_of(request)).select_related("version")
        return Response(RunOut(runs[:200], many=True).data)

    @extend_schema(request=RunIn, responses=RunOut)
    def post(self, request: Request) -> Response:
        data = RunIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        month = parse_month(v["month"])
        if month is None:
            raise ValidationError({"month": _("Use YYYY-MM.")})
        if not selectors.may_run_city(scope_of(request), v["city"]):
            raise PermissionDenied(_("Only the city's center runs its index."))
        try:
            if v["action"] == "compute":
                run = services.month_compute(
                    actor=request.user, kind=v["kind"], city_code=v["city"], month=month
                )
            else:
                found = MonthRun.objects.filter(
                    kind=v["kind"], city_code=v["city"], month=month
                ).first()
                if found is None:
                    raise Http404(_("This month has not been computed."))
                act = (
                    services.run_review
                    if v["action"] == "review"
                    else services.run_publish
                )
                run = act(actor=request.user, run=found)
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc
        return Response(RunOut(run).data)


class CountImportIn(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=IndexKind.choices, default=IndexKind.PEACE)
    data_source = serializers.SlugField(max_length=40)


class CountImportView(APIView):
    """Upload monthly counts (CSV or .xlsx: area code, month, item code, count).
    Every bad line is reported and nothing is written."""

    permission_classes = [HasRole]
    required_roles = [Role.CENTER_STAFF, Role.DEPARTMENT_STAFF, Role.SYSADMIN]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": CountImportIn}, responses=OpenApiTypes.OBJECT
    )
    def post(self, request: Request) -> Response:
        data = CountImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > 100 * 1024 * 1024:
            raise ValidationError({"file": _("File larger than 100 MB.")})
        try:
            report = counts_import(
                actor=request.user,
                kind=data.validated_data["kind"],
                content=upload.read(),
                file_name=upload.name,
                source=data.validated_data["data_source"],
                scope=scope_of(request),
            )
        except ImportRejected as exc:
            return Response(
                {
                    "detail": _("Bad rows; nothing was imported."),
                    **exc.report.as_dict(),
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


def _rect_dict(r: Rectification, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.pk,
        "kind": r.kind,
        "region_code": r.region_code,
        "name": r.region.name,
        "status": r.status,
        "listed_month": r.listed_month,
        "last_listed_month": r.last_listed_month,
        "months_listed": r.months_listed,
        "escalation_level": r.escalation_level,
        "owner": r.owner_id,
        "measures": r.measures,
        "closure_note": r.closure_note,
        "closed_at": r.closed_at,
    }
    if detail:
        out["progress"] = [
            {"at": p.at, "by": p.actor_label, "note": p.note}
            for p in r.progress.order_by("at", "id")
        ]
    return out


class RectificationList(APIView):
    """Areas listed for rectification (挂牌整治) in the caller's scope."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="peace_index_rectifications_list", responses={200: OBJECT_LIST}
    )
    def get(self, request: Request) -> Response:
        rows = selectors.rectifications_visible(scope_of(request))[:500]
        return Response([_rect_dict(r) for r in rows])


class RectificationIn(serializers.Serializer):
    owner = serializers.IntegerField(required=False)
    measures = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    progress = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class RectificationCloseIn(serializers.Serializer):
    note = serializers.CharField(max_length=4000)


RECT_ROLES = [Role.CENTER_STAFF, Role.LEADER, Role.SYSADMIN]


def _rectification(request: Request, pk: int) -> Rectification:
    rect = selectors.rectifications_visible(scope_of(request)).filter(pk=pk).first()
    if rect is None:
        raise Http404(_("No such rectification in your scope."))
    return rect


class RectificationDetail(APIView):
    """One rectification with its progress log. PATCH sets the owner and measures
    (the center's staff) or logs progress (they, or the owner)."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_rect_dict(_rectification(request, pk), detail=True))

    @extend_schema(request=RectificationIn, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: int) -> Response:
        rect = _rectification(request, pk)
        data = RectificationIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = request.user
        manager = user.is_superuser or bool(user.roles & set(RECT_ROLES))  # type: ignore[union-attr]
        if not manager and (rect.owner_id != user.pk or "owner" in v):
            raise PermissionDenied(_("Only the center or the owner may do this."))
        owner = None
        if "owner" in v:
            owner = User.objects.filter(pk=v["owner"]).first()
            if owner is None:
                raise ValidationError({"owner": _("No such user.")})
        try:
            rect = rectification_update(
                actor=user,
                rectification=rect,
                owner=owner,
                measures=v.get("measures"),
                progress=v.get("progress", ""),
            )
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc
        return Response(_rect_dict(rect, detail=True))


class RectificationCloseView(APIView):
    """Close a rectification (摘牌) with a note on what was achieved."""

    permission_classes = [HasRole]
    required_roles = RECT_ROLES

    @extend_schema(request=RectificationCloseIn, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        rect = _rectification(request, pk)
        data = RectificationCloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rect = rectification_close(
                actor=request.user, rectification=rect, note=data.validated_data["note"]
            )
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc
        return Response(_rect_dict(rect, detail=True))


class NoticeList(APIView):
    """The inboxes of the centers in the caller's scope."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="peace_index_notices_list", responses={200: OBJECT_LIST}
    )
    def get(self, request: Request) -> Response:
        rows = selectors.notices_visible(scope_of(request))[:500]
        return Response(
            [
                {
                    "id": n.pk,
                    "kind": n.kind,
                    "region_code": n.region_code,
                    "month": n.month,
                    "title": n.title,
                    "body": n.body,
                    "report": n.report_id,
                    "created_at": n.created_at,
                }
                for n in rows
            ]
        )


class ReportList(APIView):
    """The kept Word reports of the areas in the caller's scope (newest first)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="peace_index_reports_list",
        parameters=[KIND],
        responses={200: OBJECT_LIST},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.reports_visible(scope_of(request), _kind(request))[:500]
        return Response(
            [
                {
                    "id": r.pk,
                    "kind": r.kind,
                    "region_code": r.region_code,
                    "period": r.period,
                    "file_name": r.file_name,
                    "created_at": r.created_at,
                    "url": f"/api/v1/peace-index/reports/{r.region_code}/{r.period}/"
                    f"?kind={r.kind}",
                }
                for r in rows
            ]
        )


class ReportDownload(APIView):
    """The Word report of an area for a month (YYYY-MM) or quarter (YYYY-Qn): built
    and delivered to the area's inbox on first request, then served as kept."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[KIND], responses={(200, "application/octet-stream"): bytes}
    )
    def get(self, request: Request, code: str, period: str) -> HttpResponse:
        kind = _kind(request)
        region = region_by_any_code(code)
        if region is None or not covers(scope_of(request), region.region_code):
            raise Http404(_("No such area in your scope."))
        report = Report.objects.filter(
            kind=kind, region_code=region.region_code, period=period
        ).first()
        if report is None:
            try:
                report = report_deliver(
                    actor=request.user,
                    kind=kind,
                    region=region,
                    period=period,
                    published_only=False,
                )
            except AreaResult.DoesNotExist as exc:
                raise Http404(_("No figures for this period.")) from exc
        response = HttpResponse(
            bytes(report.content),
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        response["Content-Disposition"] = f'attachment; filename="{report.file_name}"'
        return response


class MapView(APIView):
    """The areas directly below a city or county as GeoJSON, each with its index of
    the month (for the dashboard map and its drill-down)."""

    permission_classes = [IsStaffMember]

    @extend_schema(parameters=[KIND, MONTH], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        region = region_by_any_code(code)
        if region is None or not covers(scope_of(request), region.region_code):
            raise Http404(_("No such area in your scope."))
        results = selectors.results_visible(scope_of(request), _kind(request))
        return Response(map_geojson(region, results, request.query_params.get("month")))
