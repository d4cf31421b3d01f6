"""Pages for center officers, mediators and leaders (mounted at /disputes/): the
cases in their scope, a new case, and a case's detail with one form per step."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicgrid.core.personal import PersonalKind, mask
from civicgrid.disputes import engine, matching, selectors, services, subsidies
from civicgrid.disputes.errors import DisputeError, NotPermitted, StaleVersion
from civicgrid.disputes.models import (
    Case,
    CaseSource,
    CenterLevel,
    Channel,
    DisputeType,
    Outcome,
    Referral,
)
from civicgrid.disputes.views_case import side_context
from civicgrid.events.views_staff import staff_required

# How each step field is asked for in a form.
CHOICES = {
    "channel": Channel.choices,
    "kept": [("yes", gettext_lazy("kept")), ("no", gettext_lazy("not kept"))],
    "kind": Referral.Kind.choices,
    "outcome": [c for c in Outcome.choices if c[0] != Outcome.RESOLVED],
    "result": [
        ("confirmed", gettext_lazy("confirmed")),
        ("rejected", gettext_lazy("rejected")),
    ],
}
DATES = {"signed_on", "perform_by", "requested_on"}
LONG = {"terms", "minutes", "reason"}
LABELS = {
    "channel": gettext_lazy("Channel"),
    "organisation": gettext_lazy("Organisation (id)"),
    "mediator": gettext_lazy("Mediator (id)"),
    "held_at": gettext_lazy("Held at"),
    "place": gettext_lazy("Place"),
    "participants": gettext_lazy("Participants"),
    "minutes": gettext_lazy("Minutes"),
    "terms": gettext_lazy("Terms"),
    "signed_on": gettext_lazy("Signed on"),
    "perform_by": gettext_lazy("To be performed by"),
    "reason": gettext_lazy("Reason"),
    "court": gettext_lazy("Court"),
    "requested_on": gettext_lazy("Requested on"),
    "result": gettext_lazy("Result"),
    "kept": gettext_lazy("Agreement"),
    "kind": gettext_lazy("Connection"),
    "receiving_body": gettext_lazy("Receiving body"),
    "outcome": gettext_lazy("Outcome"),
}


def step_form(t: Any, version: int, data: Any = None) -> forms.Form:
    """A form of the transition's required fields (and a note)."""
    fields: dict[str, forms.Field] = {}
    for name in t.fields:
        label = LABELS.get(name, name)
        if name in CHOICES:
            fields[name] = forms.ChoiceField(label=label, choices=CHOICES[name])
        elif name in DATES:
            fields[name] = forms.DateField(
                label=label, widget=forms.DateInput(attrs={"type": "date"})
            )
        elif name == "held_at":
            fields[name] = forms.DateTimeField(
                label=label,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
            )
        elif name in LONG:
            fields[name] = forms.CharField(
                label=label, widget=forms.Textarea(attrs={"rows": 3})
            )
        else:
            fields[name] = forms.CharField(label=label, max_length=200)
    if t.name == "divert":
        fields["organisation"] = forms.CharField(
            label=LABELS["organisation"], required=False
        )
    fields["note"] = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    fields["version"] = forms.IntegerField(widget=forms.HiddenInput, initial=version)
    form_class = type("StepForm", (forms.Form,), fields)
    return form_class(data, prefix=t.name)  # type: ignore[no-any-return]


def _case(request: HttpRequest, code: str) -> Case:
    case = selectors.cases_visible(request.user).filter(code=code).first()
    if case is None:
        raise Http404(_("No such case in your scope."))
    return case


