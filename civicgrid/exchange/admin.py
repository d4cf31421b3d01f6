"""Admin of the exchange: Open311 clients and attributes, held requests (placed on
the map here), connected systems and the webhook delivery log."""

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _

from civicgrid.events.errors import EventError
from civicgrid.exchange import open311, systems
from civicgrid.exchange.models import (
    CityReport,
    ConnectedSystem,
    InboundRecord,
    Open311Client,
    Open311Request,
    ServiceAttribute,
    Upstream,
    UpwardSend,
    WebhookAttempt,
    WebhookDelivery,
)
from civicgrid.exchange.open311_format import Open311Error

# An address typed without a scheme is taken as https (Django 6.0's default, now).
HTTPS_URLS: dict[Any, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "key_prefix", "source", "active", "last_used_at"]
    fields = [
        "name",
        "contact",
        "source",
        "active",
        "post_rate",
        "read_rate",
        "key_prefix",
        "last_used_at",
    ]
    readonly_fields = ["key_prefix", "last_used_at"]

    def save_model(
        self, request: HttpRequest, obj: Open311Client, form: Any, change: bool
    ) -> None:
        if change:
            open311.client_update(actor=request.user, client=obj)
            return
        client, key = open311.client_issue(
            actor=request.user, name=obj.name, contact=obj.contact
        )
        client.source, client.active = obj.source, obj.active
        client.post_rate, client.read_rate = obj.post_rate, obj.read_rate
        client.save(update_fields=["source", "active", "post_rate", "read_rate"])
        obj.pk = client.pk
        obj.key_prefix, obj.key_digest = client.key_prefix, client.key_digest
        messages.warning(
            request,
            _("API key (shown once, give it to the client now): %(key)s")
            % {"key": key},
        )


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["matter", "code", "datatype", "required", "order"]
    list_filter = ["datatype", "required"]
    search_fields = ["matter__code", "matter__name", "code", "description"]


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    formfield_overrides = HTTPS_URLS
    """Held requests (an address without coordinates) are placed by entering the
    latitude and longitude (WGS-84): saving opens the event."""

    list_display = ["token", "client", "matter", "status", "event", "created_at"]
    list_filter = ["status", "client"]
    # The reporter's contact is personal data: never shown here.
    fields = [
        "token",
        "client",
        "matter",
        "status",
        "event",
        "description",
        "address_string",
        "address_id",
        "lat",
        "long",
        "media_url",
    ]
    readonly_fields = [
        "token",
        "client",
        "matter",
        "status",
        "event",
        "description",
        "address_string",
        "address_id",
        "media_url",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Open311Request, form: Any, change: bool
    ) -> None:
        if obj.lat is None or obj.long is None:
            return
        current = Open311Request.objects.get(pk=obj.pk)
        try:
            event = open311.request_place(
                actor=request.user, req=current, lat=obj.lat, long=obj.long
            )
        except (EventError, Open311Error) as exc:
            messages.error(request, str(exc))
            return
        messages.success(request, _("Event %(code)s opened.") % {"code": event.code})


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    formfield_overrides = HTTPS_URLS
    list_display = ["code", "name", "kind", "key_id", "active"]
    list_filter = ["kind", "active"]
    fields = [
        "code",
        "name",
        "kind",
        "permissions",
        "region_prefixes",
        "webhook_url",
        "webhook_topics",
        "active",
        "key_id",
    ]
    readonly_fields = ["key_id"]

    def save_model(
        self, request: HttpRequest, obj: ConnectedSystem, form: Any, change: bool
    ) -> None:
        if change:
            systems.system_update(actor=request.user, system=obj)
            return
        system, secret = systems.system_register(
            actor=request.user,
            code=obj.code,
            name=obj.name,
            kind=obj.kind,
            permissions=list(obj.permissions or []),
            region_prefixes=list(obj.region_prefixes or []),
            webhook_url=obj.webhook_url,
            webhook_topics=list(obj.webhook_topics or []),
        )
        obj.pk, obj.key_id = system.pk, system.key_id
        messages.warning(
            request,
            _("Signing secret (shown once): %(secret)s") % {"secret": secret},
        )


class AttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "error", "duration_ms"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "system",
        "topic",
        "event_code",
        "status",
        "attempts",
        "next_attempt_at",
    ]
    list_filter = ["status", "system", "topic"]
    search_fields = ["event_code"]
    readonly_fields = [
        "system",
        "topic",
        "event_code",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "delivered_at",
    ]
    inlines = [AttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboundRecord)
class InboundRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["system", "kind", "external_id", "created_at"]
    list_filter = ["system", "kind"]
    readonly_fields = ["system", "kind", "external_id", "digest", "result"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    formfield_overrides = HTTPS_URLS
    """The higher level this city reports to; the secret it issued is entered once
    and never shown again."""

    list_display = ["name", "url", "city_code", "key_id", "active"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", "url", "city_code", "key_id", "active"]
        return fields if obj is not None else [*fields, "secret"]


@admin.register(UpwardSend)
class UpwardSendAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["upstream", "month", "ok", "status_code", "sent_at"]
    list_filter = ["ok", "month"]
    readonly_fields = ["upstream", "month", "ok", "status_code", "answer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CityReport)
class CityReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["city_code", "month", "system", "received_at"]
    list_filter = ["month"]
    readonly_fields = ["system", "city_code", "month", "payload", "digest"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
