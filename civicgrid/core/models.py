"""The audit log: one append-only row for everything a service does."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditRecord(models.Model):
    """An entry of the audit trail (审计日志): who did what to which object, from where."""

    # Set under the chain lock by audit_record (not auto_now_add): the hash covers it.
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=80, blank=True)
    region_code = models.CharField(
        _("region code"), max_length=15, blank=True, db_index=True
    )
    source_address = models.GenericIPAddressField(
        _("source address"), null=True, blank=True
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # SM3 hash chain (civicgrid.core.chain): each row names its predecessor's hash.
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"


class RateCount(models.Model):
    """Requests counted in one window of one rate bucket (civicgrid.core.ratelimit):
    ``bucket`` is the scope, the caller and the window's number; one statement
    counts a request and reads the previous window."""

    bucket = models.CharField(_("bucket"), max_length=255, primary_key=True)
    hits = models.PositiveIntegerField(_("hits"), default=0)
    # Unix time after which the row is no longer read (the end of the next window).
    expires = models.FloatField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("request count")
        verbose_name_plural = _("request counts")

    def __str__(self) -> str:
        return f"{self.bucket}: {self.hits}"