@staff_required
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases of my scope (mine to mediate, mine to own), newest first."""
    qs = selectors.cases_filtered(
        selectors.cases_visible(request.user), request.GET
    ).select_related("mediator", "workflow")
    page = Paginator(qs.order_by("-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    rows = [
        {"case": c, "state": engine.definition_for(c).label(c.state)}
        for c in page.object_list
    ]
    return render(request, "disputes/list.html", {"page": page, "rows": rows})


class IntakeForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=CaseSource.choices)
    region = forms.CharField(label=gettext_lazy("Area code"), max_length=12)
    level = forms.ChoiceField(
        label=gettext_lazy("Center level"), choices=CenterLevel.choices
    )
    dispute_type = forms.ChoiceField(
        label=gettext_lazy("Dispute type"), choices=DisputeType.choices
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount at stake"), min_value=0, initial=0
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    narrative = forms.CharField(label=gettext_lazy("Narrative"), widget=forms.Textarea)
    violence_threatened = forms.BooleanField(
        label=gettext_lazy("Violence threatened"), required=False
    )
    applicant_name = forms.CharField(label=gettext_lazy("Applicant"), max_length=60)
    applicant_id = forms.CharField(
        label=gettext_lazy("Applicant's ID number"), max_length=18
    )
    applicant_phone = forms.CharField(
        label=gettext_lazy("Applicant's phone"), max_length=20, required=False
    )
    respondent_name = forms.CharField(label=gettext_lazy("Respondent"), max_length=60)
    respondent_id = forms.CharField(
        label=gettext_lazy("Respondent's ID number"), max_length=18
    )
    vulnerable = forms.BooleanField(
        label=gettext_lazy("A party is vulnerable"), required=False
    )


@staff_required
def case_new(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            case = services.case_intake(
                actor=request.user,
                source=v["source"],
                region_code=v["region"],
                level=v["level"],
                dispute_type=v["dispute_type"],
                amount=v["amount"],
                title=v["title"],
                narrative=v["narrative"],
                violence_threatened=v["violence_threatened"],
                parties=[
                    {
                        "name": v["applicant_name"],
                        "id_number": v["applicant_id"],
                        "phone": v["applicant_phone"],
                        "vulnerable": v["vulnerable"],
                    },
                    {
                        "name": v["respondent_name"],
                        "id_number": v["respondent_id"],
                        "side": "respondent",
                    },
                ],
            )
        except (DisputeError, NotPermitted) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Case %(code)s registered.") % {"code": case.code}
            )
            return redirect("disputes:detail", code=case.code)
    return render(request, "disputes/new.html", {"form": form})


def _detail(
    request: HttpRequest, case: Case, bound: Any = None, error: str = ""
) -> HttpResponse:
    definition = engine.definition_for(case)
    step_forms = []
    for t in definition.available(case.state):
        try:
            engine.authorise(request.user, case, t)
        except NotPermitted:
            continue
        form = (
            bound
            if bound is not None and bound.prefix == t.name
            else step_form(t, case.version)
        )
        step_forms.append({"t": t, "form": form})
    is_center = request.user.is_superuser or bool(  # type: ignore[union-attr]
        request.user.roles & {"center_staff", "leader"}  # type: ignore[union-attr]
    )
    roles = request.user.roles  # type: ignore[union-attr]
    context = {
        "case": case,
        "can_own": "leader" in roles and case.leader_id != request.user.pk,
        "can_subsidise": is_center
        and case.verified_at is not None
        and not hasattr(case, "subsidy"),
        "grades": subsidies.grades_for(case.city_code) if is_center else [],
        "state_label": definition.label(case.state),
        "parties": [
            {
                "side": p.get_side_display(),
                "name": p.name
                if p.kind == "organisation"
                else mask(p.name, PersonalKind.NAME),
                "id_number": mask(p.id_number, PersonalKind.ID_NUMBER),
                "phone": mask(p.phone, PersonalKind.PHONE),
                "vulnerable": p.vulnerable,
            }
            for p in case.parties.all()
        ],
        "timeline": [
            {
                "a": a,
                "label": definition.transitions[a.transition].label
                if a.transition in definition.transitions
                else _("Register")
                if a.transition == "register"
                else a.transition,
                "state": definition.label(a.to_state),
            }
            for a in case.actions.all()
        ],
        "steps": step_forms,
        "error": error,
        **side_context(request, case),
        "diversion": matching.propose_diversion(case)
        if is_center and case.state == "registered"
        else None,
        "experts": matching.suggest_mediators(case)
        if is_center and case.state in ("diverted", "mediating")
        else None,
    }
    return render(
        request, "disputes/detail.html", context, status=400 if error else 200
    )


@staff_required
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _detail(request, _case(request, code))


@staff_required
@require_POST
def case_step(request: HttpRequest, code: str) -> HttpResponse:
    case = _case(request, code)
    definition = engine.definition_for(case)
    t = definition.transitions.get(request.POST.get("transition", ""))
    if t is None:
        return _detail(request, case, error=_("Unknown step."))
    form = step_form(t, case.version, request.POST)
    if not form.is_valid():
        return _detail(
            request, case, bound=form, error=_("Check the fields of the step.")
        )
    data = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in form.cleaned_data.items()
        if k not in ("note", "version")
    }
    try:
        engine.case_act(
            actor=request.user,
            case_id=case.pk,
            transition=t.name,
            version=form.cleaned_data["version"],
            data=data,
            note=form.cleaned_data.get("note", ""),
        )
    except StaleVersion:
        messages.warning(
            request, _("Someone acted on this case first; here is its current state.")
        )
        return redirect("disputes:detail", code=case.code)
    except (DisputeError, NotPermitted) as exc:
        return _detail(request, case, bound=form, error=str(exc))
    messages.success(request, _("Done: %(step)s.") % {"step": t.label})
    return redirect("disputes:detail", code=case.code)


@staff_required
@require_POST
def case_own(request: HttpRequest, code: str) -> HttpResponse:
    """The signed-in leader takes ownership of the case (领导包案)."""
    case = _case(request, code)
    try:
        services.case_assign_leader(actor=request.user, case=case, leader=request.user)  # type: ignore[arg-type]
    except DisputeError as exc:
        return _detail(request, case, error=str(exc))
    messages.success(request, _("You own this case now."))
    return redirect("disputes:detail", code=case.code)


@staff_required
@require_POST
def case_subsidise(request: HttpRequest, code: str) -> HttpResponse:
    """Grant the case's subsidy (centers and leaders)."""
    case = _case(request, code)
    user = request.user
    if not (user.is_superuser or user.roles & {"center_staff", "leader"}):  # type: ignore[union-attr]
        return _detail(request, case, error=_("Your role may not do this."))
    try:
        subsidies.subsidy_grant(
            actor=user,
            case=case,
            amount=request.POST.get("amount", ""),
            grade=request.POST.get("grade", ""),
            major_decision=request.POST.get("major_decision", ""),
        )
    except DisputeError as exc:
        return _detail(request, case, error=str(exc))
    messages.success(request, _("Subsidy granted."))
    return redirect("disputes:detail", code=case.code)
