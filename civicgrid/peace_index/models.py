"""Peace index tables: versioned catalogue, monthly counts, runs, results, warnings."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IndexKind(models.TextChoices):
    """The composites computed on the same machinery."""

    PEACE = "peace", _("peace index")  # 平安指数 (潍坊, 淄博)
    STABILITY = "stability", _("stability warning index")  # 社会稳定预警指数 (临沂)


class Category(models.TextChoices):
    # the four categories of the peace index
    CRIMINAL = "criminal", _("criminal alerts")  # 刑事警情
    PUBLIC_ORDER = "public_order", _("public-order alerts")  # 治安警情
    TRAFFIC = "traffic", _("traffic accidents")  # 交通事故
    PUBLIC_SAFETY = "public_safety", _("public-safety incidents")  # 公共安全事件
    # the four categories of the stability warning index
    DISPUTE = "dispute", _("disputes")  # 矛盾纠纷
    PETITION = "petition", _("petitions")  # 信访
    MASS_INCIDENT = "mass_incident", _("mass incidents")  # 群体性事件
    HIGH_RISK = "high_risk", _("high-risk disputes")  # 高风险矛盾纠纷


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")  # being edited, not used for computing
    ACTIVE = "active", _("active")  # the one new computations use
    RETIRED = "retired", _("retired")  # replaced; months computed with it keep it


class CatalogueVersion(models.Model):
    """One version of an index's method (指标体系): items, weights and the rules."""

    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    number = models.PositiveIntegerField(_("version"))
    label = models.CharField(_("label"), max_length=100, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
    )
    security_weight = models.FloatField(_("weight of the security value"), default=0.6)
    governance_weight = models.FloatField(
        _("weight of the governance value"), default=0.4
    )
    warn_bottom_fraction = models.FloatField(
        _("warn the bottom fraction of a level"), default=0.10
    )
    warn_security_below = models.FloatField(
        _("warn when the security value is below"), default=40.0
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")
        ordering = ["kind", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "number"], name="pi_version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status="active"),
                name="pi_version_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.number}"


class Indicator(models.Model):
    """One item of a catalogue version (指标项) with its weight."""

    version = models.ForeignKey(
        CatalogueVersion,
        verbose_name=_("catalogue version"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    code = models.CharField(_("item code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    weight = models.FloatField(_("weight"))
    # Matter codes of the event catalogue (S2) whose events count for this item.
    event_matters = models.JSONField(_("event matters"), default=list, blank=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["version", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="pi_indicator_unique_code"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0), name="pi_indicator_weight_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CountImport(models.Model):
    """One delivery of monthly counts: who sent which file (or event roll-up) when."""

    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    source = models.CharField(_("source"), max_length=40)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    months = models.JSONField(_("months"), default=list)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    region_code = models.CharField(_("scope"), max_length=12, blank=True)
    city_code = models.CharField(_("city code"), max_length=4, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("count import")
        verbose_name_plural = _("count imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} {self.file_name} ({self.rows})"


class MonthlyCount(models.Model):
    """Cases of one item in one area in one month (月度案事件数), from one source."""

    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    month = models.CharField(_("month"), max_length=7)  # YYYY-MM
    region_code = models.CharField(_("area code prefix"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=4)
    indicator_code = models.CharField(_("item code"), max_length=20)
    source = models.CharField(_("source"), max_length=40)
    count = models.PositiveIntegerField(_("count"))
    batch = models.ForeignKey(
        CountImport,
        verbose_name=_("import"),
        on_delete=models.PROTECT,
        related_name="counts",
    )

    class Meta:
        verbose_name = _("monthly count")
        verbose_name_plural = _("monthly counts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "city_code", "month", "source", "region_code"]
                + ["indicator_code"],
                name="pi_count_unique",
            )
        ]
        indexes = [
            models.Index(fields=["kind", "city_code", "month"], name="pi_count_month")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.region_code} {self.indicator_code}={self.count}"


class RunStatus(models.TextChoices):
    COMPUTED = "computed", _("computed")  # figures ready for review
    REVIEWED = "reviewed", _("reviewed")  # checked by the center, ready to publish
    PUBLISHED = "published", _("published")  # public and frozen


class MonthRun(models.Model):
    """The computation of one index for one city and one month, and its publication."""

    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    month = models.CharField(_("month"), max_length=7)
    region_code = models.CharField(_("city prefix"), max_length=4)
    city_code = models.CharField(_("city code"), max_length=4)
    version = models.ForeignKey(
        CatalogueVersion,
        verbose_name=_("catalogue version"),
        on_delete=models.PROTECT,
        related_name="runs",
    )
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices)
    input_digest = models.CharField(_("digest of the inputs"), max_length=64)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    computed_by = models.CharField(_("computed by"), max_length=150)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.CharField(_("reviewed by"), max_length=150, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.CharField(_("published by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("monthly run")
        verbose_name_plural = _("monthly runs")
        ordering = ["-month", "city_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "city_code", "month"], name="pi_run_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.city_code} {self.month} ({self.status})"

    @property
    def is_frozen(self) -> bool:
        return self.status == RunStatus.PUBLISHED


class TextJSONField(models.JSONField):  # type: ignore[type-arg]
    """JSON kept as written: PostgreSQL's ``json`` rather than ``jsonb`` (the
    other databases store JSON as text anyway). For a column only ever written
    in bulk and read whole, never searched: a month writes tens of thousands of
    values, and parsing each into ``jsonb`` cost PostgreSQL a third of the
    COPY. Reads give the same Python values."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is not None and not isinstance(value, str):
            return value  # psycopg decodes ``json`` itself
        return super().from_db_value(value, expression, connection)


class AreaResult(models.Model):
    """The figures of one area in one run: rates, values, index, rank, explanation."""

    # no index of their own: (run, region_code) is unique (its index leads with
    # run), and results are looked up by region_code, not by the region's key.
    # No database constraint on run either: results are only written in bulk by
    # services._store for the run it has just saved in the same transaction, and
    # the ORM still deletes them with their run; on PostgreSQL the deferred check
    # of tens of thousands of rows cost more than writing them.
    run = models.ForeignKey(
        MonthRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="areas",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    month = models.CharField(_("month"), max_length=7)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    region_code = models.CharField(_("area code prefix"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=4)
    parent_code = models.CharField(_("parent prefix"), max_length=12, blank=True)
    level = models.CharField(_("level"), max_length=10)
    area_class = models.CharField(_("urban/rural class"), max_length=10)
    population = models.PositiveBigIntegerField(_("resident population"))
    cases = models.PositiveIntegerField(_("cases"))
    raw_rate = models.FloatField(_("weighted rate per 10,000 (raw)"))
    eb_rate = models.FloatField(_("weighted rate per 10,000 (stabilised)"))
    security = models.FloatField(_("security value"))
    yoy_change = models.FloatField(_("year-on-year change"), null=True, blank=True)
    class_change = models.FloatField(
        _("mean change of the class"), null=True, blank=True
    )
    governance = models.FloatField(_("governance value"))
    index = models.FloatField(_("index"))
    rank = models.PositiveIntegerField(_("rank"))
    rank_total = models.PositiveIntegerField(_("areas ranked"))
    warned = models.BooleanField(_("warned"), default=False)
    warning_reasons = models.JSONField(_("warning reasons"), default=list)
    # [[code, count, raw, stabilised, level rate, excess], …] (selectors.explain);
    # every item's figures are recomputed from the inputs: services.area_items
    drivers = TextJSONField(_("items that drove it"), default=list)

    class Meta:
        verbose_name = _("area result")
        verbose_name_plural = _("area results")
        ordering = ["run", "level", "rank", "region_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "region_code"], name="pi_result_unique"
            )
        ]
        indexes = [
            models.Index(fields=["kind", "region_code", "month"], name="pi_result_area")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.region_code} {self.index:.1f}"


class RectificationStatus(models.TextChoices):
    LISTED = "listed", _("listed")  # 挂牌
    IN_PROGRESS = "in_progress", _("in progress")  # 整治中
    CLOSED = "closed", _("closed")  # 摘牌


class Rectification(models.Model):
    """An area listed for rectification (挂牌整治) and its tracking to the end."""

    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    region_code = models.CharField(_("area code prefix"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=4)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RectificationStatus.choices,
        default=RectificationStatus.LISTED,
    )
    listed_month = models.CharField(_("listed in"), max_length=7)
    last_listed_month = models.CharField(_("last listed in"), max_length=7)
    months_listed = models.PositiveIntegerField(_("months listed"), default=1)
    escalation_level = models.PositiveIntegerField(_("escalations"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    measures = models.TextField(_("measures"), blank=True)
    closure_note = models.TextField(_("closure"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["-last_listed_month", "region_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "region_code"],
                condition=~Q(status="closed"),
                name="pi_rectification_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.listed_month} ({self.status})"


class RectificationProgress(models.Model):
    """One entry of a rectification's progress log."""

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.CASCADE,
        related_name="progress",
    )
    region_code = models.CharField(_("area code prefix"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=4)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor_label = models.CharField(_("by"), max_length=150)
    note = models.TextField(_("progress"))

    class Meta:
        verbose_name = _("rectification progress")
        verbose_name_plural = _("rectification progress")
        ordering = ["rectification", "at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.note[:30]}"


class Report(models.Model):
    """A generated analysis report (Word), kept for download."""

    kind = models.CharField(_("index"), max_length=20, choices=IndexKind.choices)
    region_code = models.CharField(_("area code prefix"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=4)
    period = models.CharField(_("period"), max_length=7)  # YYYY-MM or YYYY-Qn
    file_name = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(_("content"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


class NoticeKind(models.TextChoices):
    WARNING = "warning", _("warning")  # 预警
    RECTIFICATION = "rectification", _("listed for rectification")  # 挂牌整治
    ESCALATION = "escalation", _("escalation")  # 升级督办
    REPORT = "report", _("analysis report")  # 分析报告


class Notice(models.Model):
    """A message to the governance center of an area (its inbox)."""

    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    region_code = models.CharField(_("addressed to"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=4)
    month = models.CharField(_("month"), max_length=7)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    report = models.ForeignKey(
        Report,
        verbose_name=_("report"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notices",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
