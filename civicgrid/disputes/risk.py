"""The risk that a civil dispute turns criminal (民转刑): a grade from transparent,
weighted factors, re-assessed at each step; a rise to high risk warns the town
center and the police post of the area."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Role, User
from civicgrid.disputes.models import Case, CaseSource, Party, RiskAssessment, RiskGrade
from civicgrid.events.notify import department_staff, notify

HIGH, MEDIUM = 50, 25  # score thresholds of the grades
POINTS = {
    "violence_threatened": 40,
    "repeated_parties": 15,  # per earlier case between the same parties, up to 2
    "vulnerable_party": 15,
    "amount_large": 10,  # at least 100,000 yuan
    "amount_very_large": 20,  # at least 1,000,000 yuan (instead of amount_large)
    "mediation_failed": 10,
    "agreement_broken": 15,
    "petition_source": 10,
}
LARGE, VERY_LARGE = Decimal(100_000), Decimal(1_000_000)


@dataclass(frozen=True)
class Factor:
    code: str
    points: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "points": self.points, "detail": self.detail}


def earlier_cases_between_same_parties(case: Case) -> int:
    """Other cases in which at least two of this case's parties (by identity) met."""
    ids = set(case.parties.values_list("id_index", flat=True))
    if len(ids) < 2:
        return 0
    counts: dict[int, set[str]] = {}
    rows = (
        Party.objects.filter(id_index__in=ids, case__city_code=case.city_code)
        .exclude(case=case)
        .values_list("case_id", "id_index")
    )
    for case_id, idx in rows:
        counts.setdefault(case_id, set()).add(idx)
    return sum(1 for found in counts.values() if len(found) >= 2)


def factors_of(case: Case) -> list[Factor]:
    out: list[Factor] = []
    if case.violence_threatened:
        out.append(
            Factor(
                "violence_threatened",
                POINTS["violence_threatened"],
                _("violence threatened"),
            )
        )
    repeated = earlier_cases_between_same_parties(case)
    if repeated:
        out.append(
            Factor(
                "repeated_parties",
                POINTS["repeated_parties"] * min(repeated, 2),
                _("%(n)d earlier dispute(s) between the same parties")
                % {"n": repeated},
            )
        )
    if case.parties.filter(vulnerable=True).exists():
        out.append(
            Factor(
                "vulnerable_party", POINTS["vulnerable_party"], _("a vulnerable party")
            )
        )
    if case.amount >= VERY_LARGE:
        out.append(
            Factor(
                "amount_very_large",
                POINTS["amount_very_large"],
                _("amount at stake of at least 1,000,000 yuan"),
            )
        )
    elif case.amount >= LARGE:
        out.append(
            Factor(
                "amount_large",
                POINTS["amount_large"],
                _("amount at stake of at least 100,000 yuan"),
            )
        )
    steps = set(case.actions.values_list("transition", "to_state"))
    if any(t == "fail" for t, _s in steps):
        out.append(
            Factor(
                "mediation_failed", POINTS["mediation_failed"], _("mediation failed")
            )
        )
    if any(s == "broken" for _t, s in steps):
        out.append(
            Factor(
                "agreement_broken", POINTS["agreement_broken"], _("agreement not kept")
            )
        )
    if case.source == CaseSource.PETITION:
        out.append(
            Factor(
                "petition_source",
                POINTS["petition_source"],
                _("came through petitions"),
            )
        )
    return out


def grade_of(score: int) -> str:
    if score >= HIGH:
        return RiskGrade.HIGH
    if score >= MEDIUM:
        return RiskGrade.MEDIUM
    return RiskGrade.LOW


def warning_recipients(case: Case) -> list[User]:
    """The town center's staff of the case's area and the staff of the area's police
    post (the police department nearest the case: town, else county, else city)."""
    town = case.region_code[:9]
    centers = list(
        User.objects.filter(
            posts__role=Role.CENTER_STAFF, posts__active=True, posts__region_code=town
        ).distinct()
    )
    prefixes = [case.region_code[:n] for n in (12, 9, 6, 4)]
    police = (
        Department.objects.filter(
            Q(kind=Department.Kind.POLICE), region_code__in=prefixes
        )
        .order_by("-region_code")
        .first()
    )
    return centers + (department_staff([police]) if police else [])


def assess(case: Case, *, step: str) -> RiskAssessment:
    """Grade the case now; store the grading; warn when the grade rises to high.
    Call inside the step's transaction (the case row is saved by the caller)."""
    factors = factors_of(case)
    score = sum(f.points for f in factors)
    grade = grade_of(score)
    warned = False
    if grade == RiskGrade.HIGH and case.risk_grade != RiskGrade.HIGH:
        names = "、".join(f.detail for f in factors)
        warned = (
            notify(
                warning_recipients(case),
                _("Dispute %(code)s is now high risk (民转刑 warning): %(factors)s")
                % {"code": case.code, "factors": names},
                case.event,
            )
            > 0
        )
    case.risk_grade, case.risk_score = grade, score
    case.risk_factors = [f.as_dict() for f in factors]
    case.ever_high_risk = case.ever_high_risk or grade == RiskGrade.HIGH
    return RiskAssessment.objects.create(
        case=case,
        step=step,
        grade=grade,
        score=score,
        factors=case.risk_factors,
        warned=warned,
    )
