"""Risk grading (民转刑): transparent factors, re-assessment at each step, warnings
to the town center and the area's police post."""

from typing import Any

import pytest

from civicgrid.disputes.models import RiskAssessment
from civicgrid.disputes.tests.conftest import act, mediate, parties
from civicgrid.events.models import Notification

pytestmark = pytest.mark.django_db


def codes(case: Any) -> dict[str, int]:
    return {f["code"]: f["points"] for f in case.risk_factors}


def test_low_risk_case_has_no_factors(cast: Any, register: Any) -> None:
    case = register()
    assert case.risk_grade == "low" and case.risk_score == 0 and case.risk_factors == []
    assert not Notification.objects.exists()


def test_violence_and_vulnerable_party_make_high_risk_and_warn(
    cast: Any, register: Any
) -> None:
    """Threatened violence (40) and a vulnerable party (15): 55, high; the town
    center and the police post get a warning naming the factors; the other town
    does not; the case's parties are not named in it."""
    case = register(violence_threatened=True, parties=parties(vulnerable=True))
    assert codes(case) == {"violence_threatened": 40, "vulnerable_party": 15}
    assert case.risk_grade == "high" and case.risk_score == 55 and case.ever_high_risk
    warned = set(Notification.objects.values_list("user__username", flat=True))
    assert warned == {"d_town", "d_police"}
    text = Notification.objects.first().text  # type: ignore[union-attr]
    assert case.code in text and "张三" not in text and "violence threatened" in text
    assert RiskAssessment.objects.get(case=case).warned


def test_repeated_disputes_between_the_same_parties(cast: Any, register: Any) -> None:
    register()
    second = register()
    assert codes(second) == {"repeated_parties": 15}
    third = register(amount=200_000)
    assert codes(third) == {"repeated_parties": 30, "amount_large": 10}
    assert third.risk_grade == "medium"
    other = register(parties=parties(21, 22), amount=2_000_000)
    assert codes(other) == {"amount_very_large": 20}


def test_reassessed_at_each_step_and_warned_once(cast: Any, register: Any) -> None:
    """Medium at intake (amount and violence? no: violence alone is 40 = medium);
    a failed mediation adds its factor and makes it high: the warning goes out at
    that step; the next step re-grades without warning again."""
    case = register(violence_threatened=True)
    assert case.risk_grade == "medium" and not Notification.objects.exists()
    mediate(case, cast)
    case = act(case, cast.mediator_user, "fail", reason="对方扬言报复")
    assert codes(case) == {"violence_threatened": 40, "mediation_failed": 10}
    assert case.risk_grade == "high"
    assert Notification.objects.count() == 2
    case = act(
        case,
        cast.town,
        "refer",
        kind="police",
        receiving_body="车站派出所",
        reason="公调对接",
    )
    steps = list(
        RiskAssessment.objects.filter(case=case).values_list("step", "grade", "warned")
    )
    assert steps == [
        ("register", "medium", False),
        ("divert", "medium", False),
        ("assign", "medium", False),
        ("record_session", "medium", False),
        ("fail", "high", True),
        ("refer", "high", False),
    ]
    assert Notification.objects.count() == 2
