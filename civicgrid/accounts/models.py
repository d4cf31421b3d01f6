"""Users, departments and staff posts binding a user to a region or department with a role."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core import scope
from civicgrid.core.personal import PersonalDataField, PersonalKind


class Role(models.TextChoices):
    """The roles of SPEC's user table."""

    CITIZEN = "citizen", _("citizen")  # 群众
    GRID_WORKER = "grid_worker", _("grid worker")  # 网格员 (full-time)
    GRID_LEADER = "grid_leader", _("grid leader")  # 网格长
    GRID_SPECIALIST = "grid_specialist", _("specialist grid worker")  # 专业网格员
    VOLUNTEER = "volunteer", _("volunteer")  # 志愿者
    CENTER_STAFF = "center_staff", _("governance center staff")  # 综治中心
    DEPARTMENT_STAFF = "department_staff", _("department staff")  # 部门
    MEDIATOR = "mediator", _("mediator")  # 调解员
    EXPERT = "expert", _("expert")  # 专家
    LEADER = "leader", _("leader")  # 领导
    # Separation of duties (三员分立): each of these three may not do the others' work.
    SYSADMIN = "sysadmin", _("system administrator")  # 系统管理员: configuration
    SECURITY_ADMIN = (
        "security_admin",
        _("security administrator"),
    )  # 安全管理员: accounts
    AUDITOR = "auditor", _("security auditor")  # 安全审计员: reads the audit log


class Level(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWN = "town", _("town")
    VILLAGE = "village", _("village")


class User(AbstractUser):
    """A person who signs in: staff, grid worker or citizen."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    phone = PersonalDataField(_("phone number"), kind=PersonalKind.PHONE)
    # Stamped by set_password: a password older than the maximum age must be changed.
    password_changed_at = models.DateTimeField(
        _("password changed at"), default=timezone.now
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # Granted by role (civicgrid.accounts.permissions), never one by one.
        permissions = [
            ("unmask_personal_data", _("Can see personal data unmasked")),
            ("manage_accounts", _("Can manage accounts, roles and lockouts")),
            ("read_audit_log", _("Can read the audit log")),
            ("configure_system", _("Can change the system's configuration")),
        ]

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def scope_prefixes(self) -> list[str]:
        """Region-code prefixes this user may see: one per active staff post."""
        if not self.is_active:
            return []
        if self.is_superuser:
            return [scope.ALL]
        return scope.minimal(
            p.region_code for p in self.posts.filter(active=True).only("region_code")
        )

    @cached_property
    def roles(self) -> set[str]:
        return set(self.posts.filter(active=True).values_list("role", flat=True))


class Department(models.Model):
    """A functional department (部门) at one level of one region."""

    class Kind(models.TextChoices):
        POLICE = "police", _("public security")
        URBAN_MANAGEMENT = "urban_management", _("urban management")
        HOUSING = "housing", _("housing and construction")
        ENVIRONMENT = "environment", _("ecology and environment")
        EMERGENCY = "emergency", _("emergency management")
        MARKET = "market", _("market supervision")
        TRANSPORT = "transport", _("transport")
        CIVIL_AFFAIRS = "civil_affairs", _("civil affairs")
        JUSTICE = "justice", _("justice")
        PETITIONS = "petitions", _("letters and visits")
        HUMAN_RESOURCES = "human_resources", _("human resources and social security")
        NATURAL_RESOURCES = "natural_resources", _("natural resources")
        WATER = "water", _("water resources")
        AGRICULTURE = "agriculture", _("agriculture and rural affairs")
        HEALTH = "health", _("health")
        EDUCATION = "education", _("education")
        GOVERNANCE_CENTER = "governance_center", _("social governance center")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    region_code = models.CharField(
        _("region code prefix"), max_length=15, db_index=True
    )
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="department_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StaffPost(models.Model):
    """A user's post: a role held in a region (by its code prefix) or in a department."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="posts"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="posts",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="posts",
    )
    grid = models.ForeignKey(
        "regions.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="posts",
    )
    # The scope prefix: the region's significant digits, or the grid's code.
    region_code = models.CharField(_("scope prefix"), max_length=15, db_index=True)
    city_code = models.CharField(_("city code"), max_length=4, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff post")
        verbose_name_plural = _("staff posts")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="department_staff") | Q(department__isnull=False),
                name="staffpost_department_staff_has_department",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region_code"],
                condition=Q(active=True),
                name="staffpost_unique_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region_code}"
