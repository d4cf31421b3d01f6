"""Dispute cases, their parties and timeline, and the steps of the three gates. The
vocabularies live in ``choices``, the registry (organisations, the expert pool,
consultations, subsidies) in ``models_registry``; both are re-exported here."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.counters import DailyCounter
from civicgrid.core.personal import PersonalDataField, PersonalKind
from civicgrid.disputes.choices import (
    LEVEL_PREFIX,
    CaseSource,
    CenterLevel,
    Channel,
    DisputeType,
    Outcome,
    RiskGrade,
)
from civicgrid.disputes.models_registry import (
    Consultation,
    ConsultationItem,
    MediationOrganisation,
    Mediator,
    MediatorRating,
    Subsidy,
    SubsidyBudget,
    SubsidyGrade,
)

__all__ = [
    "LEVEL_PREFIX",
    "Agreement",
    "Case",
    "CaseAction",
    "CaseAttachment",
    "CaseCounter",
    "CaseSource",
    "CaseWarning",
    "CaseWorkflow",
    "CenterLevel",
    "Channel",
    "Consultation",
    "ConsultationItem",
    "DisputeType",
    "FollowUp",
    "JudicialConfirmation",
    "MediationOrganisation",
    "MediationSession",
    "Mediator",
    "MediatorRating",
    "Outcome",
    "Party",
    "Recusal",
    "Referral",
    "RiskAssessment",
    "RiskGrade",
    "Subsidy",
    "SubsidyBudget",
    "SubsidyGrade",
]


class CaseWorkflow(models.Model):
    """A versioned dispute-case workflow (states, transitions, roles, time limits) of
    one city or the default (city_code ""), in the events engine's definition format."""

    city_code = models.CharField(_("city code"), max_length=4, blank=True)
    name = models.CharField(_("name"), max_length=50)
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dispute workflow")
        verbose_name_plural = _("dispute workflows")
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "name", "version"],
                name="disputes_workflow_unique_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.city_code or '*'})"


