"""Unmasking over HTTP: ``POST /api/v1/personal-data/reveal/`` hands one personal-data
value of one record to a caller who holds ``accounts.unmask_personal_data``, sees the
record's region and states a reason (written to the audit log; the value never is).

Only the (model, field) pairs of ``REVEALABLE`` can be asked for, and each model is
scoped to the caller's regions by its own region field: a record outside them is a 404,
as if it did not exist."""

from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core import scope
from civicgrid.core.reveal import can_unmask, personal_reveal

# model label -> (the field ``id`` names: the identifier the API shows, the region-code
# field the model is scoped by, the fields that may be revealed)
REVEALABLE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "events.event": ("code", "region_code", ("reporter_name", "reporter_phone")),
    # A user's regions are those of their active staff posts.
    "accounts.user": ("pk", "posts__region_code", ("phone",)),
    "disputes.party": ("pk", "case__region_code", ("name", "id_number", "phone")),
    "registry.person": ("pk", "region_code", ("name", "id_number", "phone")),
}


def _record_in_scope(actor: Any, label: str, pk: Any) -> models.Model:
    """The record ``label`` with identifier ``pk`` if it lies in the actor's regions, else Http404."""
    lookup, region_field, _fields = REVEALABLE[label]
    model = apps.get_model(label)
    try:
        qs = model._default_manager.filter(**{lookup: pk})
    except (TypeError, ValueError):  # not an id of this model at all
        raise Http404(_("No such record in your regions.")) from None
    prefixes = list(getattr(actor, "scope_prefixes", []))
    if scope.ALL not in prefixes:
        qs = qs.filter(scope.prefixes_q(prefixes, region_field))
        if label == "accounts.user":
            qs = qs.filter(posts__active=True)
    record = qs.distinct().first()
    if record is None:
        raise Http404(_("No such record in your regions."))
    return record


def reveal_by_ref(actor: Any, label: str, pk: Any, field: str, reason: str) -> str:
    """Reveal ``label``/``pk``.``field`` for the actor: PermissionDenied without the
    permission, ValueError for a pair outside REVEALABLE, Http404 outside the actor's
    regions, ValidationError without a reason (nothing revealed, nothing audited)."""
    if not can_unmask(actor):
        raise DjangoPermissionDenied(_("You may not see unmasked personal data."))
    if field not in REVEALABLE.get(label, ("", "", ()))[2]:
        raise ValueError(f"{label}.{field} may not be revealed")
    record = _record_in_scope(actor, label, pk)
    return personal_reveal(actor, record, field, reason)


class RevealIn(serializers.Serializer):
    object = serializers.ChoiceField(choices=sorted(REVEALABLE))
    id = serializers.CharField(max_length=40)
    field = serializers.CharField(max_length=40)
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        fields = REVEALABLE[attrs["object"]][2]
        if attrs["field"] not in fields:
            raise serializers.ValidationError(
                {"field": _("Choose one of: %s.") % ", ".join(fields)}
            )
        return attrs


class RevealOut(serializers.Serializer):
    value = serializers.CharField()


class PersonalRevealView(APIView):
    """One unmasked value, with a stated reason; the answer is never cached."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RevealIn,
        responses={
            200: RevealOut,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            404: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        if not can_unmask(request.user):
            raise PermissionDenied(_("You may not see unmasked personal data."))
        body = RevealIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        try:
            value = reveal_by_ref(
                request.user, v["object"], v["id"], v["field"], v["reason"]
            )
        except DjangoValidationError as exc:
            raise ValidationError({"reason": exc.messages}) from None
        response = Response({"value": value})
        response["Cache-Control"] = "no-store"
        return response
