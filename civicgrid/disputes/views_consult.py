"""Pages of the bi-weekly consultation (双周会诊) for leaders and centers: the
sessions of their areas, a new session with its attending units ("17+N"), and the
agenda of hard cases with each decision and its assigned follow-up (htmx swaps the
agenda in place; without JavaScript the forms post and redirect)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicgrid.accounts.models import Department
from civicgrid.core.scope import covers
from civicgrid.disputes import consultations, selectors
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import Consultation, ConsultationItem
from civicgrid.events.views_staff import staff_required
from civicgrid.regions.models import Region


class SessionForm(forms.Form):
    region = forms.CharField(label=gettext_lazy("Town (area code)"), max_length=12)
    held_on = forms.DateField(
        label=gettext_lazy("Held on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    attendees = forms.CharField(
        label=gettext_lazy("Attending units (one a line)"),
        widget=forms.Textarea(attrs={"rows": 10}),
    )


class DoneForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What the unit did"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ItemForm(forms.Form):
    case = forms.CharField(label=gettext_lazy("Case code"), max_length=24)


class DecisionForm(forms.Form):
    decision = forms.CharField(
        label=gettext_lazy("Decision"), widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up_department = forms.ModelChoiceField(
        label=gettext_lazy("Follow-up by (department of the area)"),
        queryset=Department.objects.none(),
        required=False,
    )
    follow_up_unit = forms.CharField(
        label=gettext_lazy("or a unit outside the system"),
        max_length=100,
        required=False,
    )
    follow_up_due = forms.DateField(
        label=gettext_lazy("Follow-up due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def decision_form(
    c: Consultation,
    data: Any,
    *,
    departments: Any = None,
    **kwargs: Any,
) -> DecisionForm:
    """The decision form offering the departments of the session's area."""
    form = DecisionForm(data, **kwargs)
    field = form.fields["follow_up_department"]
    field.queryset = (  # type: ignore[attr-defined]
        departments
        if departments is not None
        else consultations.area_departments(c.region_code)
    )
    return form


def _may_chair(request: HttpRequest, region_code: str) -> bool:
    return covers(selectors.center_prefixes(request.user), region_code)


def _session(request: HttpRequest, pk: int) -> Consultation:
    c = selectors.consultations_visible(request.user).filter(pk=pk).first()
    if c is None:
        raise Http404(_("No such consultation in your scope."))
    return c


@staff_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.consultations_visible(request.user).prefetch_related("items")[:100]
    return render(
        request,
        "disputes/consultations.html",
        {
            "rows": rows,
            "follow_ups": selectors.follow_ups_of(request.user)[:50],
            "may_open": bool(selectors.center_prefixes(request.user)),
            "standing": len(consultations.STANDING_UNITS),
        },
    )


@staff_required
def consultation_new(request: HttpRequest) -> HttpResponse:
    prefixes = selectors.center_prefixes(request.user)
    if not prefixes:
        raise PermissionDenied
    initial = {
        "region": next((p for p in prefixes if len(p) >= 9), prefixes[0])[:12],
        "held_on": timezone.localdate(),
        "attendees": "\n".join(consultations.STANDING_UNITS),
    }
    form = SessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        region = Region.objects.filter(region_code=v["region"]).first()
        if region is None or not covers(prefixes, region.region_code):
            form.add_error("region", _("This area is outside your scope."))
        else:
            try:
                c = consultations.consultation_open(
                    actor=request.user,
                    region=region,
                    held_on=v["held_on"],
                    attendees=v["attendees"].splitlines(),
                )
            except DisputeError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Consultation opened."))
                return redirect("disputes:consultation", pk=c.pk)
    return render(request, "disputes/consultation_new.html", {"form": form})


