"""REST API of events: report, list, detail with timeline, actions, routing."""

import copy
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.accounts.models import Role
from civicgrid.core.api import IsStaffMember
from civicgrid.core.audit import audit_record
from civicgrid.core.personal import PersonalKind, blind_match, mask
from civicgrid.core.ratelimit import ScopedWindowThrottle
from civicgrid.core.reveal import can_unmask
from civicgrid.events import engine, selectors, services, workflow
from civicgrid.events.errors import (
    EventError,
    IdempotencyConflict,
    NotPermitted,
    StaleVersion,
)
from civicgrid.events.models import Event, Matter, Severity, Source
from civicgrid.events.uploads import check_photos
from civicgrid.regions.crs import CRS

CITIZEN_SOURCES = {Source.CITIZEN_WEB, Source.CITIZEN_MOBILE}


class ActionOut(serializers.Serializer):
    transition = serializers.CharField()
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    department = serializers.CharField(source="department.name", default=None)
    note = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]
    at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()

    def get_label(self, action: Any) -> str:
        return engine.definition_of(action.event).step_label(action.transition)


class AssignmentOut(serializers.Serializer):
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    role = serializers.CharField()
    status = serializers.CharField()
    active = serializers.BooleanField()
    result = serializers.CharField()


class EventOut(serializers.ModelSerializer):
    matter = serializers.CharField(source="matter.code", default=None, allow_null=True)
    matter_name = serializers.CharField(
        source="matter.name", default=None, allow_null=True
    )
    grid = serializers.CharField(source="grid.code", default=None)
    state_label = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()
    reporter_name = serializers.SerializerMethodField()
    lead_department = serializers.IntegerField(
        source="lead_department_id", allow_null=True
    )
    duplicate_of = serializers.CharField(
        source="duplicate_of.code", default=None, allow_null=True
    )

    class Meta:
        model = Event
        fields = [
            "code",
            "title",
            "description",
            "source",
            "matter",
            "matter_name",
            "severity",
            "state",
            "state_label",
            "level",
            "city_code",
            "region_code",
            "grid",
            "lon",
            "lat",
            "address",
            "reporter_name",
            "reporter_phone",
            "lead_department",
            "deadline_at",
            "deadline_kind",
            "rating",
            "duplicate_of",
            "version",
            "created_at",
            "updated_at",
            "closed_at",
        ]

    def get_state_label(self, event: Event) -> str:
        return engine.definition_of(event).label(event.state)

    def get_reporter_phone(self, event: Event) -> str:
        return mask(event.reporter_phone, PersonalKind.PHONE)

    def get_reporter_name(self, event: Event) -> str:
        return mask(event.reporter_name, PersonalKind.NAME)


class TransitionOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class EventDetailOut(EventOut):
    timeline = ActionOut(many=True, source="actions.all")
    assignments = AssignmentOut(many=True, source="assignments.all")
    available = serializers.SerializerMethodField()

    class Meta(EventOut.Meta):
        fields = [*EventOut.Meta.fields, "timeline", "assignments", "available"]

    @extend_schema_field(TransitionOut(many=True))
    def get_available(self, event: Event) -> list[dict[str, Any]]:
        user = self.context.get("user")
        out = []
        for t in engine.definition_of(event).available(event.state):
            try:
                engine.authorise(user, event, t)
            except NotPermitted:
                continue
            out.append({"name": t.name, "label": t.label, "fields": list(t.fields)})
        return out


class EventIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=4000)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.ChoiceField(
        choices=[c.value for c in CRS], default=CRS.WGS84.value
    )
    source = serializers.ChoiceField(choices=Source.choices, default=Source.CITIZEN_WEB)  # type: ignore[assignment]
    matter = serializers.CharField(required=False, allow_blank=True)
    severity = serializers.ChoiceField(
        choices=Severity.choices, default=Severity.NORMAL
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reporter_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True
    )
    reporter_phone = serializers.RegexField(
        r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$", required=False, allow_blank=True
    )

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        # Shallow copies of the declared fields. DRF re-creates every field from its
        # arguments for each instance (a tenth of a report's CPU); these fields are
        # flat (no child fields) and keep no per-request state, so binding a shallow
        # copy to this instance is enough.
        return {name: copy.copy(f) for name, f in self._declared_fields.items()}


