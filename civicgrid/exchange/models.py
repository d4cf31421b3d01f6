"""Exchange with other systems: Open311 clients, service attributes and requests;
connected government systems with signed push, replay protection and webhooks."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.personal import PersonalDataField, PersonalKind
from civicgrid.events.models import Event, Matter, Source

# --- Open311 GeoReport v2 --------------------------------------------------------


RATE_VALIDATOR = RegexValidator(
    r"^[1-9][0-9]{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)$",
    _("Write a rate as number/period, e.g. 120/hour."),
)


class Open311Client(models.Model):
    """An application allowed to POST service requests (its API key is stored only as
    an HMAC-SM3 digest; the key itself is shown once, when issued)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    source = models.CharField(
        _("recorded source"),
        max_length=20,
        choices=Source.choices,
        default=Source.CITIZEN_MOBILE,
    )
    key_prefix = models.CharField(_("key prefix"), max_length=8, unique=True)
    key_digest = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("active"), default=True)
    # Requests this client may make, as "number/period" (period s, min, hour, day);
    # blank: the site's open311_post / open311_read rates.
    post_rate = models.CharField(
        _("POST rate"),
        max_length=20,
        blank=True,
        validators=[RATE_VALIDATOR],
        help_text=_("e.g. 120/hour; blank for the site default"),
    )
    read_rate = models.CharField(
        _("GET rate"),
        max_length=20,
        blank=True,
        validators=[RATE_VALIDATOR],
        help_text=_("e.g. 600/min; blank for the site default"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class Datatype(models.TextChoices):
    STRING = "string", _("string")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    TEXT = "text", _("text")
    SINGLE = "singlevaluelist", _("single-value list")
    MULTI = "multivaluelist", _("multi-value list")


class ServiceAttribute(models.Model):
    """An extra question a matter asks when reported through Open311."""

    matter = models.ForeignKey(
        Matter,
        verbose_name=_("matter"),
        on_delete=models.CASCADE,
        related_name="open311_attributes",
    )
    code = models.SlugField(_("code"), max_length=50)
    variable = models.BooleanField(_("asks for a value"), default=True)
    datatype = models.CharField(_("datatype"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    description = models.CharField(_("question"), max_length=300)
    datatype_description = models.CharField(
        _("datatype description"), max_length=300, blank=True
    )
    # [{"key": "1", "name": "…"}, …] for the list datatypes.
    values = models.JSONField(_("values"), default=list, blank=True)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["matter", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["matter", "code"], name="open311_attribute_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.matter_id}:{self.code}"


class Open311Request(models.Model):
    """A service request received through Open311: created at once as an event, or
    held (a token) until staff place an address given without coordinates."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be placed on the map")
        CREATED = "created", _("event created")
        REJECTED = "rejected", _("rejected")

    token = models.CharField(_("token"), max_length=32, unique=True)
    client = models.ForeignKey(
        Open311Client,
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    matter = models.ForeignKey(
        Matter, verbose_name=_("matter"), on_delete=models.PROTECT, related_name="+"
    )
    event = models.OneToOneField(
        Event,
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="open311",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    jurisdiction_id = models.CharField(_("jurisdiction"), max_length=50, blank=True)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    long = models.FloatField(_("longitude"), null=True, blank=True)
    address_string = models.CharField(_("address"), max_length=300, blank=True)
    address_id = models.CharField(_("address id"), max_length=50, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    email = PersonalDataField(_("email"), kind=PersonalKind.TEXT)
    device_id = PersonalDataField(_("device id"), kind=PersonalKind.TEXT)
    account_id = PersonalDataField(_("account id"), kind=PersonalKind.TEXT)
    first_name = PersonalDataField(_("first name"), kind=PersonalKind.NAME)
    last_name = PersonalDataField(_("last name"), kind=PersonalKind.NAME)
    phone = PersonalDataField(_("phone"), kind=PersonalKind.PHONE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.event.code if self.event else self.token


class Open311Update(models.Model):
    """An update a client posted on a request (servicerequestupdates extension)."""

    client = models.ForeignKey(
        Open311Client, on_delete=models.PROTECT, related_name="updates"
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="open311_updates"
    )
    update_id = models.CharField(_("client's update id"), max_length=100)
    status = models.CharField(_("status"), max_length=10)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    email = PersonalDataField(_("email"), kind=PersonalKind.TEXT)
    first_name = PersonalDataField(_("first name"), kind=PersonalKind.NAME)
    last_name = PersonalDataField(_("last name"), kind=PersonalKind.NAME)
    updated_datetime = models.DateTimeField(_("updated at (client)"))
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 update")
        verbose_name_plural = _("Open311 updates")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "update_id"], name="open311_update_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.update_id}"


# --- connected government systems ------------------------------------------------


class SystemKind(models.TextChoices):
    POLICE = "police", _("public security (110)")
    HOTLINE = "hotline", _("12345 government hotline")
    URBAN = "urban_management", _("digital urban management")
    PETITIONS = "petitions", _("letters and visits (petitions)")
    HIGHER = "higher_level", _("higher-level CivicGrid instance")
    OTHER = "other", _("other system")


class Permission(models.TextChoices):
    """What a connected system may do through the exchange API."""

    EVENTS_WRITE = "events:write", _("push events")
    EVENTS_READ = "events:read", _("receive event changes (webhooks)")
    INCIDENTS_WRITE = "incidents:write", _("push monthly incident counts")
    REPORTS_WRITE = "reports:write", _("send upward reports (a city instance)")
    DISPUTES_READ = "disputes:read", _("receive dispute case changes (webhooks)")


class Topic(models.TextChoices):
    """What a webhook tells: an event's or a dispute case's creation, a change of its
    state, its closing, or a step that leaves the state as it was."""

    EVENT_CREATED = "event.created", _("event created")
    EVENT_STATUS = "event.status_changed", _("event status changed")
    EVENT_CLOSED = "event.closed", _("event closed")
    EVENT_STEP = "event.step", _("other event step")
    DISPUTE_CREATED = "dispute.created", _("dispute case registered")
    DISPUTE_STATUS = "dispute.status_changed", _("dispute case status changed")
    DISPUTE_CLOSED = "dispute.closed", _("dispute case closed")
    DISPUTE_STEP = "dispute.step", _("other dispute case step")


class ConnectedSystem(models.Model):
    """A registered outside system: its credentials, permissions and regions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=SystemKind.choices)
    key_id = models.CharField(_("key id"), max_length=32, unique=True)
    # Encrypted at rest with the personal-data key ring (SM4-GCM).
    secret = PersonalDataField(_("signing secret"), kind=PersonalKind.TEXT)
    permissions = models.JSONField(_("permissions"), default=list, blank=True)
    region_prefixes = models.JSONField(_("regions"), default=list, blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=300, blank=True)
    # The topics sent to the webhook; empty: every topic the permissions allow.
    webhook_topics = models.JSONField(
        _("webhook topics"), default=list, blank=True, help_text=_("empty: all")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("connected system")
        verbose_name_plural = _("connected systems")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def may(self, permission: str) -> bool:
        return self.active and permission in (self.permissions or [])

    def wants(self, topic: str) -> bool:
        """Whether the webhook is sent this topic (its permission is checked apart)."""
        return not self.webhook_topics or topic in self.webhook_topics


class SeenNonce(models.Model):
    """A nonce already used by a system inside the timestamp window (anti-replay)."""

    system = models.ForeignKey(
        ConnectedSystem, on_delete=models.CASCADE, related_name="+"
    )
    nonce = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "nonce"], name="nonce_once")
        ]

    def __str__(self) -> str:
        return self.nonce


class InboundRecord(models.Model):
    """One accepted push (by the sender's own id): a retry gets the same answer."""

    system = models.ForeignKey(
        ConnectedSystem,
        verbose_name=_("system"),
        on_delete=models.PROTECT,
        related_name="inbound",
    )
    kind = models.CharField(_("kind"), max_length=20)
    external_id = models.CharField(_("sender's id"), max_length=100)
    digest = models.CharField(max_length=64)
    result = models.JSONField(_("result"), default=dict)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inbound record")
        verbose_name_plural = _("inbound records")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "kind", "external_id"], name="inbound_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system_id} {self.kind} {self.external_id}"


class WebhookDelivery(models.Model):
    """A signed notification of an event change owed to one system."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("given up")

    system = models.ForeignKey(
        ConnectedSystem,
        verbose_name=_("system"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    topic = models.CharField(_("topic"), max_length=40)
    # The event's code, or the dispute case's.
    event_code = models.CharField(_("event or case code"), max_length=30, db_index=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"), null=True, blank=True, db_index=True
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.system_id} {self.topic} {self.event_code}"


class WebhookAttempt(models.Model):
    """One try of a delivery (the delivery log)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="log"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"


# --- upward reporting (city instance → provincial instance) -----------------------


class Upstream(models.Model):
    """The higher-level instance this city reports to, with the credentials the
    higher level issued to this city (its key id and signing secret)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("base URL"), max_length=300)
    city_code = models.CharField(_("city code"), max_length=4)
    key_id = models.CharField(_("key id"), max_length=32)
    secret = PersonalDataField(_("signing secret"), kind=PersonalKind.TEXT)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("higher-level instance")
        verbose_name_plural = _("higher-level instances")

    def __str__(self) -> str:
        return f"{self.name} ← {self.city_code}"


class UpwardSend(models.Model):
    """One sending of a month's report upward, and the answer (the sending log)."""

    upstream = models.ForeignKey(
        Upstream, on_delete=models.CASCADE, related_name="sends"
    )
    month = models.CharField(_("month"), max_length=7)
    ok = models.BooleanField(_("accepted"), default=False)
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    answer = models.JSONField(_("answer"), default=dict, blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("upward report sent")
        verbose_name_plural = _("upward reports sent")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.upstream_id} {self.month} {self.status_code}"


class CityReport(models.Model):
    """A city's monthly figures as received by this (higher-level) instance."""

    system = models.ForeignKey(
        ConnectedSystem,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="city_reports",
    )
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    month = models.CharField(_("month"), max_length=7, db_index=True)
    payload = models.JSONField(_("figures"))
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(_("received at"), auto_now=True)

    class Meta:
        verbose_name = _("city report")
        verbose_name_plural = _("city reports")
        ordering = ["month", "city_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["city_code", "month"], name="city_report_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.city_code} {self.month}"
