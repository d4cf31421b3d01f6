"""Proposals staff confirm: the channel and organisation for a case (分流), and the
best few mediators or experts of the pool (专家库) with the reasons of each rank."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from civicgrid.disputes.models import (
    LEVEL_PREFIX,
    Case,
    CaseSource,
    Channel,
    DisputeType,
    MediationOrganisation,
    Mediator,
    Recusal,
)
from civicgrid.disputes.selectors import record_of, with_load_and_record

# The usual channel of each type (where the seed's cities send them).
CHANNEL_OF_TYPE = {
    DisputeType.MARRIAGE_FAMILY: Channel.PEOPLES,
    DisputeType.NEIGHBOURS: Channel.PEOPLES,
    DisputeType.LAND_HOUSING: Channel.ADMINISTRATIVE,
    DisputeType.LABOUR_WAGES: Channel.ARBITRATION,
    DisputeType.PROPERTY_MANAGEMENT: Channel.PEOPLES,
    DisputeType.MEDICAL: Channel.INDUSTRY,
    DisputeType.TRAFFIC_ACCIDENT: Channel.INDUSTRY,
    DisputeType.CONSUMER: Channel.ADMINISTRATIVE,
    DisputeType.CONTRACT_DEBT: Channel.PEOPLES,
    DisputeType.ENVIRONMENTAL: Channel.ADMINISTRATIVE,
    DisputeType.OTHER: Channel.PEOPLES,
}
# Contract and debt disputes this large go to the court's pre-suit mediation.
JUDICIAL_FROM = Decimal(500_000)
LEVEL_RANK = {"village": 3, "town": 2, "county": 1, "city": 0}


@dataclass
class Proposal:
    channel: str
    reasons: list[str]
    organisations: list[dict[str, Any]] = field(default_factory=list)


def propose_diversion(case: Case) -> Proposal:
    """A channel from the type, the amount and the source; the organisations of
    that channel serving the area, the nearest and the case's level first."""
    channel = CHANNEL_OF_TYPE[DisputeType(case.dispute_type)]
    reasons = [
        _("%(type)s disputes usually go to %(channel)s")
        % {
            "type": case.get_dispute_type_display(),
            "channel": Channel(channel).label,
        }
    ]
    if case.source == CaseSource.PETITION:
        channel = Channel.PETITION
        reasons = [_("referred by the letters-and-visits office (访调对接)")]
    elif case.source == CaseSource.COURT or (
        case.dispute_type == DisputeType.CONTRACT_DEBT and case.amount >= JUDICIAL_FROM
    ):
        channel = Channel.JUDICIAL
        reasons = [_("court referral or a large contract claim: pre-suit mediation")]
    keyed: list[tuple[tuple[bool, bool, int], dict[str, Any]]] = []
    for org in MediationOrganisation.objects.filter(
        active=True, channel=channel, city_code=case.city_code
    ):
        if not case.region_code.startswith(org.region_code):
            continue
        if org.fields and case.dispute_type not in org.fields:
            continue
        why = [_("serves the area")]
        if case.dispute_type in org.fields:
            why.append(_("specialised in this type"))
        if org.level == case.level:
            why.append(_("same level as the case"))
        key = (
            org.level == case.level,
            case.dispute_type in org.fields,
            len(org.region_code),
        )
        keyed.append(
            (key, {"id": org.pk, "name": org.name, "level": org.level, "reasons": why})
        )
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    orgs = [o for _key, o in keyed]
    return Proposal(channel=channel, reasons=reasons, organisations=orgs[:5])


def _proximity(m: Mediator, case: Case) -> tuple[int, str]:
    """Points and a reason from the longest served prefix holding the case."""
    best = max((len(p) for p in m.regions if case.region_code.startswith(p)), default=0)
    if best >= LEVEL_PREFIX["village"]:
        return 30, _("serves the village")
    if best >= LEVEL_PREFIX["town"]:
        return 25, _("serves the town")
    if best >= LEVEL_PREFIX["county"]:
        return 15, _("serves the county")
    if best >= LEVEL_PREFIX["city"]:
        return 5, _("serves the city")
    return 0, ""


def suggest_mediators(case: Case, *, limit: int = 3) -> dict[str, list[dict[str, Any]]]:
    """The best ``limit`` of the pool, each with its score and reasons (specialty
    40, proximity up to 30, free capacity up to 20, record up to 10), and the
    excluded ones with why (recused, unavailable, full, outside the area)."""
    recused = dict(
        Recusal.objects.filter(case=case).values_list("mediator_id", "reason")
    )
    ranked: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    for m in with_load_and_record(Mediator.objects.filter(city_code=case.city_code)):
        base = {"id": m.pk, "name": m.name, "kind": m.kind}
        if m.pk in recused:
            excluded.append(
                {**base, "reason": _("recused: %(r)s") % {"r": recused[m.pk]}}
            )
            continue
        if not m.available:
            excluded.append({**base, "reason": _("not available")})
            continue
        near, near_reason = _proximity(m, case)
        if not near:
            excluded.append({**base, "reason": _("does not serve the area")})
            continue
        load = int(getattr(m, "open_cases", 0))
        if load >= m.max_load and case.mediator_id != m.pk:
            excluded.append({**base, "reason": _("holds the most cases allowed")})
            continue
        record = record_of(m)
        reasons, score = [near_reason], float(near)
        if case.dispute_type in m.specialties:
            score += 40
            reasons.insert(
                0,
                _("specialist in %(type)s") % {"type": case.get_dispute_type_display()},
            )
        free = 1 - load / m.max_load if m.max_load else 0
        score += 20 * free
        reasons.append(
            _("%(load)d of %(max)d open cases") % {"load": load, "max": m.max_load}
        )
        if record["success_rate"] is not None:
            score += 10 * record["success_rate"]
            reasons.append(
                _("%(rate)d%% of %(n)d cases resolved")
                % {"rate": round(100 * record["success_rate"]), "n": record["cases"]}
            )
        ranked.append(
            {
                **base,
                "score": round(score, 1),
                "reasons": reasons,
                "record": record,
                "load": load,
            }
        )
    ranked.sort(key=lambda r: (-r["score"], r["load"], r["id"]))
    return {"suggested": ranked[:limit], "excluded": excluded}
