"""A case's files (evidence, the signed agreement): recognised by their bytes, kept
by the case, and handed out only to those who handle the case — its centers and
leaders, its mediator — each download audited. The files hold personal details."""

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.core import uploads
from civicgrid.core.audit import audit_record
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import Agreement, Case, CaseAttachment

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = frozenset({uploads.PDF, uploads.JPEG, uploads.PNG})
ATTACHMENT_KINDS = ("evidence", "signed_copy")
HANDLING_ROLES = frozenset({Role.CENTER_STAFF, Role.LEADER})


def may_handle_files(user: Any, case: Case) -> bool:
    """The superuser; a center officer or leader whose post covers the case; the
    case's mediator. (Grid workers and departments see the case, not its files.)"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if case.mediator is not None and case.mediator.user_id == user.pk:
        return True
    return any(
        role in HANDLING_ROLES and case.region_code.startswith(prefix)
        for role, prefix in user.posts.filter(active=True).values_list(
            "role", "region_code"
        )
    )


def case_attach(*, actor: Any, case: Case, content: bytes, kind: str) -> CaseAttachment:
    """Attach evidence or the signed agreement (a PDF, JPEG or PNG, checked by its
    bytes); a signed copy becomes the agreement's."""
    if not may_handle_files(actor, case):
        raise NotPermitted(_("Your role may not do this."))
    if kind not in ATTACHMENT_KINDS:
        raise DisputeError(_("Unknown attachment kind."), field="kind")
    if not content or len(content) > MAX_ATTACHMENT_BYTES:
        raise DisputeError(_("The file is empty or larger than 10 MB."), field="file")
    found = uploads.sniff(content, ATTACHMENT_TYPES)
    if found is None:
        raise DisputeError(_("Only PDF, JPEG or PNG files are accepted."), field="file")
    agreement = Agreement.objects.filter(case=case).first()
    if kind == "signed_copy" and agreement is None:
        raise DisputeError(_("The case has no agreement yet."), field="kind")
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        name = f"{case.code}-{digest[:16]}.{found.extension}"
        att = CaseAttachment(
            case=case,
            kind=kind,
            content_type=found.content_type,
            size=len(content),
            sha256=digest,
        )
        att.file.save(name, ContentFile(content), save=False)
        att.save()
        if agreement is not None and kind == "signed_copy":
            agreement.signed_copy = att.file.name
            agreement.save(update_fields=["signed_copy"])
        audit_record(
            actor=actor,
            action="disputes.case.attach",
            obj=case,
            changes={"attachment": [None, att.pk], "kind": [None, kind]},
        )
    return att


def attachment_download(*, actor: Any, case: Case, pk: Any) -> FileResponse:
    """The file as a download (never shown inline, never cached), audited. The case
    must already be one the actor sees; NotPermitted if the actor may not have its
    files; CaseAttachment.DoesNotExist for another case's or an unknown file."""
    if not may_handle_files(actor, case):
        raise NotPermitted(_("Your role may not do this."))
    att = CaseAttachment.objects.get(case=case, pk=int(pk) if str(pk).isdigit() else 0)
    audit_record(
        actor=actor,
        action="disputes.attachment.download",
        obj=case,
        changes={"attachment": att.pk, "kind": att.kind},
    )
    response = FileResponse(
        att.file.open("rb"),
        as_attachment=True,
        filename=f"{case.code}-{att.pk}.{(att.file.name or '').rsplit('.', 1)[-1]}",
        content_type=att.content_type,
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
