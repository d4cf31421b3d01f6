"""The case page's side forms: recording a mediator's recusal (回避), a case's files
(upload, and download as an audited attachment), and the parties' rating of the
mediator."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.scope import covers
from civicgrid.disputes import attachments, overdue, ratings, selectors, services
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import (
    Case,
    CaseAttachment,
    ConsultationItem,
    Mediator,
    Party,
)
from civicgrid.events.views_staff import staff_required


def _case(request: HttpRequest, code: str) -> Case:
    case = selectors.cases_visible(request.user).filter(code=code).first()
    if case is None:
        raise Http404(_("No such case in your scope."))
    return case


def side_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    """What the detail page shows beside the steps: files, recusals, the form."""
    files = attachments.may_handle_files(request.user, case)
    center = covers(selectors.center_prefixes(request.user), case.region_code)
    rated = case.ratings.filter(mediator=case.mediator)
    may_rate = (
        case.mediator_id is not None
        and case.state in ratings.ENDED_MEDIATION
        and ratings.may_rate(request.user, case)
    )
    done = set(rated.values_list("party_id", flat=True))
    return {
        "warnings": overdue.warnings_of(case),
        "ratings": list(case.ratings.select_related("mediator", "party")),
        "may_rate": may_rate,
        "rate_choices": [
            (p.pk, f"{p.get_side_display()} {mask(p.name, PersonalKind.NAME)}")
            for p in case.parties.all()
            if p.pk not in done
        ]
        + ([] if None in done else [("officer", _("the center officer"))])
        if may_rate
        else [],
        "may_files": files,
        "files": list(case.attachments.order_by("created_at")) if files else [],
        "follow_ups": list(
            ConsultationItem.objects.filter(case=case)
            .exclude(follow_up_unit="")
            .select_related("consultation")
            .order_by("consultation__held_on", "id")
        ),
        "recusals": list(case.recusals.select_related("mediator").order_by("at")),
        "may_recuse": center and case.state not in ("closed", "verified"),
        "recusable": selectors.recusable(case) if center else [],
    }


def _detail_with_error(request: HttpRequest, case: Case, error: str) -> HttpResponse:
    from civicgrid.disputes.views import _detail

    return _detail(request, case, error=error)


@staff_required
@require_POST
def case_recusal(request: HttpRequest, code: str) -> HttpResponse:
    """A center officer or leader records that a mediator must stand aside (a
    relation to a party), with the reason; an assigned mediator is released."""
    case = _case(request, code)
    if not covers(selectors.center_prefixes(request.user), case.region_code):
        raise PermissionDenied
    raw = request.POST.get("mediator", "")
    m = Mediator.objects.filter(
        pk=int(raw) if raw.isdigit() else 0, city_code=case.city_code
    ).first()
    try:
        if m is None:
            raise DisputeError(_("Unknown mediator."), field="mediator")
        services.recusal_record(
            actor=request.user,
            case=case,
            mediator=m,
            reason=request.POST.get("reason", ""),
        )
    except DisputeError as exc:
        return _detail_with_error(request, case, str(exc))
    messages.success(request, _("Recusal recorded: %(name)s.") % {"name": m.name})
    return redirect("disputes:detail", code=case.code)


@staff_required
@require_POST
def case_attach(request: HttpRequest, code: str) -> HttpResponse:
    case = _case(request, code)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DisputeError(_("Choose a file."), field="file")
        if upload.size is None or upload.size > attachments.MAX_ATTACHMENT_BYTES:
            raise DisputeError(
                _("The file is empty or larger than 10 MB."), field="file"
            )
        attachments.case_attach(
            actor=request.user,
            case=case,
            content=upload.read(),
            kind=request.POST.get("kind", "evidence"),
        )
    except NotPermitted as exc:
        raise PermissionDenied(str(exc)) from None
    except DisputeError as exc:
        return _detail_with_error(request, case, str(exc))
    messages.success(request, _("File attached."))
    return redirect("disputes:detail", code=case.code)


@staff_required
def case_attachment(request: HttpRequest, code: str, pk: int) -> FileResponse:
    case = _case(request, code)
    try:
        return attachments.attachment_download(actor=request.user, case=case, pk=pk)
    except NotPermitted as exc:
        raise PermissionDenied(str(exc)) from None
    except CaseAttachment.DoesNotExist:
        raise Http404(_("No such file on this case.")) from None


@staff_required
@require_POST
def case_rate(request: HttpRequest, code: str) -> HttpResponse:
    """Record a party's rating of the mediator (taken at the return visit) or the
    officer's own."""
    case = _case(request, code)
    who = request.POST.get("rater", "")
    party = (
        Party.objects.filter(case=case, pk=int(who)).first() if who.isdigit() else None
    )
    try:
        if party is None and who != "officer":
            raise DisputeError(_("No such party on this case."), field="party")
        ratings.rating_record(
            actor=request.user,
            case=case,
            score=request.POST.get("score", ""),
            party=party,
            comment=request.POST.get("comment", ""),
        )
    except NotPermitted as exc:
        raise PermissionDenied(str(exc)) from None
    except DisputeError as exc:
        return _detail_with_error(request, case, str(exc))
    messages.success(request, _("Rating recorded."))
    return redirect("disputes:detail", code=case.code)
