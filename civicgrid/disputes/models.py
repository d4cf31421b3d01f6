"""Dispute cases, their parties and timeline, the mediation organisations and the
expert pool, the steps of the three gates, leaders' consultations and subsidies."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.counters import DailyCounter
from civicgrid.core.personal import PersonalDataField, PersonalKind


class DisputeType(models.TextChoices):
    MARRIAGE_FAMILY = "marriage_family", _("marriage and family")  # 婚姻家庭
    NEIGHBOURS = "neighbours", _("neighbours")  # 邻里
    LAND_HOUSING = "land_housing", _("land and housing")  # 土地房屋
    LABOUR_WAGES = "labour_wages", _("labour and wages")  # 劳动工资
    PROPERTY_MANAGEMENT = "property_management", _("property management")  # 物业
    MEDICAL = "medical", _("medical")  # 医疗
    TRAFFIC_ACCIDENT = "traffic_accident", _("traffic accident")  # 交通事故
    CONSUMER = "consumer", _("consumer")  # 消费
    CONTRACT_DEBT = "contract_debt", _("contract and debt")  # 合同债务
    ENVIRONMENTAL = "environmental", _("environmental")  # 环境
    OTHER = "other", _("other")


class Channel(models.TextChoices):
    """The six channels (六位一体) and the industry/professional organisations."""

    PEOPLES = "peoples_mediation", _("people's mediation")  # 人民调解
    ADMINISTRATIVE = "administrative_mediation", _("administrative mediation")
    JUDICIAL = "judicial_mediation", _("judicial mediation")  # 司法调解
    PETITION = "petition", _("petition")  # 信访
    ARBITRATION = "arbitration", _("arbitration")  # 仲裁
    MASS_ORGANISATION = "mass_organisation", _("mass organisation")  # 群团
    INDUSTRY = "industry_mediation", _("industry or professional mediation")


class CenterLevel(models.TextChoices):
    """The four levels of resolution centers (德州 四级平台)."""

    CITY = "city", _("city center")
    COUNTY = "county", _("county center")
    TOWN = "town", _("town center")
    VILLAGE = "village", _("village center")


# The region-code prefix length of the center of each level.
LEVEL_PREFIX = {"city": 4, "county": 6, "town": 9, "village": 12}


class CaseSource(models.TextChoices):
    WALK_IN = "walk_in", _("walk-in")  # 来访
    GRID_WORKER = "grid_worker", _("grid worker")
    EVENT = "event", _("converted event")
    COURT = "court", _("court referral")  # 诉前委派
    POLICE = "police", _("police referral")
    PETITION = "petition", _("petition referral")
    HOTLINE = "hotline", _("hotline")


class RiskGrade(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


class Outcome(models.TextChoices):
    """How a case ended lawfully (依法终结)."""

    RESOLVED = "resolved", _("resolved by agreement, agreement kept")
    REFERRED = "referred", _("referred on and ended there")
    WITHDRAWN = "withdrawn", _("withdrawn by the applicant")
    TERMINATED = "terminated", _("terminated under the law")


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
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    decision = models.TextField(_("decision"), max_length=4000, blank=True)
    follow_up_unit = models.CharField(_("follow-up by"), max_length=100, blank=True)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)

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

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="subsidy")
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


class CaseCounter(DailyCounter):
    """The day's last case number of a city (codes MD3703-20261130-0001)."""

    class Meta(DailyCounter.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "day"], name="disputes_counter_unique"
            )
        ]
