"""The default catalogues (4 categories, 52 items for the peace index; 临沂's
stability composite) and the services that version and edit them."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.peace_index.models import (
    CatalogueVersion,
    Category,
    IndexKind,
    Indicator,
    RunStatus,
    VersionStatus,
)

C, P, T, S = (
    Category.CRIMINAL,
    Category.PUBLIC_ORDER,
    Category.TRAFFIC,
    Category.PUBLIC_SAFETY,
)
# (code, name, category, weight): 20 criminal, 16 public-order, 8 traffic and
# 8 public-safety items (潍坊: 4 大类 52 项). Weights grade the harm of one case.
PEACE_ITEMS: tuple[tuple[str, str, str, float], ...] = (
    ("C01", "故意杀人", C, 5.0),
    ("C02", "故意伤害", C, 3.0),
    ("C03", "抢劫", C, 3.0),
    ("C04", "强奸", C, 3.0),
    ("C05", "绑架", C, 4.0),
    ("C06", "放火", C, 3.0),
    ("C07", "爆炸", C, 4.0),
    ("C08", "投放危险物质", C, 4.0),
    ("C09", "入室盗窃", C, 2.0),
    ("C10", "盗窃机动车", C, 1.5),
    ("C11", "盗窃电动车", C, 1.0),
    ("C12", "扒窃", C, 1.0),
    ("C13", "其他盗窃", C, 0.8),
    ("C14", "抢夺", C, 2.0),
    ("C15", "电信网络诈骗", C, 1.5),
    ("C16", "其他诈骗", C, 1.0),
    ("C17", "敲诈勒索", C, 1.5),
    ("C18", "毒品犯罪", C, 2.0),
    ("C19", "拐卖妇女儿童", C, 4.0),
    ("C20", "寻衅滋事", C, 1.5),
    ("P01", "殴打他人", P, 1.0),
    ("P02", "轻微故意伤害", P, 1.0),
    ("P03", "治安盗窃", P, 0.6),
    ("P04", "治安诈骗", P, 0.6),
    ("P05", "赌博", P, 0.8),
    ("P06", "卖淫嫖娼", P, 0.8),
    ("P07", "吸毒", P, 0.8),
    ("P08", "故意损毁财物", P, 0.5),
    ("P09", "扰乱公共秩序", P, 0.8),
    ("P10", "阻碍执行职务", P, 0.8),
    ("P11", "非法侵入住宅", P, 0.8),
    ("P12", "侮辱诽谤", P, 0.5),
    ("P13", "威胁人身安全", P, 0.6),
    ("P14", "噪声扰民", P, 0.2),
    ("P15", "纠纷引发警情", P, 0.3),
    ("P16", "家庭暴力", P, 0.8),
    ("T01", "死亡交通事故", T, 4.0),
    ("T02", "受伤交通事故", T, 1.5),
    ("T03", "财产损失交通事故", T, 0.3),
    ("T04", "交通肇事逃逸", T, 2.0),
    ("T05", "酒驾醉驾", T, 1.0),
    ("T06", "涉校车交通事故", T, 2.0),
    ("T07", "危化品运输事故", T, 3.0),
    ("T08", "非机动车交通事故", T, 0.5),
    ("S01", "火灾", S, 1.5),
    ("S02", "亡人火灾", S, 5.0),
    ("S03", "生产安全事故", S, 2.0),
    ("S04", "生产安全亡人事故", S, 5.0),
    ("S05", "燃气安全事故", S, 2.0),
    ("S06", "特种设备事故", S, 2.0),
    ("S07", "溺水事件", S, 2.0),
    ("S08", "食品安全事件", S, 1.5),
)

D, X, M, H = (
    Category.DISPUTE,
    Category.PETITION,
    Category.MASS_INCIDENT,
    Category.HIGH_RISK,
)
# 临沂's social-stability warning index: disputes, petitions, mass incidents and
# high-risk disputes.
STABILITY_ITEMS: tuple[tuple[str, str, str, float], ...] = (
    ("D01", "婚姻家庭纠纷", D, 0.5),
    ("D02", "邻里纠纷", D, 0.5),
    ("D03", "土地山林纠纷", D, 1.0),
    ("D04", "劳资纠纷", D, 1.0),
    ("D05", "物业纠纷", D, 0.5),
    ("D06", "征地拆迁纠纷", D, 1.5),
    ("X01", "来信", X, 0.5),
    ("X02", "来访", X, 1.0),
    ("X03", "集体访", X, 2.0),
    ("X04", "越级访", X, 2.5),
    ("M01", "群体性事件", M, 5.0),
    ("M02", "群体聚集", M, 3.0),
    ("H01", "民转刑风险纠纷", H, 4.0),
    ("H02", "涉稳重点纠纷", H, 3.0),
)

DEFAULT_ITEMS = {IndexKind.PEACE: PEACE_ITEMS, IndexKind.STABILITY: STABILITY_ITEMS}

# Events that count for an item (S2): the events catalogue's peace-item codes
# (matter.peace_item_code, "PI-xx": every matter of that group) or single matter
# codes. A matter named by code counts only there, not also under its PI group.
EVENT_MATTERS: dict[str, tuple[str, ...]] = {
    "C13": ("ZA01001",),  # 盗窃线索 (PI-01)
    "C16": ("SC02004",),  # 非法集资及传销线索 (PI-01)
    "P01": ("ZA01002",),  # 打架斗殴 (PI-02)
    "P09": ("PI-02",),  # the other public-order matters
    "P05": ("PI-03",),  # 涉黄涉赌涉毒
    "C15": ("PI-04",),  # 电信网络诈骗
    "T03": ("PI-05",),  # 道路交通事故
    "S01": ("PI-06",),  # 火灾事故及消防隐患
    "S03": ("PI-07",),  # 生产安全事故及隐患
    "S05": ("PI-08",),  # 燃气安全事故
    "S08": ("PI-11",),  # 食品药品安全事件
    # the stability warning index
    "H01": ("PI-09",),  # 矛盾纠纷激化 (民转刑风险)
    "D04": ("JF02001",),  # 拖欠工资
    "D06": ("JF02005",),  # 征地拆迁补偿纠纷
    "X04": ("XF01002",),  # 重复信访及信访积案
    "M01": ("XF01003",),  # 群体性事件苗头
}


def active_version(kind: str) -> CatalogueVersion | None:
    return CatalogueVersion.objects.filter(
        kind=kind, status=VersionStatus.ACTIVE
    ).first()


def version_in_use(version: CatalogueVersion) -> bool:
    """A version that a published month was computed with can never change."""
    return version.runs.filter(status=RunStatus.PUBLISHED).exists()


def catalogue_install_default(*, actor: Any, kind: str) -> CatalogueVersion:
    """Version 1 of an index's catalogue, active, unless the index has one already."""
    with transaction.atomic():
        existing = active_version(kind)
        if existing is not None:
            return existing
        number = (
            1
            + (
                CatalogueVersion.objects.filter(kind=kind).order_by("-number").first()
                or CatalogueVersion(number=0)
            ).number
        )
        version = CatalogueVersion.objects.create(
            kind=kind,
            number=number,
            label=_("Default catalogue"),
            status=VersionStatus.ACTIVE,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        Indicator.objects.bulk_create(
            Indicator(
                version=version,
                code=c,
                name=n,
                category=cat,
                weight=w,
                event_matters=list(EVENT_MATTERS.get(c, ())),
            )
            for c, n, cat, w in DEFAULT_ITEMS[IndexKind(kind)]
        )
        audit_record(
            actor=actor,
            action="peace_index.catalogue_install",
            obj=version,
            changes={"items": [None, version.indicators.count()]},
        )
    return version


def catalogue_version_copy(
    *, actor: Any, version: CatalogueVersion
) -> CatalogueVersion:
    """A new draft version holding a copy of ``version``'s items and rules."""
    with transaction.atomic():
        last = CatalogueVersion.objects.filter(kind=version.kind).order_by("-number")[0]
        draft = CatalogueVersion.objects.create(
            kind=version.kind,
            number=last.number + 1,
            label=version.label,
            status=VersionStatus.DRAFT,
            security_weight=version.security_weight,
            governance_weight=version.governance_weight,
            warn_bottom_fraction=version.warn_bottom_fraction,
            warn_security_below=version.warn_security_below,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        Indicator.objects.bulk_create(
            Indicator(
                version=draft,
                code=i.code,
                name=i.name,
                category=i.category,
                weight=i.weight,
                event_matters=i.event_matters,
            )
            for i in version.indicators.all()
        )
        audit_record(
            actor=actor,
            action="peace_index.catalogue_copy",
            obj=draft,
            changes={"from": [None, version.number]},
        )
    return draft


def _check_editable(version: CatalogueVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Only a draft version can be edited; copy this one into a new draft.")
        )


def indicator_update(
    *,
    actor: Any,
    indicator: Indicator,
    weight: float | None = None,
    name: str | None = None,
    event_matters: list[str] | None = None,
) -> Indicator:
    """Change an item of a draft version."""
    with transaction.atomic():
        _check_editable(indicator.version)
        if weight is not None and weight < 0:
            raise ValidationError(_("A weight cannot be negative."))
        before = {"weight": indicator.weight, "name": indicator.name}
        if weight is not None:
            indicator.weight = weight
        if name is not None:
            indicator.name = name
        if event_matters is not None:
            indicator.event_matters = list(event_matters)
        indicator.save()
        audit_record(
            actor=actor,
            action="peace_index.indicator_update",
            obj=indicator,
            changes={
                k: [v, getattr(indicator, k)]
                for k, v in before.items()
                if v != getattr(indicator, k)
            },
        )
    return indicator


def catalogue_version_update_rules(
    *, actor: Any, version: CatalogueVersion, **rules: float
) -> CatalogueVersion:
    """Change the weights of the two values or the warning rules of a draft."""
    allowed = {
        "security_weight",
        "governance_weight",
        "warn_bottom_fraction",
        "warn_security_below",
    }
    with transaction.atomic():
        _check_editable(version)
        changes = {}
        for key, value in rules.items():
            if key not in allowed:
                raise ValidationError(f"unknown rule {key}")
            changes[key] = [getattr(version, key), value]
            setattr(version, key, value)
        if abs(version.security_weight + version.governance_weight - 1) > 1e-9:
            raise ValidationError(_("The two weights must add up to 1."))
        version.save()
        audit_record(
            actor=actor, action="peace_index.rules_update", obj=version, changes=changes
        )
    return version


def catalogue_version_activate(
    *, actor: Any, version: CatalogueVersion
) -> CatalogueVersion:
    """Make a draft the version new computations use; the previous one retires."""
    with transaction.atomic():
        _check_editable(version)
        if not version.indicators.exists():
            raise ValidationError(_("A catalogue needs at least one item."))
        CatalogueVersion.objects.filter(
            kind=version.kind, status=VersionStatus.ACTIVE
        ).update(status=VersionStatus.RETIRED)
        version.status = VersionStatus.ACTIVE
        version.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="peace_index.catalogue_activate",
            obj=version,
            changes={"status": [VersionStatus.DRAFT, VersionStatus.ACTIVE]},
        )
    return version
