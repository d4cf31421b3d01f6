"""Forms of the event pages: a citizen's report, tracking, and one form per workflow
step built from the step's required fields."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Department
from civicgrid.events.models import Rating, Source
from civicgrid.events.workflow import Transition

# Labels of the fields a workflow definition may require (its "fields" lists).
FIELD_LABELS = {
    "reason": _("Reason"),
    "result": _("Result of the handling"),
    "conclusion": _("Conclusion"),
    "lead_department": _("Lead department"),
    "co_departments": _("Co-handling departments"),
    "rating": _("Satisfaction"),
    "hours": _("Extension (hours)"),
    "duplicate_of": _("Code of the event it repeats"),
    "departments": _("Departments summoned"),
    "due_at": _("Due at"),
}
RATING_CHOICES = [
    (Rating.SATISFIED.value, _("Satisfied")),
    (Rating.BASICALLY.value, _("Basically satisfied")),
    (Rating.UNSATISFIED.value, _("Unsatisfied")),
]
SOURCE_LABELS = {
    Source.CITIZEN_WEB: _("Citizen (web)"),
    Source.CITIZEN_MOBILE: _("Citizen (mobile)"),
    Source.HOTLINE: _("Hotline"),
    Source.GRID_WORKER: _("Grid worker"),
    Source.DEPARTMENT: _("Department notice"),
    Source.HIGHER_LEVEL: _("Assigned by a higher level"),
    Source.LEADER: _("Leader instruction"),
    Source.LOWER_LEVEL: _("Reported by a lower level"),
    Source.MEDIA: _("Media"),
}
PHONE_PATTERN = r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$"


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


class DepartmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class DepartmentMultipleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def step_fields(t: Transition) -> list[str]:
    """The fields shown for a step: its required ones, and co-handlers for a dispatch."""
    names = list(t.fields)
    if t.effect == "dispatch" and "co_departments" not in names:
        names.append("co_departments")
    return names


class TransitionForm(forms.Form):
    """One workflow step; the engine re-checks everything, this form only gives the
    officer Chinese messages for what is plainly missing."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        transition: Transition,
        departments: QuerySet[Department],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", transition.name)
        super().__init__(*args, **kwargs)
        self.transition = transition
        for name in step_fields(transition):
            self.fields[name] = self._field(
                name, name in transition.fields, departments
            )
        # The note last, under the step's own fields.
        self.fields["note"] = self.fields.pop("note")

    @staticmethod
    def _field(
        name: str, required: bool, departments: QuerySet[Department]
    ) -> forms.Field:
        label = FIELD_LABELS.get(name, name)
        if name == "lead_department":
            return DepartmentChoice(
                queryset=departments, required=required, label=label
            )
        if name == "co_departments":
            return DepartmentMultipleChoice(
                queryset=departments,
                required=required,
                label=label,
                widget=forms.SelectMultiple(attrs={"size": 4}),
                help_text=_("Hold Ctrl (or ⌘) to choose several."),
            )
        if name == "rating":
            return forms.ChoiceField(
                choices=RATING_CHOICES, required=required, label=label
            )
        if name == "hours":
            return forms.FloatField(
                min_value=0.5, max_value=720, required=required, label=label
            )
        if name == "duplicate_of":
            return forms.CharField(max_length=20, required=required, label=label)
        return forms.CharField(
            max_length=4000,
            required=required,
            label=label,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead = data.get("lead_department")
        if lead is not None and lead in (data.get("co_departments") or []):
            self.add_error(
                "co_departments",
                _("The lead department cannot also be a co-handling department."),
            )
        return data

    def step_data(self) -> dict[str, Any]:
        """The cleaned fields in the shape the engine takes (department ids)."""
        out: dict[str, Any] = {}
        for name in step_fields(self.transition):
            value = self.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            if isinstance(value, Department):
                value = value.pk
            elif isinstance(value, QuerySet | list):
                value = [d.pk for d in value]
            out[name] = value
        return out


class ReportForm(forms.Form):
    """A citizen's report without an account."""

    title = forms.CharField(
        label=_("What is the problem?"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. a street lamp is out")}),
    )
    description = forms.CharField(
        label=_("Details"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    address = forms.CharField(
        label=_("Place (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. gate 2 of the residential estate")}
        ),
    )
    lon = forms.FloatField(
        widget=forms.HiddenInput,
        min_value=-180,
        max_value=180,
        error_messages={"required": _("Click the map to mark the place.")},
    )
    lat = forms.FloatField(
        widget=forms.HiddenInput,
        min_value=-90,
        max_value=90,
        error_messages={"required": _("Click the map to mark the place.")},
    )
    reporter_name = forms.CharField(
        label=_("Your name (optional)"), max_length=50, required=False
    )
    reporter_phone = forms.RegexField(
        label=_("Your phone (optional)"),
        regex=PHONE_PATTERN,
        required=False,
        error_messages={"invalid": _("Enter a mobile or landline number.")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    # What a retry must repeat exactly to count as the same report.
    PAYLOAD = (
        "title",
        "description",
        "address",
        "lon",
        "lat",
        "reporter_name",
        "reporter_phone",
    )

    def payload(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.PAYLOAD}


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Report code"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "3703-20261129-0001"}),
    )
    token = forms.CharField(label=_("Tracking token"), max_length=32)


class RateForm(TrackForm):
    """A citizen rates the result with the code and token of the report."""

    rating = forms.ChoiceField(
        label=_("Are you satisfied with the result?"),
        choices=RATING_CHOICES,
        widget=forms.RadioSelect,
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Anything to add (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QueueFilterForm(forms.Form):
    """The queue's filters (GET); choices are given by the view."""

    state = forms.ChoiceField(label=_("State"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    matter = forms.ChoiceField(label=_("Matter"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    region = forms.RegexField(
        label=_("Region code"),
        regex=r"^\d{2,12}$",
        required=False,
        widget=forms.TextInput(attrs={"size": 12, "inputmode": "numeric"}),
    )
    created_after = forms.DateField(
        label=_("Reported from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = forms.DateField(
        label=_("Reported before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(
        self,
        *args: Any,
        states: Iterable[tuple[str, str]],
        matters: Iterable[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        everything = ("", _("All"))
        self.fields["state"].choices = [everything, *states]  # type: ignore[attr-defined]
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            everything,
            *[(k.value, v) for k, v in SOURCE_LABELS.items()],
        ]
        self.fields["matter"].choices = [everything, *matters]  # type: ignore[attr-defined]

    def params(self) -> dict[str, str]:
        """The filters in the form events_filtered takes."""
        if not self.is_valid():
            return {}
        out = {
            k: str(self.cleaned_data[k])
            for k in ("state", "source", "matter", "region")
            if self.cleaned_data.get(k)
        }
        for k in ("created_after", "created_before"):
            if self.cleaned_data.get(k):
                out[k] = self.cleaned_data[k].isoformat()
        if self.cleaned_data.get("overdue"):
            out["overdue"] = "1"
        return out
