"""REST API of supervision: whistles, supervision orders, duplicates, inbox, figures."""

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.accounts.models import Department
from civicgrid.core.api import IsStaffMember
from civicgrid.events import selectors, supervision
from civicgrid.events.api import _error_response, _visible_event
from civicgrid.events.errors import EventError, NotPermitted
from civicgrid.events.models import Notification, SupervisionOrder, WhistleCall


class WhistleIn(serializers.Serializer):
    departments = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, max_length=30
    )
    reason = serializers.CharField(max_length=2000)
    minutes = serializers.IntegerField(min_value=5, max_value=1440)


class WhistleView(APIView):
    """Blow the whistle (吹哨): summon departments to check in within ``minutes``."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=WhistleIn,
        responses={
            201: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        event = _visible_event(request, code)
        body = WhistleIn(data=request.data)
        body.is_valid(raise_exception=True)
        depts = list(
            Department.objects.filter(pk__in=body.validated_data["departments"])
        )
        if len(depts) != len(set(body.validated_data["departments"])):
            return Response(
                {"detail": _("Unknown department.")}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            whistle = supervision.whistle_blow(
                actor=request.user,
                event=event,
                departments=depts,
                reason=body.validated_data["reason"],
                minutes=body.validated_data["minutes"],
            )
        except (EventError, NotPermitted) as exc:
            return _error_response(exc)
        return Response(
            {
                "id": whistle.pk,
                "due_at": whistle.due_at,
                "calls": [
                    {"id": c.pk, "department": c.department_id, "status": c.status}
                    for c in whistle.calls.all()
                ],
            },
            status=status.HTTP_201_CREATED,
        )


class WhistleCheckIn(APIView):
    """A summoned department checks in (报到); late check-ins are recorded as late."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=None,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        call = (
            WhistleCall.objects.select_related("whistle__event").filter(pk=pk).first()
        )
        if (
            call is None
            or not selectors.events_visible(request.user)
            .filter(pk=call.whistle.event_id)
            .exists()
        ):
            raise Http404(_("No such call in your scope."))
        try:
            call = supervision.whistle_check_in(actor=request.user, call=call)
        except (EventError, NotPermitted) as exc:
            return _error_response(exc)
        return Response(
            {"id": call.pk, "status": call.status, "checked_in_at": call.checked_in_at}
        )


class OrderIn(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    hours = serializers.FloatField(min_value=0.1, max_value=720)


class SupervisionOrderView(APIView):
    """Issue a supervision order (督办) on an event."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=OrderIn, responses={201: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request, code: str) -> Response:
        event = _visible_event(request, code)
        body = OrderIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order = supervision.supervision_order_issue(
                actor=request.user,
                event=event,
                text=body.validated_data["text"],
                hours=body.validated_data["hours"],
            )
        except (EventError, NotPermitted) as exc:
            return _error_response(exc)
        return Response(
            {"id": order.pk, "due_at": order.due_at}, status=status.HTTP_201_CREATED
        )


class AnswerIn(serializers.Serializer):
    answer = serializers.CharField(max_length=4000)


class SupervisionAnswerView(APIView):
    """The handler answers a supervision order."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=AnswerIn,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        order = SupervisionOrder.objects.select_related("event").filter(pk=pk).first()
        if (
            order is None
            or not selectors.events_visible(request.user)
            .filter(pk=order.event_id)
            .exists()
        ):
            raise Http404(_("No such order in your scope."))
        body = AnswerIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order = supervision.supervision_order_answer(
                actor=request.user, order=order, answer=body.validated_data["answer"]
            )
        except (EventError, NotPermitted) as exc:
            return _error_response(exc)
        return Response({"id": order.pk, "answered_at": order.answered_at})


class DuplicatesView(APIView):
    """Reports near in place and time with similar text: merge candidates."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        event = _visible_event(request, code)
        return Response(
            [
                {
                    "code": e.code,
                    "title": e.title,
                    "distance_m": d,
                    "similarity": s,
                    "state": e.state,
                }
                for e, d, s in supervision.duplicate_candidates(event)
            ]
        )


class NotificationOut(serializers.ModelSerializer):
    event = serializers.CharField(source="event.code", default=None, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "text", "event", "created_at", "read_at"]


class InboxView(generics.ListAPIView):
    """The caller's in-app messages, newest first; ``?unread=1`` for unread ones."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationOut

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Notification.objects.none()
        qs = Notification.objects.filter(user=self.request.user).select_related("event")
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs


class InboxRead(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        n = Notification.objects.filter(user__pk=request.user.pk or 0, pk=pk).update(
            read_at=timezone.now()
        )
        if not n:
            raise Http404(_("No such message."))
        return Response({"read": True})


class EventStatsView(APIView):
    """Figures for assessment: on-time rate, resolution levels, satisfaction, and
    supervision counts per department, over the caller's events."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        qs = selectors.events_visible(request.user)
        data: dict[str, Any] = {
            "events": qs.count(),
            "on_time_rate": selectors.on_time_rate(qs),
            "resolution_levels": selectors.resolution_levels(qs),
            "satisfaction": selectors.satisfaction(qs),
        }
        if request.user.is_superuser:  # type: ignore[union-attr]
            data["supervision"] = supervision.supervision_counts()
        return Response(data)
