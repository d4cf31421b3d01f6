"""REST API of dispute cases: intake, list, detail with the gates' records, workflow
steps, diversion and expert proposals, recusal, leader ownership, subsidy."""

from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.accounts.models import Role, User
from civicgrid.core.api import HasRole, IsStaffMember
from civicgrid.core.personal import PersonalKind, mask
from civicgrid.disputes import engine, matching, selectors, services, subsidies
from civicgrid.disputes.errors import DisputeError, NotPermitted, StaleVersion
from civicgrid.disputes.models import (
    Case,
    CaseSource,
    CenterLevel,
    DisputeType,
    Mediator,
    Party,
)

CENTER_ROLES = [Role.CENTER_STAFF, Role.LEADER]


class CaseOut(serializers.ModelSerializer):
    state_label = serializers.SerializerMethodField()
    mediator_name = serializers.CharField(source="mediator.name", default=None)
    organisation_name = serializers.CharField(source="organisation.name", default=None)
    event = serializers.CharField(source="event.code", default=None)

    class Meta:
        model = Case
        fields = [
            "code",
            "title",
            "source",
            "event",
            "dispute_type",
            "amount",
            "level",
            "city_code",
            "region_code",
            "state",
            "state_label",
            "channel",
            "organisation",
            "organisation_name",
            "mediator",
            "mediator_name",
            "risk_grade",
            "risk_score",
            "risk_factors",
            "leader",
            "outcome",
            "deadline_at",
            "deadline_kind",
            "version",
            "created_at",
            "diverted_at",
            "closed_at",
            "verified_at",
        ]

    def get_state_label(self, case: Case) -> str:
        return engine.definition_for(case).label(case.state)


class PartyOut(serializers.Serializer):
    # The id names the party to POST /api/v1/personal-data/reveal/
    # ({"object": "disputes.party", "id": ..., "field": "id_number", "reason": ...}).
    id = serializers.IntegerField()
    kind = serializers.CharField()
    side = serializers.CharField()
    name = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    vulnerable = serializers.BooleanField()

    def get_name(self, p: Party) -> str:
        return (
            p.name
            if p.kind == Party.Kind.ORGANISATION
            else mask(p.name, PersonalKind.NAME)
        )

    def get_id_number(self, p: Party) -> str:
        return mask(p.id_number, PersonalKind.ID_NUMBER)

    def get_phone(self, p: Party) -> str:
        return mask(p.phone, PersonalKind.PHONE)


class CaseStepOut(serializers.Serializer):
    transition = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    note = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]
    at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()


class CaseTransitionOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class CaseDetailOut(CaseOut):
    narrative = serializers.CharField()
    parties = PartyOut(many=True, source="parties.all")
    timeline = CaseStepOut(many=True, source="actions.all")
    sessions = serializers.SerializerMethodField()
    agreement = serializers.SerializerMethodField()
    confirmation = serializers.SerializerMethodField()
    follow_ups = serializers.SerializerMethodField()
    referrals = serializers.SerializerMethodField()
    recusals = serializers.SerializerMethodField()
    risk_history = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    class Meta(CaseOut.Meta):
        fields = [
            *CaseOut.Meta.fields,
            "narrative",
            "violence_threatened",
            "parties",
            "timeline",
            "sessions",
            "agreement",
            "confirmation",
            "follow_ups",
            "referrals",
            "recusals",
            "risk_history",
            "attachments",
            "available",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_sessions(self, case: Case) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in case.sessions.values("held_at", "place", "participants", "minutes")
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_agreement(self, case: Case) -> dict[str, Any] | None:
        a = getattr(case, "agreement", None)
        if a is None:
            return None
        return {
            "terms": a.terms,
            "signed_on": a.signed_on,
            "perform_by": a.perform_by,
            "signed_copy": bool(a.signed_copy),
        }

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_confirmation(self, case: Case) -> dict[str, Any] | None:
        jc = getattr(case, "confirmation", None)
        if jc is None:
            return None
        return {
            "court": jc.court,
            "requested_on": jc.requested_on,
            "result": jc.result,
            "ruling_number": jc.ruling_number,
            "decided_on": jc.decided_on,
        }

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_follow_ups(self, case: Case) -> list[dict[str, Any]]:
        return [
            dict(r) for r in case.follow_ups.values("due_on", "done_at", "kept", "note")
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_referrals(self, case: Case) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in case.referrals.values("kind", "receiving_body", "reason", "at")
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_recusals(self, case: Case) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in case.recusals.values("mediator", "mediator__name", "reason", "at")
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_risk_history(self, case: Case) -> list[dict[str, Any]]:
        return [
            dict(r) for r in case.risks.values("step", "grade", "score", "warned", "at")
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_attachments(self, case: Case) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in case.attachments.values(
                "id", "kind", "content_type", "size", "sha256", "created_at"
            )
        ]

    @extend_schema_field(CaseTransitionOut(many=True))
    def get_available(self, case: Case) -> list[dict[str, Any]]:
        user = self.context.get("user")
        out = []
        for t in engine.definition_for(case).available(case.state):
            try:
                engine.authorise(user, case, t)
            except NotPermitted:
                continue
            out.append({"name": t.name, "label": t.label, "fields": list(t.fields)})
        return out


def error_response(exc: Exception) -> Response:
    if isinstance(exc, StaleVersion):
        return Response(
            {
                "detail": _(
                    "Someone acted on this case first; here is its current state."
                ),
                "case": CaseOut(exc.event).data,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, NotPermitted):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    assert isinstance(exc, DisputeError)
    body: dict[str, Any] = {"detail": str(exc)}
    if exc.field:
        body["field"] = exc.field
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def visible_case(request: Request, code: str) -> Case:
    case = selectors.cases_visible(request.user).filter(code=code).first()
    if case is None:
        raise Http404(_("No such case in your scope."))
    return case


class PartyIn(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Party.Kind.choices, default=Party.Kind.PERSON
    )
    side = serializers.ChoiceField(choices=Party.Side.choices, required=False)
    name = serializers.CharField(max_length=60, allow_blank=True)
    id_number = serializers.CharField(max_length=18, allow_blank=True, required=False)
    phone = serializers.RegexField(
        r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$", required=False, allow_blank=True
    )
    vulnerable = serializers.BooleanField(default=False)


class CaseIn(serializers.Serializer):
    source = serializers.ChoiceField(choices=CaseSource.choices)  # type: ignore[assignment]
    region = serializers.CharField(max_length=12, required=False, allow_blank=True)
    level = serializers.ChoiceField(choices=CenterLevel.choices)
    dispute_type = serializers.ChoiceField(choices=DisputeType.choices)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), default=Decimal(0)
    )
    title = serializers.CharField(max_length=200)
    narrative = serializers.CharField(max_length=8000)
    violence_threatened = serializers.BooleanField(default=False)
    event = serializers.CharField(max_length=20, required=False, allow_blank=True)
    referred_by = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )
    parties = PartyIn(many=True)


