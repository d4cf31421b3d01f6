"""REST API of the dispute registry and reports: mediation organisations, the expert
pool, bi-weekly consultations, statistics and the subsidy ledger."""

import re
from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import HasRole, IsStaffMember, scope_of
from civicgrid.core.scope import covers, prefixes_q
from civicgrid.disputes import consultations, ratings, selectors, subsidies
from civicgrid.disputes.api import CENTER_ROLES, error_response, visible_case
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import (
    Consultation,
    MediationOrganisation,
    Mediator,
    Party,
    Subsidy,
)
from civicgrid.regions.models import Region

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _serving(prefixes: list[str]) -> Q:
    """Rows of the scope, or of an area above it (a county's organisation serves
    its towns)."""
    above = [p[:n] for p in prefixes for n in (4, 6, 9) if len(p) > n]
    return prefixes_q(prefixes) | Q(region_code__in=above)


class OrganisationOut(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = MediationOrganisation
        fields = ["id", "name", "channel", "fields", "level", "region_code", "members"]

    def get_members(self, org: MediationOrganisation) -> int:
        return org.members.count()


class OrganisationList(generics.ListAPIView):
    """Mediation organisations serving the caller's area (filter: channel)."""

    permission_classes = [IsStaffMember]
    serializer_class = OrganisationOut

    @extend_schema(parameters=[OpenApiParameter("channel", str)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = MediationOrganisation.objects.filter(
            _serving(scope_of(self.request)), active=True
        )
        if self.request.query_params.get("channel"):
            qs = qs.filter(channel=self.request.query_params["channel"])
        return qs.order_by("region_code", "name")


class MediatorOut(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", default=None)
    load = serializers.SerializerMethodField()
    record = serializers.SerializerMethodField()

    class Meta:
        model = Mediator
        fields = [
            "id",
            "name",
            "kind",
            "organisation",
            "organisation_name",
            "specialties",
            "regions",
            "region_code",
            "qualifications",
            "available",
            "max_load",
            "load",
            "record",
        ]

    def get_load(self, m: Mediator) -> int:
        return int(getattr(m, "open_cases", 0))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_record(self, m: Mediator) -> dict[str, Any]:
        return selectors.record_of(m)


class MediatorList(generics.ListAPIView):
    """The expert pool (专家库) serving the caller's area, with load and record."""

    permission_classes = [IsStaffMember]
    serializer_class = MediatorOut

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return (
            selectors.with_load_and_record(
                Mediator.objects.filter(_serving(scope_of(self.request)))
            )
            .select_related("organisation")
            .order_by("region_code", "name")
        )


class FollowUpIn(serializers.Serializer):
    """The follow-up assigned with a decision (an agenda item's, or a decision's)."""

    follow_up_department = serializers.IntegerField(
        required=False, allow_null=True, help_text="A department of the area (id)."
    )
    follow_up_unit = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="A unit outside the system (its name).",
    )
    follow_up_due = serializers.DateField(required=False, allow_null=True)


class ConsultationItemIn(FollowUpIn):
    case = serializers.CharField(max_length=24)
    decision = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class ConsultationIn(serializers.Serializer):
    region = serializers.CharField(max_length=12)
    held_on = serializers.DateField()
    attendees = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1
    )
    items = ConsultationItemIn(many=True)


class ConsultationOut(serializers.ModelSerializer):
    items = serializers.SerializerMethodField()
    chair = serializers.CharField(source="chair.get_username")

    class Meta:
        model = Consultation
        fields = ["id", "region_code", "held_on", "chair", "attendees", "items"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_items(self, c: Consultation) -> list[dict[str, Any]]:
        return [
            {
                "case": i.case.code,
                "title": i.case.title,
                "decision": i.decision,
                "follow_up_department": i.follow_up_department_id,
                "follow_up_unit": i.follow_up_unit,
                "follow_up_due": i.follow_up_due,
                "follow_up_warned": i.follow_up_warned,
                "follow_up_done_at": i.follow_up_done_at,
                "follow_up_done_by": i.follow_up_done_by.get_username()
                if i.follow_up_done_by
                else None,
                "follow_up_note": i.follow_up_note,
                "version": i.version,
            }
            for i in c.items.select_related("case", "follow_up_done_by").order_by("id")
        ]


class ConsultationListCreate(generics.ListAPIView):
    """Bi-weekly consultations (双周会诊) in the caller's area; POST records one
    (centers and leaders): attending units ("17+N"), decisions, follow-ups."""

    permission_classes = [IsStaffMember]
    serializer_class = ConsultationOut

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Consultation.objects.filter(
            prefixes_q(scope_of(self.request))
        ).select_related("chair")

    @extend_schema(
        request=ConsultationIn,
        responses={201: ConsultationOut, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        user = request.user
        if not (user.is_superuser or user.roles & set(CENTER_ROLES)):  # type: ignore[union-attr]
            raise PermissionDenied(_("Your role may not do this."))
        body = ConsultationIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        region = Region.objects.filter(region_code=v["region"]).first()
        if region is None or not covers(scope_of(request), region.region_code):
            return error_response(
                DisputeError(_("This area is outside your scope."), field="region")
            )
        codes = [str(i["case"]) for i in v["items"]]
        cases = {
            c.code: c
            for c in selectors.cases_visible(user).filter(
                code__in=codes, region_code__startswith=region.region_code
            )
        }
        try:
            c = consultations.consultation_create(
                actor=user,
                region=region,
                held_on=v["held_on"],
                attendees=v["attendees"],
                items=v["items"],
                cases=cases,
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(ConsultationOut(c).data, status=status.HTTP_201_CREATED)


class StatsView(APIView):
    """Figures over the caller's cases: by type, channel, level, outcome; mean days
    to close; success rate; high-risk cases and those prevented from escalating;
    per area (``area_digits`` of the code: 6 county, 9 town) and month."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str),
            OpenApiParameter("area_digits", int),
            OpenApiParameter("created_after", str),
            OpenApiParameter("created_before", str),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        qs = selectors.cases_filtered(
            selectors.cases_visible(request.user), request.query_params
        )
        p = request.query_params
        for param, lookup in (
            ("created_after", "created_at__date__gte"),
            ("created_before", "created_at__date__lte"),
        ):
            if p.get(param):
                try:
                    day = parse_date(p[param]) if _DATE.match(p[param]) else None
                except ValueError:  # well-formed but not a day (2026-02-30)
                    day = None
                if day is None:
                    raise ValidationError({param: _("Use YYYY-MM-DD.")})
                qs = qs.filter(**{lookup: day})
        digits = p.get("area_digits", "6")
        area = int(digits) if digits in ("4", "6", "9", "12") else 6
        return Response(selectors.case_stats(qs, area_digits=area))


def city_in_posts(request: Request, city: str) -> None:
    """403 unless ``city`` overlaps the caller's center or leader posts."""
    prefixes = selectors.center_prefixes(request.user)
    if not any(p.startswith(city) or city.startswith(p) for p in prefixes):
        raise PermissionDenied(_("This area is outside your scope."))


def city_and_year(request: Request) -> tuple[str, int]:
    """The city (default: the caller's first) and year (default: this one) of a
    budget request: 400 when malformed, 403 for a city outside the caller's center
    or leader posts."""
    prefixes = selectors.center_prefixes(request.user)
    city = request.query_params.get("city") or next((p[:4] for p in prefixes if p), "")
    if not (len(city) == 4 and city.isdigit()):
        raise ValidationError({"city": _("Name the city (4 digits).")})
    city_in_posts(request, city)
    raw = request.query_params.get("year", "")
    year = int(raw) if raw.isdigit() else timezone.localdate().year
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("Use a year from 2000 to 2100.")})
    return city, year


class SubsidyLedger(APIView):
    """The year's subsidy ledger of the caller's area as an Excel workbook."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(
        parameters=[OpenApiParameter("year", int), OpenApiParameter("city", str)],
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY
        },
    )
    def get(self, request: Request) -> HttpResponse:
        prefixes = scope_of(request)
        raw_year = request.query_params.get("year", "")
        year = int(raw_year) if raw_year.isdigit() else timezone.localdate().year
        city = request.query_params.get("city") or (
            prefixes[0][:4] if prefixes and prefixes[0] else "3703"
        )
        # the workbook shows the city's budget: only for a city of the caller's posts
        city_in_posts(request, city)
        rows = Subsidy.objects.filter(prefixes_q(prefixes), city_code=city, year=year)
        content = subsidies.ledger_xlsx(rows, city_code=city, year=year)
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="subsidies-{city}-{year}.xlsx"'
        )
        return response


class BudgetIn(serializers.Serializer):
    city = serializers.RegexField(r"^\d{4}$", help_text="The city's 4-digit code.")
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    amount = serializers.DecimalField(max_digits=13, decimal_places=2)


class SubsidyBudgetView(APIView):
    """The year's subsidy budget of a city, what is granted against it and what is
    left (GET: centers and leaders of the city or inside it); PUT sets it (only the
    city's own centers and leaders; never below what is granted already)."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    def _answer(self, request: Request, city: str, year: int) -> Response:
        budget = subsidies.budget_for(city, year)
        granted = subsidies.committed(city, year)
        return Response(
            {
                "city": city,
                "year": year,
                "budget": str(budget),
                "granted": str(granted),
                "left": str(budget - granted),
                "may_set": covers(selectors.center_prefixes(request.user), city),
            }
        )

    @extend_schema(
        parameters=[OpenApiParameter("city", str), OpenApiParameter("year", int)],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return self._answer(request, *city_and_year(request))

    @extend_schema(
        request=BudgetIn,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
    )
    def put(self, request: Request) -> Response:
        prefixes = selectors.center_prefixes(request.user)
        # Only officers of a whole city (or the province) set budgets.
        if not any(len(p) <= 4 for p in prefixes):
            raise PermissionDenied(_("Only a city's centers and leaders may."))
        body = BudgetIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        if not covers(prefixes, v["city"]):
            raise PermissionDenied(_("This area is outside your scope."))
        year = v.get("year") or timezone.localdate().year
        try:
            subsidies.budget_set(
                actor=request.user, city_code=v["city"], year=year, amount=v["amount"]
            )
        except DisputeError as exc:
            return error_response(exc)
        return self._answer(request, v["city"], year)


class RatingIn(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    party = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The rating party's id (see the case's parties); none for the "
        "officer's own rating.",
    )
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True)


class CaseRating(APIView):
    """Record a rating (1–5) of the case's mediator once mediation has ended: a
    party's (taken at the return visit) or the center officer's own; once each."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(
        request=RatingIn,
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        body = RatingIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        party = None
        if v.get("party") is not None:
            party = Party.objects.filter(case=case, pk=v["party"]).first()
            if party is None:
                return error_response(
                    DisputeError(_("No such party on this case."), field="party")
                )
        try:
            row = ratings.rating_record(
                actor=request.user,
                case=case,
                score=v["score"],
                party=party,
                comment=v.get("comment", ""),
            )
        except (DisputeError, NotPermitted) as exc:
            return error_response(exc)
        return Response(
            {"mediator": row.mediator_id, "rater": row.rater, "score": row.score},
            status=status.HTTP_201_CREATED,
        )