class Case(models.Model):
    """A dispute case (矛盾纠纷案件) followed through its workflow to a lawful end."""

    code = models.CharField(_("case code"), max_length=24, unique=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    level = models.CharField(
        _("center level"), max_length=10, choices=CenterLevel.choices
    )
    source = models.CharField(_("source"), max_length=20, choices=CaseSource.choices)
    event = models.ForeignKey(
        "events.Event",
        verbose_name=_("converted event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispute_cases",
    )
    referred_by = models.CharField(_("referring body"), max_length=100, blank=True)
    dispute_type = models.CharField(
        _("dispute type"), max_length=30, choices=DisputeType.choices
    )
    amount = models.DecimalField(
        _("amount at stake (yuan)"), max_digits=14, decimal_places=2, default=0
    )
    title = models.CharField(_("title"), max_length=200)
    narrative = models.TextField(_("narrative"), max_length=8000)
    violence_threatened = models.BooleanField(_("violence threatened"), default=False)
    workflow = models.ForeignKey(
        CaseWorkflow, verbose_name=_("workflow"), on_delete=models.PROTECT
    )
    state = models.CharField(_("state"), max_length=30, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_kind = models.CharField(_("deadline kind"), max_length=20, blank=True)
    channel = models.CharField(
        _("channel"), max_length=30, choices=Channel.choices, blank=True
    )
    organisation = models.ForeignKey(
        MediationOrganisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    mediator = models.ForeignKey(
        Mediator,
        verbose_name=_("mediator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    risk_grade = models.CharField(
        _("risk grade"), max_length=10, choices=RiskGrade.choices, default="low"
    )
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0)
    risk_factors = models.JSONField(_("risk factors"), default=list, blank=True)
    ever_high_risk = models.BooleanField(_("ever high risk"), default=False)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owning leader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_dispute_cases",
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, blank=True
    )
    rating = models.PositiveSmallIntegerField(_("parties' rating (1-5)"), null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    diverted_at = models.DateTimeField(_("diverted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute case")
        verbose_name_plural = _("dispute cases")
        indexes = [models.Index(fields=["city_code", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="disputes_case_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Party(models.Model):
    """A party to a dispute: a person (ID number by GB 11643) or an organisation
    (unified social credit code by GB 32100)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        ORGANISATION = "organisation", _("organisation")

    class Side(models.TextChoices):
        APPLICANT = "applicant", _("applicant")  # 申请人
        RESPONDENT = "respondent", _("respondent")  # 被申请人
        OTHER = "other", _("other party")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    side = models.CharField(_("side"), max_length=15, choices=Side.choices)
    name = PersonalDataField(_("name"), kind=PersonalKind.NAME)
    id_number = PersonalDataField(_("identity number"), kind=PersonalKind.ID_NUMBER)
    # The blind index of the identity: finds repeated disputes without decrypting.
    id_index = models.CharField(max_length=64, db_index=True)
    phone = PersonalDataField(_("phone number"), kind=PersonalKind.PHONE)
    vulnerable = models.BooleanField(
        _("vulnerable (minor, elderly, disabled, ill)"), default=False
    )

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_side_display()}"


class CaseAction(models.Model):
    """One step of a case's workflow, append-only (the timeline)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    transition = models.CharField(_("step"), max_length=40)
    from_state = models.CharField(_("from"), max_length=30)
    to_state = models.CharField(_("to"), max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    deadline_at = models.DateTimeField(_("deadline set"), null=True, blank=True)

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.transition}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=20, default="evidence")
    file = models.FileField(_("file"), upload_to="disputes/%Y/%m/")
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case attachment")
        verbose_name_plural = _("case attachments")

    def __str__(self) -> str:
        return self.file.name or ""


class RiskAssessment(models.Model):
    """A grading of the risk that the dispute turns criminal (民转刑), at one step."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="risks")
    step = models.CharField(_("step"), max_length=40)
    grade = models.CharField(_("grade"), max_length=10, choices=RiskGrade.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    factors = models.JSONField(_("factors"), default=list)
    warned = models.BooleanField(_("warning sent"), default=False)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.grade}"


class Recusal(models.Model):
    """A mediator excluded from a case (回避), with the reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recusals")
    mediator = models.ForeignKey(Mediator, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "mediator"], name="disputes_recusal_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.mediator_id}"


class MediationSession(models.Model):
    """A mediation session: date, place, participants, minutes."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=200)
    participants = models.CharField(_("participants"), max_length=500)
    minutes = models.TextField(_("minutes"), max_length=8000)

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["held_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_at:%Y-%m-%d}"


class Agreement(models.Model):
    """The mediation agreement (调解协议): terms and the signed copy."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, related_name="agreement"
    )
    terms = models.TextField(_("terms"), max_length=8000)
    signed_on = models.DateField(_("signed on"))
    perform_by = models.DateField(_("to be performed by"))
    signed_copy = models.FileField(
        _("signed copy"), upload_to="disputes/agreements/%Y/", blank=True
    )

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self) -> str:
        return f"{self.case_id}"


class JudicialConfirmation(models.Model):
    """A request to a court to confirm the agreement (司法确认) and its ruling."""

    class Result(models.TextChoices):
        PENDING = "pending", _("pending")
        CONFIRMED = "confirmed", _("confirmed")
        REJECTED = "rejected", _("rejected")

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, related_name="confirmation"
    )
    court = models.CharField(_("court"), max_length=100)
    requested_on = models.DateField(_("requested on"))
    result = models.CharField(
        _("result"), max_length=10, choices=Result.choices, default="pending"
    )
    ruling_number = models.CharField(_("ruling number"), max_length=60, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)

    class Meta:
        verbose_name = _("judicial confirmation")
        verbose_name_plural = _("judicial confirmations")

    def __str__(self) -> str:
        return f"{self.case_id} {self.result}"


class FollowUp(models.Model):
    """A scheduled check that the agreement is kept (回访)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    kept = models.BooleanField(_("agreement kept"), null=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.due_on}"


class Referral(models.Model):
    """A failed case handed on (诉调/检调/公调/访调/行调对接) to a receiving body."""

    class Kind(models.TextChoices):
        COURT = "court", _("court (诉调对接)")
        PROCURATORATE = "procuratorate", _("procuratorate (检调对接)")
        POLICE = "police", _("police (公调对接)")
        PETITION = "petition", _("letters and visits (访调对接)")
        ADMINISTRATIVE = "administrative", _("administrative body (行调对接)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    kind = models.CharField(_("connection"), max_length=20, choices=Kind.choices)
    receiving_body = models.CharField(_("receiving body"), max_length=100)
    reason = models.CharField(_("reason"), max_length=1000)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class CaseWarning(models.Model):
    """An overdue warning on a case's time limit (the entry gate's registration and
    diversion, then each handling step's): yellow when most of the time is used,
    red when it is past — red escalates to the center above and the owning leader.
    Recorded once per kind and deadline, however often the scan runs."""

    class Kind(models.TextChoices):
        YELLOW = "yellow", _("yellow: due soon")
        RED = "red", _("red: overdue, escalated")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="warnings")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    deadline_kind = models.CharField(_("time limit"), max_length=20)
    deadline_at = models.DateTimeField(_("deadline"))
    state = models.CharField(_("state"), max_length=30)
    notified = models.PositiveSmallIntegerField(_("people notified"), default=0)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("overdue warning")
        verbose_name_plural = _("overdue warnings")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "deadline_at"],
                name="disputes_warning_once_per_deadline",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.deadline_kind}"


class CaseCounter(DailyCounter):
    """The day's last case number of a city (codes MD3703-20261130-0001)."""

    class Meta(DailyCounter.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "day"], name="disputes_counter_unique"
            )
        ]
