"""The vocabularies of the disputes domain: dispute types, channels, center levels,
sources, risk grades and outcomes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
