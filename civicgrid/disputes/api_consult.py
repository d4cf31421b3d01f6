"""REST API of one bi-weekly consultation (双周会诊) after it is opened: its detail,
adding a hard case to its agenda, recording a case's decision with the follow-up
unit and due day, and replacing the attending units ("17+N"). The same services as
the pages; anyone of the area sees a session, only its centers and leaders (the
chair's side) change it."""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import HasRole, IsStaffMember
from civicgrid.core.scope import covers
from civicgrid.disputes import consultations, selectors
from civicgrid.disputes.api import CENTER_ROLES, error_response
from civicgrid.disputes.api_registry import (
    ConsultationItemIn,
    ConsultationOut,
    FollowUpIn,
)
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import Consultation, ConsultationItem

ERRORS: dict[int | str, Any] = {
    400: OpenApiTypes.OBJECT,
    403: OpenApiTypes.OBJECT,
    404: OpenApiTypes.OBJECT,
}


def visible_consultation(request: Request, pk: int) -> Consultation:
    c = selectors.consultations_visible(request.user).filter(pk=pk).first()
    if c is None:
        raise Http404(_("No such consultation in your scope."))
    return c


def chaired_consultation(request: Request, pk: int) -> Consultation:
    """The session, if the caller is a center officer or leader of its area."""
    c = visible_consultation(request, pk)
    if not covers(selectors.center_prefixes(request.user), c.region_code):
        raise PermissionDenied(_("Only the centers and leaders of its area may."))
    return c


class ConsultationDetail(APIView):
    """One consultation with its attending units and agenda."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses={200: ConsultationOut, 404: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ConsultationOut(visible_consultation(request, pk)).data)


class ConsultationItemAdd(APIView):
    """Put a hard case of the session's area on its agenda (once), optionally with
    its decision and follow-up already."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(
        request=ConsultationItemIn, responses={201: ConsultationOut, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        c = chaired_consultation(request, pk)
        body = ConsultationItemIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        case = selectors.cases_visible(request.user).filter(code=v["case"]).first()
        try:
            if case is None:
                raise DisputeError(_("No such case in your scope."), field="case")
            consultations.consultation_item_add(
                actor=request.user, consultation=c, case=case, item=v
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(ConsultationOut(c).data, status=status.HTTP_201_CREATED)


class DecisionIn(FollowUpIn):
    decision = serializers.CharField(max_length=4000)


def agenda_item(c: Consultation, code: str) -> ConsultationItem:
    item = (
        ConsultationItem.objects.filter(consultation=c, case__code=code)
        .select_related("case", "consultation")
        .first()
    )
    if item is None:
        raise Http404(_("The case is not on this consultation's agenda."))
    return item


class ConsultationDecision(APIView):
    """Record (or correct) the decision on an agenda case and the follow-up assigned
    to a unit with its due day; the overdue scan warns once the day has passed."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(request=DecisionIn, responses={200: ConsultationOut, **ERRORS})
    def post(self, request: Request, pk: int, code: str) -> Response:
        c = chaired_consultation(request, pk)
        item = agenda_item(c, code)
        body = DecisionIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            consultations.consultation_item_decide(
                actor=request.user, item=item, data=body.validated_data
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(ConsultationOut(c).data)


class FollowUpDoneIn(serializers.Serializer):
    note = serializers.CharField(max_length=2000)
    version = serializers.IntegerField(min_value=1)


class ConsultationFollowUpDone(APIView):
    """Record that the unit acted on the follow-up assigned at the consultation,
    with a note: the staff of the follow-up's department, or the centers and
    leaders of the area. ``version`` is the item's (409 with the current session
    when the decision changed meanwhile); the same note again is a retry (200)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=FollowUpDoneIn,
        responses={200: ConsultationOut, 409: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int, code: str) -> Response:
        c = visible_consultation(request, pk)
        item = agenda_item(c, code)
        if not consultations.may_record_done(request.user, item):
            raise PermissionDenied(
                _("Only the unit responsible or the centers of the area may.")
            )
        body = FollowUpDoneIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            consultations.follow_up_done(
                actor=request.user,
                item=item,
                note=body.validated_data["note"],
                version=body.validated_data["version"],
            )
        except consultations.StaleItem:
            return Response(
                {
                    "detail": _(
                        "Someone changed this decision first; here is the session."
                    ),
                    "consultation": ConsultationOut(c).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        except (DisputeError, NotPermitted) as exc:
            return error_response(exc)
        return Response(ConsultationOut(c).data)


class UnitsIn(serializers.Serializer):
    attendees = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1
    )


class ConsultationUnits(APIView):
    """Replace the attending units of the session (the standing "17" and the "N"
    added for the day)."""

    permission_classes = [HasRole]
    required_roles = CENTER_ROLES

    @extend_schema(request=UnitsIn, responses={200: ConsultationOut, **ERRORS})
    def put(self, request: Request, pk: int) -> Response:
        c = chaired_consultation(request, pk)
        body = UnitsIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            consultations.consultation_units_set(
                actor=request.user,
                consultation=c,
                attendees=body.validated_data["attendees"],
            )
        except DisputeError as exc:
            return error_response(exc)
        return Response(ConsultationOut(c).data)
