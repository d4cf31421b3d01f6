"""Back office for the matter catalogue (editable, audited, exportable to Excel) and
read-only views of workflows, events and their append-only timeline."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.audit import audit_record, diff
from civicgrid.core.scope import covers
from civicgrid.events.catalogue import (
    XLSX_CONTENT_TYPE,
    catalogue_export_xlsx,
    catalogue_template_xlsx,
    validate_time_limits,
)
from civicgrid.events.models import (
    Assignment,
    Attachment,
    Event,
    EventAction,
    Matter,
    MatterCategory,
    ScheduledJob,
    WorkflowDefinition,
)
from civicgrid.events.services import workflow_install
from civicgrid.events.workflow import DefinitionError
from civicgrid.events.workflow_diff import diff_definitions
from civicgrid.events.workflow_files import read_definition_file


def _xlsx_response(data: bytes, stem: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    name = f"{stem}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class AuditedAdmin(admin.ModelAdmin):
    """Catalogue edits made by hand leave the same audit trail as imports."""

    audit_name = ""

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        before = {f: form.initial.get(f) for f in form.changed_data} if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = {f: form.cleaned_data.get(f) for f in form.changed_data}
            audit_record(
                actor=request.user,
                action=f"{self.audit_name}.{'update' if change else 'create'}",
                obj=obj,
                changes=diff(before, after),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=f"{self.audit_name}.delete",
                obj=obj,
                changes={"code": obj.code, "name": obj.name},
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(MatterCategory)
class MatterCategoryAdmin(AuditedAdmin):
    audit_name = "matter_category"
    list_display = ("code", "name", "parent", "order")
    list_filter = (("parent", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    ordering = ("code",)


class MatterForm(forms.ModelForm):
    class Meta:
        model = Matter
        fields = [
            "code",
            "name",
            "category",
            "description",
            "keywords",
            "town_department",
            "county_department",
            "city_department",
            "time_limits",
            "admitted_to_grid",
            "small_in_grid",
            "peace_item_code",
            "active",
        ]

    def clean_time_limits(self) -> dict[str, Any]:
        try:
            return validate_time_limits(self.cleaned_data.get("time_limits"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("small_in_grid") and not data.get("admitted_to_grid"):
            self.add_error(
                "small_in_grid",
                _(
                    "A small matter handled in the grid must be admitted to grid workers."
                ),
            )
        return data


@admin.register(Matter)
class MatterAdmin(AuditedAdmin):
    audit_name = "matter"
    form = MatterForm
    change_list_template = "admin/events/matter/change_list.html"
    list_display = (
        "code",
        "name",
        "category",
        "town_department",
        "county_department",
        "city_department",
        "admitted_to_grid",
        "small_in_grid",
        "peace_item_code",
        "active",
    )
    list_filter = (
        "active",
        "admitted_to_grid",
        "small_in_grid",
        ("category", admin.RelatedOnlyFieldListFilter),
        "county_department",
        "peace_item_code",
    )
    search_fields = ("code", "name", "keywords", "description")
    list_select_related = ("category",)
    autocomplete_fields = ("category",)
    actions = ("export_catalogue",)
    fieldsets = (
        (None, {"fields": ("code", "name", "category", "description", "keywords")}),
        (
            _("responsible department kind"),
            {"fields": ("town_department", "county_department", "city_department")},
        ),
        (
            _("handling"),
            {
                "fields": (
                    "time_limits",
                    "admitted_to_grid",
                    "small_in_grid",
                    "peace_item_code",
                    "active",
                )
            },
        ),
    )

    @admin.action(description=_("Export the whole catalogue to Excel"))
    def export_catalogue(
        self, request: HttpRequest, queryset: QuerySet[Matter]
    ) -> HttpResponse:
        # The whole catalogue, not the selection: the file must re-import unchanged.
        return _xlsx_response(catalogue_export_xlsx(), "matter-catalogue")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "export/",
                wrap(self.export_view),
                name="events_matter_export",
            ),
            path(
                "template/",
                wrap(self.template_view),
                name="events_matter_template",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _xlsx_response(catalogue_export_xlsx(), "matter-catalogue")

    def template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _xlsx_response(catalogue_template_xlsx(), "matter-catalogue-template")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services: the timeline is append-only, and
    workflows and assignments change through their own actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False


class WorkflowUploadForm(forms.Form):
    city_code = forms.RegexField(
        label=_("city code"),
        regex=r"^(\d{4})?$",
        required=False,
        help_text=_("Four digits (e.g. 3703); empty for the default definition."),
    )
    file = forms.FileField(label=_("definition file (JSON or YAML)"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_city_code(self) -> str:
        code: str = self.cleaned_data.get("city_code") or ""
        if not covers(self.user.scope_prefixes, code):
            raise forms.ValidationError(_("This city is outside your scope."))
        return code


class WorkflowDiffForm(forms.Form):
    old = forms.ModelChoiceField(
        label=_("older version"), queryset=WorkflowDefinition.objects.all()
    )
    new = forms.ModelChoiceField(
        label=_("newer version"), queryset=WorkflowDefinition.objects.all()
    )


@admin.register(WorkflowDefinition)
class WorkflowDefinitionAdmin(ReadOnlyAdmin):
    """Each version readable as tables; new versions come from an uploaded file
    through ``workflow_install`` (validated, audited); any two versions compared."""

    list_display = ("name", "city_code", "version", "active", "created_at")
    list_filter = ("active", "name")
    search_fields = ("name", "city_code")
    change_list_template = "admin/events/workflowdefinition/change_list.html"
    fields = (
        "name",
        "city_code",
        "version",
        "active",
        "created_at",
        "summary",
        "states_table",
        "transitions_table",
    )
    readonly_fields = fields

    @admin.display(description=_("title and initial state"))
    def summary(self, obj: WorkflowDefinition) -> str:
        d = obj.definition
        return render_to_string(
            "admin/events/workflowdefinition/summary.html",
            {"d": d, "obj": obj, "previous": self._previous(obj)},
        )

    @admin.display(description=_("states"))
    def states_table(self, obj: WorkflowDefinition) -> str:
        return render_to_string(
            "admin/events/workflowdefinition/states.html",
            {"states": obj.definition.get("states", {})},
        )

    @admin.display(description=_("transitions"))
    def transitions_table(self, obj: WorkflowDefinition) -> str:
        return render_to_string(
            "admin/events/workflowdefinition/transitions.html",
            {"transitions": obj.definition.get("transitions", [])},
        )

    @staticmethod
    def _previous(obj: WorkflowDefinition) -> WorkflowDefinition | None:
        return (
            WorkflowDefinition.objects.filter(
                city_code=obj.city_code, name=obj.name, version__lt=obj.version
            )
            .order_by("-version")
            .first()
        )

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="events_workflow_upload"),
            path("diff/", wrap(self.diff_view), name="events_workflow_diff"),
            *super().get_urls(),
        ]

    def _page(
        self, request: HttpRequest, template: str, title: str, **context: Any
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            f"admin/events/workflowdefinition/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                **context,
            },
        )

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("events.add_workflowdefinition"):
            raise PermissionDenied
        errors: list[str] = []
        form = WorkflowUploadForm(
            request.POST or None, request.FILES or None, user=request.user
        )
        if request.method == "POST" and form.is_valid():
            try:
                data = read_definition_file(form.cleaned_data["file"])
                before = WorkflowDefinition.objects.count()
                wf = workflow_install(
                    actor=request.user,
                    city_code=form.cleaned_data["city_code"],
                    data=data,
                )
            except DefinitionError as exc:
                errors = exc.reasons
            else:
                if WorkflowDefinition.objects.count() == before:
                    messages.warning(
                        request,
                        _("Identical to %(wf)s: nothing was installed.") % {"wf": wf},
                    )
                else:
                    messages.success(request, _("Installed %(wf)s.") % {"wf": wf})
                return redirect("admin:events_workflowdefinition_change", wf.pk)
        return self._page(
            request,
            "upload.html",
            str(_("Upload a workflow definition")),
            form=form,
            errors=errors,
        )

    def diff_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = WorkflowDiffForm(request.GET or None)
        changes = None
        if form.is_valid():
            changes = diff_definitions(
                form.cleaned_data["old"].definition, form.cleaned_data["new"].definition
            )
        return self._page(
            request,
            "diff.html",
            str(_("Compare two workflow versions")),
            form=form,
            diff=changes,
        )


class EventActionInline(admin.TabularInline):
    model = EventAction
    fields = ("at", "transition", "from_state", "to_state", "actor_label", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "title",
        "city_code",
        "matter",
        "severity",
        "state",
        "level",
        "source",
        "deadline_at",
        "created_at",
    )
    list_filter = ("state", "severity", "level", "source", "city_code")
    search_fields = ("code", "title")
    list_select_related = ("matter",)
    date_hierarchy = "created_at"
    # Personal data (reporter name and phone) stays out: its reads must be logged,
    # which only the masked API paths do.
    exclude = ("reporter_name", "reporter_phone", "idempotency_key", "request_digest")
    inlines = (EventActionInline,)


@admin.register(EventAction)
class EventActionAdmin(ReadOnlyAdmin):
    list_display = (
        "event",
        "transition",
        "from_state",
        "to_state",
        "actor_label",
        "at",
    )
    list_filter = ("transition", "to_state")
    search_fields = ("event__code", "actor_label", "note")
    list_select_related = ("event",)
    date_hierarchy = "at"


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("event", "department", "role", "status", "active", "updated_at")
    list_filter = ("role", "status", "active")
    search_fields = ("event__code", "department__name")
    list_select_related = ("event", "department")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("event", "file", "content_type", "size", "created_at")
    list_filter = ("content_type",)
    search_fields = ("event__code", "sha256")
    list_select_related = ("event",)


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    list_display = ("name", "task_path", "last_slot", "last_enqueued_at")
    search_fields = ("name", "task_path")
