"""Households (户) and the people in them (人) of a grid, and the grid worker's visits
(走访) and information collections (信息采集) that keep them up to date."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.personal import BlindIndexField, PersonalDataField, PersonalKind


class HouseKind(models.TextChoices):
    """What the dwelling is (SPEC S5: 住宅, 出租房屋, 商铺…)."""

    OWNED = "owned", _("owner-occupied home")  # 自住房
    RENTED = "rented", _("rented home")  # 出租房屋
    SHOP = "shop", _("shop with residents")  # 商铺
    OTHER = "other", _("other dwelling")


class Residence(models.TextChoices):
    """常住 or 流动 (SPEC S5: actual population)."""

    PERMANENT = "permanent", _("permanent resident")  # 常住人口
    FLOATING = "floating", _("floating resident")  # 流动人口


class Relation(models.TextChoices):
    HEAD = "head", _("head of household")  # 户主
    SPOUSE = "spouse", _("spouse")
    CHILD = "child", _("child")
    PARENT = "parent", _("parent")
    TENANT = "tenant", _("tenant")
    OTHER = "other", _("other")


class SpecialGroup(models.TextChoices):
    """Special groups (特殊人群). The first ones are groups cared for; the groups of
    ``RESTRICTED_GROUPS`` are the tightly restricted ones (SPEC S5), shown only to
    those who may see unmasked personal data."""

    ELDERLY_ALONE = "elderly_alone", _("elderly living alone")  # 独居老人
    LEFT_BEHIND_CHILD = "left_behind_child", _("left-behind child")  # 留守儿童
    DISABLED = "disabled", _("person with a disability")  # 残疾人
    HARDSHIP = "hardship", _("family in hardship")  # 困难家庭（低保、特困）
    VETERAN = "veteran", _("veteran")  # 退役军人
    KEY_ATTENTION = "key_attention", _("key attention")  # 重点关注
    COMMUNITY_CORRECTION = "community_correction", _("under community correction")
    RELEASED_PRISONER = "released_prisoner", _("released from prison")  # 刑满释放
    MENTAL_DISORDER = "mental_disorder", _("severe mental disorder")  # 严重精神障碍
    DRUG_USER = "drug_user", _("drug user")  # 吸毒人员


RESTRICTED_GROUPS = frozenset(
    {
        SpecialGroup.KEY_ATTENTION,
        SpecialGroup.COMMUNITY_CORRECTION,
        SpecialGroup.RELEASED_PRISONER,
        SpecialGroup.MENTAL_DISORDER,
        SpecialGroup.DRUG_USER,
    }
)


class VisitKind(models.TextChoices):
    ROUTINE = "routine", _("routine visit")  # 日常走访
    CARE = "care", _("care visit")  # 关爱走访
    COLLECTION = "collection", _("information collection")  # 信息采集
    DISPUTE_CHECK = "dispute_check", _("dispute screening")  # 矛盾纠纷排查
    SAFETY_CHECK = "safety_check", _("safety check")  # 安全隐患排查


class Household(models.Model):
    """A household (户) at one address in one grid. The address of a dwelling is
    the registry's key and is shown to the grid's staff; the people's data is
    personal data (``Person``)."""

    grid = models.ForeignKey(
        "regions.Grid",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="households_registered",
    )
    region_code = models.CharField(_("scope code"), max_length=15, db_index=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    address = models.CharField(_("address"), max_length=200)
    kind = models.CharField(
        _("dwelling"), max_length=10, choices=HouseKind.choices, default=HouseKind.OWNED
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Bumped by every change: an edit made on an old copy is refused (409).
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    data_source = models.CharField(_("data source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["region_code", "address", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "address"], name="household_unique_address_in_grid"
            )
        ]

    def __str__(self) -> str:
        return self.address


class Person(models.Model):
    """A person (人) living in a household; name, ID number and phone are personal
    data (encrypted, masked on output); the ID number has a blind index so a person
    registered twice in a city is found without decrypting anything."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="persons",
    )
    region_code = models.CharField(_("scope code"), max_length=15, db_index=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    name = PersonalDataField(_("name"), kind=PersonalKind.NAME)
    id_number = PersonalDataField(_("ID number"), kind=PersonalKind.ID_NUMBER)
    id_index = BlindIndexField(source="id_number")
    phone = PersonalDataField(_("phone number"), kind=PersonalKind.PHONE)
    relation = models.CharField(
        _("relation"), max_length=10, choices=Relation.choices, default=Relation.OTHER
    )
    residence = models.CharField(
        _("residence"),
        max_length=10,
        choices=Residence.choices,
        default=Residence.PERMANENT,
    )
    # ",elderly_alone,disabled,": a plain text column so that one group is found with
    # the same ``contains`` lookup on SQLite and PostgreSQL.
    groups = models.CharField(_("special groups"), max_length=300, blank=True)
    # Moved out or deceased: kept for the record, no longer counted.
    active = models.BooleanField(_("lives here"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["household", "id"]
        constraints = [
            # One active registration per ID number and city (blank IDs aside).
            models.UniqueConstraint(
                fields=["city_code", "id_index"],
                condition=Q(active=True) & ~Q(id_index=""),
                name="person_unique_active_id_in_city",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id}/{self.pk}"

    @property
    def group_list(self) -> list[str]:
        return [g for g in self.groups.split(",") if g]

    @staticmethod
    def groups_text(groups: list[str]) -> str:
        return f",{','.join(sorted(set(groups)))}," if groups else ""


class Visit(models.Model):
    """A grid worker's visit to a household (走访), with where and when it happened;
    a visit that found a problem may open an event (``event``)."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    region_code = models.CharField(_("scope code"), max_length=15, db_index=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=VisitKind.choices, default=VisitKind.ROUTINE
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    follow_up = models.BooleanField(_("follow-up needed"), default=False)
    event = models.ForeignKey(
        "events.Event",
        verbose_name=_("event opened"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="visit_unique_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_at:%Y-%m-%d}"


class VisitPhoto(models.Model):
    """A photo taken on a visit (type- and size-checked like event photos)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to="registry/%Y/%m/")
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return self.file.name or ""


class Collection(models.Model):
    """One information collection (信息采集): a household registered or updated with
    its members, append-only. It records which fields changed, never their values
    (those are personal data and live, encrypted, in ``Person``)."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="collections",
    )
    region_code = models.CharField(_("scope code"), max_length=15, db_index=True)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collected by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    collected_at = models.DateTimeField(_("collected at"))
    changes = models.JSONField(_("changed fields"), default=dict)
    version = models.PositiveIntegerField(_("household version after it"))
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("information collection")
        verbose_name_plural = _("information collections")
        ordering = ["-collected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="collection_unique_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.version}"