class CaseListCreate(generics.ListAPIView):
    """Dispute cases in the caller's scope (filters: state, type, channel, level,
    risk, region, overdue); POST registers one (entry gate)."""

    permission_classes = [IsStaffMember]
    serializer_class = CaseOut

    @extend_schema(
        parameters=[
            OpenApiParameter(n, str)
            for n in ("state", "type", "channel", "level", "risk", "region", "overdue")
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = selectors.cases_visible(self.request.user).select_related(
            "mediator", "organisation", "event", "workflow"
        )
        return selectors.cases_filtered(qs, self.request.query_params).order_by(
            "-created_at", "-id"
        )

    @extend_schema(
        request=CaseIn,
        responses={
            201: CaseDetailOut,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        body = CaseIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        try:
            case = services.case_intake(
                actor=request.user,
                source=v["source"],
                region_code=v.get("region", ""),
                level=v["level"],
                dispute_type=v["dispute_type"],
                amount=v["amount"],
                title=v["title"],
                narrative=v["narrative"],
                violence_threatened=v["violence_threatened"],
                event_code=v.get("event", ""),
                referred_by=v.get("referred_by", ""),
                parties=v["parties"],
            )
        except (DisputeError, NotPermitted) as exc:
            return error_response(exc)
        return Response(
            CaseDetailOut(case, context={"user": request.user}).data,
            status=status.HTTP_201_CREATED,
        )


class CaseDetail(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=CaseDetailOut)
    def get(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        return Response(CaseDetailOut(case, context={"user": request.user}).data)


class StepIn(serializers.Serializer):
    transition = serializers.CharField(max_length=40)
    version = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    data = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]


class CaseStep(APIView):
    """Take one step of the case's workflow (409 when the version is stale). The
    steps and their fields are listed in the detail's ``available``."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=StepIn,
        responses={
            200: CaseDetailOut,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        body = StepIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            case = engine.case_act(
                actor=request.user,
                case_id=case.pk,
                transition=body.validated_data["transition"],
                version=body.validated_data["version"],
                data=body.validated_data["data"],
                note=body.validated_data.get("note", ""),
            )
        except (DisputeError, NotPermitted, StaleVersion) as exc:
            return error_response(exc)
        return Response(CaseDetailOut(case, context={"user": request.user}).data)


class CaseDiversion(APIView):
    """The proposed channel and organisations, with reasons (staff confirm by the
    ``divert`` step)."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        p = matching.propose_diversion(visible_case(request, code))
        return Response(
            {
                "channel": p.channel,
                "reasons": p.reasons,
                "organisations": p.organisations,
            }
        )


class CaseExperts(APIView):
    """The best few mediators and experts for the case, with reasons, and those
    excluded with why (recusal among them)."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(
        parameters=[OpenApiParameter("limit", int)], responses=OpenApiTypes.OBJECT
    )
    def get(self, request: Request, code: str) -> Response:
        raw = request.query_params.get("limit", "3")
        limit = min(int(raw), 20) if raw.isdigit() and int(raw) > 0 else 3
        return Response(
            matching.suggest_mediators(visible_case(request, code), limit=limit)
        )


class RecusalIn(serializers.Serializer):
    mediator = serializers.IntegerField()
    reason = serializers.CharField(max_length=300)


class CaseRecusal(APIView):
    """Exclude a mediator related to a party (回避); the exclusion is recorded."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(request=RecusalIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        body = RecusalIn(data=request.data)
        body.is_valid(raise_exception=True)
        m = Mediator.objects.filter(
            pk=body.validated_data["mediator"], city_code=case.city_code
        ).first()
        if m is None:
            return error_response(
                DisputeError(_("Unknown mediator."), field="mediator")
            )
        try:
            rec = services.recusal_record(
                actor=request.user,
                case=case,
                mediator=m,
                reason=body.validated_data["reason"],
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(
            {"mediator": m.pk, "reason": rec.reason, "at": rec.at},
            status=status.HTTP_201_CREATED,
        )


class LeaderIn(serializers.Serializer):
    leader = serializers.IntegerField()


class CaseLeader(APIView):
    """A leader takes ownership of the case (领导包案)."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(request=LeaderIn, responses={200: CaseOut})
    def post(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        body = LeaderIn(data=request.data)
        body.is_valid(raise_exception=True)
        leader = User.objects.filter(
            pk=body.validated_data["leader"], is_active=True
        ).first()
        if leader is None:
            return error_response(DisputeError(_("Unknown leader."), field="leader"))
        try:
            case = services.case_assign_leader(
                actor=request.user, case=case, leader=leader
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(CaseOut(case).data)


class SubsidyIn(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    grade = serializers.CharField(max_length=20, required=False, allow_blank=True)
    major_decision = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )


class CaseSubsidy(APIView):
    """Grant the case's subsidy (closed and verified cases; within the grade or by a
    major-case decision; within the year's budget)."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(request=SubsidyIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        body = SubsidyIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        try:
            sub = subsidies.subsidy_grant(
                actor=request.user,
                case=case,
                amount=v["amount"],
                grade=v.get("grade", ""),
                major_decision=v.get("major_decision", ""),
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(
            {"case": case.code, "amount": str(sub.amount), "year": sub.year},
            status=status.HTTP_201_CREATED,
        )
