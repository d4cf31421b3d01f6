"""REST API of a case's files: upload (evidence, the signed agreement) and download
(as an attachment, never cached, audited) — for the case's centers, leaders and
mediator only."""

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import IsStaffMember
from civicgrid.disputes import attachments
from civicgrid.disputes.api import error_response, visible_case
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import CaseAttachment


class AttachmentIn(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(
        choices=list(attachments.ATTACHMENT_KINDS), default="evidence"
    )


class CaseAttachments(APIView):
    """Attach evidence or the signed agreement (PDF, JPEG or PNG, at most 10 MB):
    the case's centers and leaders, or its mediator."""

    permission_classes = [IsStaffMember]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": AttachmentIn},
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, code: str) -> Response:
        case = visible_case(request, code)
        if not attachments.may_handle_files(request.user, case):
            return error_response(NotPermitted(_("Your role may not do this.")))
        body = AttachmentIn(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > attachments.MAX_ATTACHMENT_BYTES:
            return error_response(
                DisputeError(_("The file is empty or larger than 10 MB."), field="file")
            )
        try:
            att = attachments.case_attach(
                actor=request.user,
                case=case,
                content=upload.read(),
                kind=body.validated_data["kind"],
            )
        except (DisputeError, NotPermitted) as exc:
            return error_response(exc)
        return Response(
            {"id": att.pk, "kind": att.kind, "size": att.size, "sha256": att.sha256},
            status=status.HTTP_201_CREATED,
        )


class CaseAttachmentDownload(APIView):
    """One file of the case, as a download (Content-Disposition: attachment,
    Cache-Control: no-store); every download is audited."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            403: OpenApiTypes.OBJECT,
            404: OpenApiTypes.OBJECT,
        }
    )
    def get(self, request: Request, code: str, pk: int) -> FileResponse | Response:
        case = visible_case(request, code)
        try:
            return attachments.attachment_download(actor=request.user, case=case, pk=pk)
        except NotPermitted as exc:
            return error_response(exc)
        except CaseAttachment.DoesNotExist:
            raise Http404(_("No such file on this case.")) from None
