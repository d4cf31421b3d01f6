"""Matters, workflow definitions, events and their append-only timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Department
from civicgrid.core.counters import DailyCounter
from civicgrid.core.personal import BlindIndexField, PersonalDataField, PersonalKind


class Severity(models.TextChoices):
    NORMAL = "normal", _("normal")  # 一般
    URGENT = "urgent", _("urgent")  # 紧急
    MAJOR = "major", _("major")  # 重大


class LimitKind(models.TextChoices):
    """The time limits a matter sets for each step (hours)."""

    SIGN_FOR = "sign_for", _("sign for")  # 签收
    HANDLE = "handle", _("handle")  # 办理
    VERIFY = "verify", _("verify")  # 核查
    RETURN_VISIT = "return_visit", _("return visit")  # 回访


class MatterCategory(models.Model):
    """A branch of the matter catalogue tree (事项分类)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("matter category")
        verbose_name_plural = _("matter categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Matter(models.Model):
    """A kind of problem the platform handles (事项), with who handles it at each
    level, its time limits by severity, and whether grid workers may take it (准入)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        MatterCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="matters",
    )
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    town_department = models.CharField(
        _("responsible department (town)"),
        max_length=40,
        choices=Department.Kind.choices,
        blank=True,
    )
    county_department = models.CharField(
        _("responsible department (county)"),
        max_length=40,
        choices=Department.Kind.choices,
        blank=True,
    )
    city_department = models.CharField(
        _("responsible department (city)"),
        max_length=40,
        choices=Department.Kind.choices,
        blank=True,
    )
    # {"normal": {"sign_for": 4, "handle": 72, "verify": 24, "return_visit": 48}, ...}
    time_limits = models.JSONField(_("time limits (hours)"), default=dict)
    admitted_to_grid = models.BooleanField(_("admitted to grid workers"), default=False)
    small_in_grid = models.BooleanField(
        _("small matter handled in the grid"), default=False
    )
    peace_item_code = models.CharField(_("peace-index item"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def limit_hours(self, severity: str, kind: str) -> float | None:
        value = (self.time_limits.get(severity) or {}).get(kind)
        return float(value) if value is not None else None

    def department_kind(self, level: str) -> str:
        return {
            "town": self.town_department,
            "county": self.county_department,
            "city": self.city_department,
        }.get(level, "")


class WorkflowDefinition(models.Model):
    """A versioned event loop of one city (or the default, city_code ""): states,
    transitions, roles and time limits as data."""

    city_code = models.CharField(
        _("city code"), max_length=4, blank=True, db_index=True
    )
    name = models.CharField(_("name"), max_length=50)
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("workflow definition")
        verbose_name_plural = _("workflow definitions")
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "name", "version"], name="workflow_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.city_code or '*'})"


class ConfigVersion(models.Model):
    """A random token per configuration table (matters, workflow definitions), renewed
    by a database trigger on any write to that table (migration 0004), whatever
    wrote it: processes keep copies of that configuration keyed by these tokens
    (``civicgrid.events.config``)."""

    table = models.CharField(max_length=63, primary_key=True)
    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.table}@{self.token}"


class Source(models.TextChoices):
    """Where a report came from (SPEC S2)."""

    CITIZEN_WEB = "citizen_web", _("citizen (web)")
    CITIZEN_MOBILE = "citizen_mobile", _("citizen (mobile)")
    HOTLINE = "hotline", _("hotline")
    GRID_WORKER = "grid_worker", _("grid worker")
    DEPARTMENT = "department", _("department notice")
    HIGHER_LEVEL = "higher_level", _("assigned by a higher level")
    LEADER = "leader", _("leader instruction")
    LOWER_LEVEL = "lower_level", _("reported by a lower level")
    MEDIA = "media", _("media")


class Level(models.TextChoices):
    """The level at which an event is being handled (小事不出村、大事不出镇)."""

    GRID = "grid", _("grid")
    VILLAGE = "village", _("village")
    TOWN = "town", _("town")
    COUNTY = "county", _("county")
    CITY = "city", _("city")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")  # 满意
    BASICALLY = "basically_satisfied", _("basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("unsatisfied")  # 不满意


class Event(models.Model):
    """A reported problem followed through its city's loop until closed (事件)."""

    code = models.CharField(_("event code"), max_length=20, unique=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    grid = models.ForeignKey(
        "regions.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    matter = models.ForeignKey(
        Matter,
        verbose_name=_("matter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=4000)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    address = models.CharField(_("place"), max_length=200, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_events",
    )
    reporter_name = PersonalDataField(_("reporter name"), kind=PersonalKind.NAME)
    reporter_phone = PersonalDataField(_("reporter phone"), kind=PersonalKind.PHONE)
    # HMAC-SM3 of the phone (its own key, not the encryption key): exact lookup by
    # phone without the plaintext in the database or the query.
    reporter_phone_index = BlindIndexField(source="reporter_phone")
    workflow = models.ForeignKey(
        WorkflowDefinition,
        verbose_name=_("workflow"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    state = models.CharField(_("state"), max_length=40, db_index=True)
    level = models.CharField(_("handling level"), max_length=10, choices=Level.choices)
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_events",
    )
    deadline_at = models.DateTimeField(
        _("deadline"), null=True, blank=True, db_index=True
    )
    deadline_kind = models.CharField(_("deadline of"), max_length=20, blank=True)
    rating = models.CharField(
        _("rating"), max_length=20, choices=Rating.choices, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    # Given to an anonymous reporter with the code: the code alone is guessable.
    tracking_token = models.CharField(_("tracking token"), max_length=32, blank=True)
    # Optimistic concurrency: every action names the version it saw.
    version = models.PositiveIntegerField(_("version"), default=1)
    idempotency_key = models.CharField(
        max_length=100, null=True, blank=True, unique=True
    )
    request_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["city_code", "state"], name="event_city_state")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class EventAction(models.Model):
    """One step of an event's timeline (流转记录): append-only."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="actions")
    transition = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from state"), max_length=40, blank=True)
    to_state = models.CharField(_("to state"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    deadline_at = models.DateTimeField(_("deadline set"), null=True, blank=True)

    class Meta:
        verbose_name = _("event action")
        verbose_name_plural = _("event actions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.transition}"


class Assignment(models.Model):
    """A department's share of a dispatched event: the lead or a co-handler (会签)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("lead")
        CO = "co", _("co-handler")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be signed for")
        SIGNED = "signed", _("signed for")
        RETURNED = "returned", _("sent back")
        REPORTED = "reported", _("reported done")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="assignments"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    active = models.BooleanField(_("active"), default=True)
    result = models.TextField(_("result"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "department"],
                condition=Q(active=True),
                name="assignment_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.department_id} ({self.role})"


class Attachment(models.Model):
    """A photo attached to an event or to one of its actions (type- and size-checked)."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="attachments"
    )
    action = models.ForeignKey(
        EventAction,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="events/%Y/%m/")
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.file.name or ""


class EventCounter(DailyCounter):
    """The last sequence number of a city's events on a day, for human-readable codes."""

    class Meta(DailyCounter.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "day"], name="event_counter_unique"
            )
        ]


class Whistle(models.Model):
    """A summons of departments to one event (吹哨报到): each must check in in time."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="whistles")
    summoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), max_length=2000)
    due_at = models.DateTimeField(_("check in by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")

    def __str__(self) -> str:
        return f"{self.event_id} whistle {self.pk}"


class WhistleCall(models.Model):
    """One department's check-in (报到) for a whistle; late or missing counts against it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        ON_TIME = "on_time", _("checked in on time")
        LATE = "late", _("checked in late")
        MISSING = "missing", _("did not check in")

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="calls")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="whistle_calls"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("whistle call")
        verbose_name_plural = _("whistle calls")
        constraints = [
            models.UniqueConstraint(
                fields=["whistle", "department"], name="whistle_call_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.whistle_id} → {self.department_id}: {self.status}"


class SupervisionOrder(models.Model):
    """A leader's or center's supervision order (督办单) that the handler must answer."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="supervision_orders"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervision_orders",
    )
    text = models.TextField(_("instruction"), max_length=2000)
    due_at = models.DateTimeField(_("answer by"))
    answer = models.TextField(_("answer"), blank=True, max_length=4000)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")

    def __str__(self) -> str:
        return f"{self.event_id} 督办 {self.pk}"


class DeadlineWarning(models.Model):
    """A yellow (time nearly used) or red (past) warning on a running deadline."""

    class Kind(models.TextChoices):
        YELLOW = "yellow", _("yellow warning")
        RED = "red", _("red warning")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="warnings")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    deadline_kind = models.CharField(_("deadline of"), max_length=20)
    deadline_at = models.DateTimeField(_("deadline"))
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="warnings",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("deadline warning")
        verbose_name_plural = _("deadline warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "kind", "deadline_at"], name="deadline_warning_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.kind}"


class Notification(models.Model):
    """An in-app inbox message (站内消息); SMS/WeChat senders are pluggable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:40]


class ScheduledJob(models.Model):
    """The last slot of a periodic job the scheduler enqueued (one row per job of
    CIVICGRID_SCHEDULE): a restarted or second scheduler does not enqueue it again."""

    name = models.CharField(_("job"), max_length=200, unique=True)
    task_path = models.CharField(_("task"), max_length=200)
    last_slot = models.DateTimeField(_("last slot enqueued"), null=True, blank=True)
    last_enqueued_at = models.DateTimeField(
        _("last enqueued at"), null=True, blank=True
    )
    last_result_id = models.CharField(_("last task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name
