"""Back office: the registry (organisations, the expert pool, subsidy grades and
budgets) editable and audited; cases, their timeline and records read-only (cases
change only through the workflow steps)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from civicgrid.core.audit import audit_record, diff
from civicgrid.disputes.models import (
    Agreement,
    Case,
    CaseAction,
    CaseWarning,
    CaseWorkflow,
    Consultation,
    ConsultationItem,
    FollowUp,
    JudicialConfirmation,
    MediationOrganisation,
    MediationSession,
    Mediator,
    MediatorRating,
    Party,
    Recusal,
    Referral,
    RiskAssessment,
    Subsidy,
    SubsidyBudget,
    SubsidyGrade,
)


class AuditedAdmin(admin.ModelAdmin):
    """Edits by hand leave the same audit trail as the services."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        before = {f: form.initial.get(f) for f in form.changed_data} if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"disputes.{obj._meta.model_name}.{'update' if change else 'create'}",
                obj=obj,
                changes=diff(
                    before, {f: form.cleaned_data.get(f) for f in form.changed_data}
                ),
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MediationOrganisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "channel", "level", "region_code", "active"]
    list_filter = ["channel", "level", "active"]
    search_fields = ["name", "region_code"]
    raw_id_fields = ["region"]


@admin.register(Mediator)
class MediatorAdmin(AuditedAdmin):
    list_display = [
        "name",
        "kind",
        "organisation",
        "region_code",
        "available",
        "max_load",
    ]
    list_filter = ["kind", "available"]
    search_fields = ["name", "region_code"]
    raw_id_fields = ["user", "organisation"]


@admin.register(SubsidyGrade)
class SubsidyGradeAdmin(AuditedAdmin):
    list_display = ["label", "code", "city_code", "amount_min", "amount_max"]


@admin.register(SubsidyBudget)
class SubsidyBudgetAdmin(AuditedAdmin):
    list_display = ["city_code", "year", "amount"]


class PartyInline(admin.TabularInline):
    model = Party
    # identities stay out of the back office
    fields = readonly_fields = ("kind", "side", "vulnerable")
    extra = 0
    can_delete = False


class ActionInline(admin.TabularInline):
    model = CaseAction
    fields = readonly_fields = (
        "at",
        "transition",
        "from_state",
        "to_state",
        "actor_label",
        "note",
    )
    extra = 0
    can_delete = False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "title",
        "dispute_type",
        "channel",
        "state",
        "risk_grade",
        "level",
        "region_code",
        "created_at",
    ]
    list_filter = ["state", "dispute_type", "channel", "risk_grade", "level"]
    search_fields = ["code", "title", "region_code"]
    inlines = [PartyInline, ActionInline]


for model in (
    CaseWorkflow,
    MediationSession,
    Agreement,
    JudicialConfirmation,
    FollowUp,
    Referral,
    Recusal,
    RiskAssessment,
    Consultation,
    ConsultationItem,
    Subsidy,
    MediatorRating,
    CaseWarning,
):
    admin.site.register(model, ReadOnlyAdmin)