def _agenda_context(request: HttpRequest, c: Consultation) -> dict[str, Any]:
    chair = _may_chair(request, c.region_code)
    items = list(c.items.select_related("case", "follow_up_done_by").order_by("id"))
    departments = consultations.area_departments(c.region_code)
    may_record = consultations.done_recorder(request.user, c)
    return {
        "c": c,
        "chair": chair,
        "items": [
            {
                "item": i,
                "form": decision_form(
                    c,
                    None,
                    initial={
                        "decision": i.decision,
                        "follow_up_department": i.follow_up_department_id,
                        "follow_up_unit": ""
                        if i.follow_up_department_id
                        else i.follow_up_unit,
                        "follow_up_due": i.follow_up_due,
                    },
                    prefix=f"i{i.pk}",
                    departments=departments,
                ),
                "done_form": DoneForm(initial={"version": i.version}, prefix=f"d{i.pk}")
                if i.follow_up_unit and i.follow_up_done_at is None and may_record(i)
                else None,
            }
            for i in items
        ],
        "item_form": ItemForm(),
        "units_form": SessionForm(
            initial={"attendees": "\n".join(c.attendees)}, prefix="u"
        ),
        # Hard cases of the area not on the agenda yet: high risk or owned by a leader.
        "candidates": selectors.cases_visible(request.user)
        .filter(region_code__startswith=c.region_code, state__in=selectors.OPEN_STATES)
        .exclude(pk__in=[i.case_id for i in items])
        .order_by("-risk_score", "-created_at")[:20]
        if chair
        else [],
        "extra": consultations.extra_units(c),
    }


def _agenda(
    request: HttpRequest, c: Consultation, error: str = "", status: int = 200
) -> HttpResponse:
    context = {**_agenda_context(request, c), "error": error}
    template = (
        "disputes/_agenda.html"
        if request.headers.get("HX-Request")
        else "disputes/consultation.html"
    )
    return render(request, template, context, status=status)


@staff_required
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _agenda(request, _session(request, pk))


def _chaired(request: HttpRequest, pk: int) -> Consultation:
    c = _session(request, pk)
    if not _may_chair(request, c.region_code):
        raise PermissionDenied
    return c


@staff_required
@require_POST
def consultation_units(request: HttpRequest, pk: int) -> HttpResponse:
    c = _chaired(request, pk)
    try:
        consultations.consultation_units_set(
            actor=request.user,
            consultation=c,
            attendees=request.POST.get("u-attendees", "").splitlines(),
        )
    except DisputeError as exc:
        return _agenda(request, c, str(exc), 400)
    messages.success(request, _("Attending units saved."))
    return redirect("disputes:consultation", pk=c.pk)


@staff_required
@require_POST
def consultation_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = _chaired(request, pk)
    code = request.POST.get("case", "").strip()
    case = selectors.cases_visible(request.user).filter(code=code).first()
    try:
        if case is None:
            raise DisputeError(_("No such case in your scope."), field="case")
        consultations.consultation_item_add(
            actor=request.user, consultation=c, case=case
        )
    except DisputeError as exc:
        return _agenda(request, c, str(exc), 400)
    if request.headers.get("HX-Request"):
        return _agenda(request, c)
    return redirect("disputes:consultation", pk=c.pk)


@staff_required
@require_POST
def consultation_item_decide(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    c = _chaired(request, pk)
    row = ConsultationItem.objects.filter(consultation=c, pk=item).first()
    if row is None:
        raise Http404
    form = decision_form(c, request.POST, prefix=f"i{row.pk}")
    if not form.is_valid():
        return _agenda(request, c, _("Check the fields of the decision."), 400)
    try:
        consultations.consultation_item_decide(
            actor=request.user, item=row, data=form.cleaned_data
        )
    except DisputeError as exc:
        return _agenda(request, c, str(exc), 400)
    if request.headers.get("HX-Request"):
        return _agenda(request, c)
    return redirect("disputes:consultation", pk=c.pk)


@staff_required
@require_POST
def consultation_follow_up_done(
    request: HttpRequest, pk: int, item: int
) -> HttpResponse:
    """The unit responsible (or a center of the area) records the follow-up done."""
    c = _session(request, pk)
    row = (
        ConsultationItem.objects.filter(consultation=c, pk=item)
        .select_related("consultation", "case")
        .first()
    )
    if row is None:
        raise Http404
    if not consultations.may_record_done(request.user, row):
        raise PermissionDenied
    form = DoneForm(request.POST, prefix=f"d{row.pk}")
    if not form.is_valid():
        return _agenda(request, c, _("Say what the unit did."), 400)
    try:
        consultations.follow_up_done(
            actor=request.user,
            item=row,
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except consultations.StaleItem:
        return _agenda(
            request,
            c,
            _("Someone changed this decision first; check it and try again."),
            409,
        )
    except DisputeError as exc:
        return _agenda(request, c, str(exc), 400)
    if request.headers.get("HX-Request"):
        return _agenda(request, c)
    messages.success(request, _("Follow-up recorded as done."))
    return redirect("disputes:consultation", pk=c.pk)
