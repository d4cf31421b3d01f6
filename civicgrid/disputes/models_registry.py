"""The registry of the disputes domain: mediation organisations and the expert pool,
leaders' bi-weekly consultations, and the per-case subsidies with their grades and
budgets. Imported by ``civicgrid.disputes.models`` (one app, one set of tables)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.disputes.choices import CenterLevel, Channel


class MediationOrganisation(models.Model):
    """A mediation organisation of a channel (调解组织), e.g. a town's people's
    mediation committee or a city's medical-dispute mediation committee."""

    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=30, choices=Channel.choices)
    # The dispute types it takes; empty means every type.
    fields = models.JSONField(_("fields (dispute types)"), default=list, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=CenterLevel.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT
    )
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mediation organisation")
        verbose_name_plural = _("mediation organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="disputes_organisation_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Mediator(models.Model):
    """A mediator or expert of the pool (专家库)."""

    class Kind(models.TextChoices):
        MEDIATOR = "mediator", _("mediator")  # 调解员
        EXPERT = "expert", _("expert")  # 专家

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mediator_profile",
    )
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    organisation = models.ForeignKey(
        MediationOrganisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    specialties = models.JSONField(_("specialties"), default=list, blank=True)
    # Region-code prefixes the mediator serves; the first is the home area.
    regions = models.JSONField(_("regions served"), default=list)
    region_code = models.CharField(_("home region"), max_length=15, db_index=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    qualifications = models.CharField(_("qualifications"), max_length=300, blank=True)
    available = models.BooleanField(_("available"), default=True)
    max_load = models.PositiveSmallIntegerField(_("maximum open cases"), default=10)

    class Meta:
        verbose_name = _("mediator or expert")
        verbose_name_plural = _("mediators and experts")

    def __str__(self) -> str:
        return self.name


class Consultation(models.Model):
    """A bi-weekly consultation (双周会诊) of hard cases, held in one town with the
    "17+N" member units."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("held in"), on_delete=models.PROTECT
    )
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    held_on = models.DateField(_("held on"))
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    attendees = models.JSONField(_("attending units"), default=list)

    class Meta:
        verbose_name = _("bi-weekly consultation")
        verbose_name_plural = _("bi-weekly consultations")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.region_code} {self.held_on}"


class ConsultationItem(models.Model):
    """One hard case on a consultation's agenda: the decision and its follow-up."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="items"
    )
    case = models.ForeignKey(
        "disputes.Case", on_delete=models.PROTECT, related_name="+"
    )
    decision = models.TextField(_("decision"), max_length=4000, blank=True)
    # The unit responsible: a department of the area where it is in the system
    # (its staff are warned), else only its name (a unit outside the system).
    follow_up_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("follow-up department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    follow_up_unit = models.CharField(_("follow-up by"), max_length=100, blank=True)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    # The follow-up recorded as done by the unit or a center (cleared when the
    # decision assigns it anew); the overdue scan then stays silent.
    follow_up_done_at = models.DateTimeField(
        _("follow-up done at"), null=True, blank=True
    )
    follow_up_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("follow-up done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    follow_up_note = models.TextField(_("follow-up note"), max_length=2000, blank=True)
    # Raised by each change of the item; a caller acting on an older one gets 409.
    version = models.PositiveIntegerField(_("version"), default=1)
    # The due day the overdue warning was sent for (once per due day; a new due
    # day is watched afresh).
    follow_up_warned = models.DateField(
        _("overdue warning sent for"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("consultation item")
        verbose_name_plural = _("consultation items")

    def __str__(self) -> str:
        return f"{self.consultation_id} {self.case_id}"


class SubsidyGrade(models.Model):
    """A difficulty grade of the per-case subsidy (枣庄 个案奖补) and its range."""

    city_code = models.CharField(_("city code"), max_length=4, blank=True)
    code = models.CharField(_("code"), max_length=20)
    label = models.CharField(_("label"), max_length=50)
    amount_min = models.DecimalField(
        _("minimum (yuan)"), max_digits=10, decimal_places=2
    )
    amount_max = models.DecimalField(
        _("maximum (yuan)"), max_digits=10, decimal_places=2
    )

    class Meta:
        verbose_name = _("subsidy grade")
        verbose_name_plural = _("subsidy grades")
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "code"], name="disputes_grade_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_min__gt=0)
                & Q(amount_max__gte=models.F("amount_min")),
                name="disputes_grade_range",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class SubsidyBudget(models.Model):
    """A city's annual subsidy budget (default 1.5 million yuan)."""

    city_code = models.CharField(_("city code"), max_length=4)
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("budget (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("subsidy budget")
        verbose_name_plural = _("subsidy budgets")
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "year"], name="disputes_budget_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.city_code} {self.year}"


class Subsidy(models.Model):
    """A subsidy granted to the mediator of a closed and verified case."""

    case = models.OneToOneField(
        "disputes.Case", on_delete=models.PROTECT, related_name="subsidy"
    )
    mediator = models.ForeignKey(Mediator, on_delete=models.PROTECT, related_name="+")
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    year = models.PositiveSmallIntegerField(_("budget year"))
    grade = models.ForeignKey(
        SubsidyGrade, null=True, blank=True, on_delete=models.PROTECT
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    # "One case, one decision" (一案一议) for major cases: the decision's reference.
    major_decision = models.CharField(
        _("decision (major case)"), max_length=100, blank=True
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subsidy")
        verbose_name_plural = _("subsidies")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="disputes_subsidy_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.amount}"


class MediatorRating(models.Model):
    """A rating (1–5) of a case's mediator, given once mediation has ended: by each
    party (recorded by the officer at the return visit) and by the center officer."""

    class Rater(models.TextChoices):
        PARTY = "party", _("party")
        OFFICER = "officer", _("center officer")

    case = models.ForeignKey(
        "disputes.Case", on_delete=models.CASCADE, related_name="ratings"
    )
    mediator = models.ForeignKey(
        Mediator, on_delete=models.PROTECT, related_name="ratings"
    )
    rater = models.CharField(_("rated by"), max_length=10, choices=Rater.choices)
    party = models.ForeignKey(
        "disputes.Party",
        verbose_name=_("party"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(_("score (1-5)"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("mediator rating")
        verbose_name_plural = _("mediator ratings")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5),
                name="disputes_rating_score_1_5",
            ),
            models.CheckConstraint(
                condition=Q(rater="party", party__isnull=False)
                | Q(rater="officer", party__isnull=True),
                name="disputes_rating_party_xor_officer",
            ),
            models.UniqueConstraint(
                fields=["case", "mediator", "party"],
                condition=Q(rater="party"),
                name="disputes_rating_once_per_party",
            ),
            models.UniqueConstraint(
                fields=["case", "mediator"],
                condition=Q(rater="officer"),
                name="disputes_rating_once_by_officer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.mediator_id} {self.score}"