# The request fields a report's digest covers (declared once: a serializer instance
# deep-copies its fields, which a report need not pay twice).
EVENT_IN_FIELDS = tuple(sorted(EventIn._declared_fields))


def _error_response(exc: Exception) -> Response:
    if isinstance(exc, StaleVersion):
        return Response(
            {
                "detail": _(
                    "Someone acted on this event first; here is its current state."
                ),
                "event": EventOut(exc.event).data,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IdempotencyConflict):
        return Response(
            {"detail": _("This Idempotency-Key was used for a different request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, NotPermitted):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    assert isinstance(exc, EventError)
    body: dict[str, Any] = {"detail": str(exc)}
    if exc.field:
        body["field"] = exc.field
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _photos(request: Request) -> list[tuple[str, bytes]]:
    files = request.FILES.getlist("photos") if hasattr(request, "FILES") else []
    return [(f.name, f.read()) for f in files]


def report(request: Request, *, public: bool) -> Response:
    data = EventIn(data=request.data)
    data.is_valid(raise_exception=True)
    v = dict(data.validated_data)
    user = request.user if request.user.is_authenticated else None
    staff = user is not None and (
        user.is_superuser or bool(user.roles - {Role.CITIZEN})
    )  # type: ignore[union-attr]
    if (public or not staff) and v["source"] not in CITIZEN_SOURCES:
        v["source"] = Source.CITIZEN_WEB  # only staff may record other sources
    matter = None
    if v.get("matter"):
        matter = Matter.objects.filter(code=v["matter"], active=True).first()
        if matter is None:
            raise ValidationError({"matter": _("Unknown matter.")})
    try:
        photos = check_photos(_photos(request))
        key = request.headers.get("Idempotency-Key") or None
        if key and len(key) > 100:
            raise EventError("Idempotency-Key longer than 100 characters")
        payload = {k: v.get(k) for k in EVENT_IN_FIELDS}
        # A key names one caller's request: another caller's same key and body
        # is refused rather than answered with someone else's event.
        payload["caller"] = user.pk if user is not None else None
        event, created = services.event_report(
            actor=user,
            source=v["source"],
            title=v["title"],
            description=v["description"],
            lon=v["lon"],
            lat=v["lat"],
            crs=v["crs"],
            matter=matter,
            severity=v["severity"],
            address=v.get("address", ""),
            reporter_name=v.get("reporter_name", ""),
            reporter_phone=v.get("reporter_phone", ""),
            photos=photos,
            idempotency_key=key,
            digest=services.request_digest(payload, photos) if key else "",
        )
    except (EventError, IdempotencyConflict) as exc:
        return _error_response(exc)
    if public:  # the code and token to follow it, nothing else
        body = {
            "code": event.code,
            "tracking_token": event.tracking_token,
            "state": event.state,
            "state_label": engine.definition_of(event).label(event.state),
        }
    else:
        body = dict(EventOut(event).data)
    return Response(
        body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


class EventListCreate(generics.ListAPIView):
    """Events in the caller's scope, filtered; POST reports a new one (Idempotency-Key
    header makes retries safe)."""

    permission_classes = [IsAuthenticated]
    serializer_class = EventOut
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(name, str, description=text)
            for name, text in (
                ("state", "states, comma-separated"),
                ("status", "the same as state"),
                ("matter", "matter code"),
                ("region", "region code prefix"),
                ("source", "sources, comma-separated"),
                ("overdue", "1: past the running deadline and open"),
                ("created_after", "ISO date or time (inclusive)"),
                ("created_before", "ISO date or time (exclusive)"),
                ("department", "id of a department holding an active assignment"),
                ("handler", "the same as department"),
                ("level", "handling level"),
                ("severity", "severity"),
                (
                    "reporter_phone",
                    "the reporter's exact phone number, matched on its blind index "
                    "(403 without the permission to unmask personal data)",
                ),
            )
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if "reporter_phone" in request.query_params:
            # Looking a person up by phone is a use of their personal data: only for
            # those who may unmask it, and audited (the number itself never is).
            if not can_unmask(request.user):
                raise PermissionDenied(_("You may not look events up by phone."))
            audit_record(
                actor=request.user,
                action="personal_data.lookup",
                object_type="events.event",
                changes={"field": "reporter_phone"},
            )
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = selectors.events_visible(self.request.user).select_related(
            "matter", "grid", "workflow", "duplicate_of"
        )
        phone = self.request.query_params.get("reporter_phone")
        if phone is not None:
            qs = qs.filter(blind_match("reporter_phone_index", phone))
        try:
            return selectors.events_filtered(qs, self.request.query_params).order_by(
                "-created_at", "-id"
            )
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from None

    @extend_schema(
        request={"application/json": EventIn, "multipart/form-data": EventIn},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={
            201: EventOut,
            200: EventOut,
            400: OpenApiTypes.OBJECT,
            422: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        return report(request, public=False)


def _visible_event(request: Request, code: str) -> Event:
    event = selectors.events_visible(request.user).filter(code=code).first()
    if event is None:
        raise Http404(_("No such event in your scope."))
    return event


class EventDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=EventDetailOut)
    def get(self, request: Request, code: str) -> Response:
        event = _visible_event(request, code)
        return Response(EventDetailOut(event, context={"user": request.user}).data)


class ActionIn(serializers.Serializer):
    transition = serializers.CharField(max_length=40)
    version = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    data = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]


class EventActionView(APIView):
    """Take one step of the event's workflow (409 when the version is stale)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request=ActionIn,
        responses={
            200: EventDetailOut,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        event = _visible_event(request, code)
        body = ActionIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            event = engine.event_act(
                actor=request.user,
                event_id=event.pk,
                transition=body.validated_data["transition"],
                version=body.validated_data["version"],
                data=body.validated_data["data"],
                note=body.validated_data.get("note", ""),
                photos=check_photos(_photos(request)),
            )
        except (EventError, NotPermitted, StaleVersion) as exc:
            return _error_response(exc)
        return Response(EventDetailOut(event, context={"user": request.user}).data)


class RoutingOut(serializers.Serializer):
    matter = serializers.CharField()
    name = serializers.CharField()
    confidence = serializers.FloatField()


class RoutingView(APIView):
    """Matters proposed for a text, with confidence (staff confirm or change them)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[OpenApiParameter("text", str, required=True)],
        responses=RoutingOut(many=True),
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("text", "").strip()
        if not text:
            raise ValidationError({"text": _("Text is required.")})
        return Response(
            [
                {"matter": m.code, "name": m.name, "confidence": c}
                for m, c in services.route_text(text[:4000])
            ]
        )


class PublicReport(APIView):
    """A citizen reports without an account (rate-limited): the answer carries the
    event code and a tracking token to follow it."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedWindowThrottle]
    throttle_scope = "public_report"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={"application/json": EventIn, "multipart/form-data": EventIn},
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        return report(request, public=True)


class PublicTrack(APIView):
    """Progress of a report by its code and tracking token (no personal data)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedWindowThrottle]
    throttle_scope = "locate"

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, code: str) -> Response:
        token = request.query_params.get("token", "")
        event = Event.objects.filter(code=code).first()
        if event is None or not token or event.tracking_token != token:
            raise Http404(_("No report with this code and token."))
        definition = engine.definition_of(event)
        return Response(
            {
                "code": event.code,
                "title": event.title,
                "state": event.state,
                "state_label": definition.label(event.state),
                "created_at": event.created_at,
                "closed_at": event.closed_at,
                "rating": event.rating,
                "timeline": [
                    {
                        "step": definition.step_label(a.transition),
                        "state_label": definition.label(a.to_state),
                        "at": a.at,
                    }
                    for a in event.actions.exclude(
                        transition__in=list(workflow.INTERNAL_RECORDS)
                    )
                ],
            }
        )
