"""Regions of the statistical division tree and the grids under villages."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Level
from civicgrid.regions.fields import GeometryField

# Significant digits of a 12-digit statistical code, by level.
PREFIX_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWN: 9,
    Level.VILLAGE: 12,
}
LEVEL_BY_PREFIX_LENGTH = {n: level for level, n in PREFIX_LENGTH.items()}
GRID_CODE_LENGTH = 15


class AreaClass(models.TextChoices):
    URBAN = "urban", _("urban")
    RURAL = "rural", _("rural")
    MIXED = "mixed", _("mixed")


class Region(models.Model):
    """One area of the administrative tree (统计用区划), keyed by its 12-digit code."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The code's significant digits: the scope prefix of everything inside it.
    region_code = models.CharField(_("code prefix"), max_length=12, unique=True)
    city_code = models.CharField(
        _("city code"), max_length=4, db_index=True, blank=True
    )
    population = models.PositiveBigIntegerField(
        _("resident population"), null=True, blank=True
    )
    households = models.PositiveBigIntegerField(_("households"), null=True, blank=True)
    area_class = models.CharField(
        _("urban/rural class"), max_length=10, choices=AreaClass.choices, blank=True
    )
    boundary = GeometryField(_("boundary"), null=True, blank=True)
    boundary_source = models.CharField(_("boundary source"), max_length=200, blank=True)
    data_source = models.CharField(_("data source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Grid(models.Model):
    """A grid (网格) under a village or community, the unit one grid worker serves."""

    code = models.CharField(_("grid code"), max_length=GRID_CODE_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=100)
    village = models.ForeignKey(
        Region,
        verbose_name=_("village/community"),
        on_delete=models.PROTECT,
        related_name="grids",
    )
    region_code = models.CharField(
        _("scope code"), max_length=GRID_CODE_LENGTH, db_index=True
    )
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    geometry = GeometryField(_("boundary (WGS-84)"))
    area_m2 = models.FloatField(_("area (m²)"), default=0)
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    data_source = models.CharField(_("data source"), max_length=100, blank=True)
    origin_id = models.CharField(_("origin id"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class GridIndexVersion(models.Model):
    """Renewed in the same transaction as any grid change of a city: every process
    compares it with the version its in-memory index was built from. A random token,
    not a counter, so a rolled-back change can never be mistaken for a later one."""

    city_code = models.CharField(max_length=4, primary_key=True)
    version = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("grid index version")
        verbose_name_plural = _("grid index versions")

    def __str__(self) -> str:
        return f"{self.city_code}@{self.version}"
