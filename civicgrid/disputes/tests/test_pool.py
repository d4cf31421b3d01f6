"""Diversion proposals and the expert pool: ranking with reasons, load, recusal."""

from typing import Any

import pytest

from civicgrid.core.models import AuditRecord
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.matching import propose_diversion, suggest_mediators
from civicgrid.disputes.models import Recusal
from civicgrid.disputes.services import mediator_create, recusal_record
from civicgrid.disputes.tests.conftest import TOWN_A, act, parties

pytestmark = pytest.mark.django_db


def test_diversion_follows_type_amount_and_source(cast: Any, register: Any) -> None:
    """Neighbours → the town's people's mediation committee; medical → the county's
    medical committee (industry); a large contract claim → judicial mediation."""
    p = propose_diversion(register())
    assert p.channel == "peoples_mediation"
    assert [o["name"] for o in p.organisations] == ["车站街道人民调解委员会"]
    assert "same level as the case" in p.organisations[0]["reasons"]

    p = propose_diversion(register(dispute_type="medical", parties=parties(3, 4)))
    assert p.channel == "industry_mediation"
    assert [o["name"] for o in p.organisations] == ["张店区医疗纠纷人民调解委员会"]
    assert "specialised in this type" in p.organisations[0]["reasons"]

    big = register(dispute_type="contract_debt", amount=800_000, parties=parties(5, 6))
    assert propose_diversion(big).channel == "judicial_mediation"
    petition = register(source="petition", parties=parties(7, 8))
    assert propose_diversion(petition).channel == "petition"


def test_ranking_with_reasons(cast: Any, register: Any) -> None:
    """For a medical case the county's medical expert ranks first (specialty), the
    town's mediator next (nearer but no specialty); another town's is excluded."""
    result = suggest_mediators(register(dispute_type="medical"))
    names = [r["name"] for r in result["suggested"]]
    assert names == ["赵医生", "王调解"]
    first = result["suggested"][0]
    assert first["reasons"][0] == "specialist in medical"
    assert "serves the county" in first["reasons"]
    assert first["score"] == pytest.approx(40 + 15 + 20)
    assert result["suggested"][1]["score"] == pytest.approx(25 + 20)
    assert {"name": "孙调解", "reason": "does not serve the area"}.items() <= next(
        e for e in result["excluded"] if e["name"] == "孙调解"
    ).items()


def test_load_and_record_move_the_ranking(cast: Any, register: Any) -> None:
    """Two equal specialists: the one with free capacity ranks first; a full one is
    excluded; a resolved case adds to the record."""
    twin = mediator_create(
        actor=None, name="钱调解", kind="mediator", regions=[TOWN_A],
        specialties=["neighbours"], max_load=1,
    )  # fmt: skip
    case = register()
    assert [r["name"] for r in suggest_mediators(case)["suggested"]][:2] == [
        "王调解",
        "钱调解",
    ]  # equal scores: the lower load, then the older profile
    other = register(parties=parties(11, 12))
    act(other, cast.town, "divert", channel="peoples_mediation")
    act(other, cast.town, "assign", mediator=twin.pk)
    result = suggest_mediators(case)
    assert "钱调解" not in [r["name"] for r in result["suggested"]]
    assert {"name": "钱调解", "reason": "holds the most cases allowed"}.items() <= next(
        e for e in result["excluded"] if e["name"] == "钱调解"
    ).items()
    act(case, cast.town, "divert", channel="peoples_mediation")
    with pytest.raises(DisputeError, match="most cases"):
        act(case, cast.town, "assign", mediator=twin.pk)


def test_recusal_excludes_records_and_refuses(cast: Any, register: Any) -> None:
    """A mediator related to a party is excluded from the suggestions with the
    reason, the exclusion is recorded and audited, assigning them is refused, and
    an assigned mediator who is recused is released."""
    case = register()
    act(case, cast.town, "divert", channel="peoples_mediation")
    act(case, cast.town, "assign", mediator=cast.mediator.pk)
    recusal_record(
        actor=cast.town, case=case, mediator=cast.mediator, reason="申请人之表兄"
    )
    case.refresh_from_db()
    assert case.mediator is None
    assert Recusal.objects.get(case=case).reason == "申请人之表兄"
    assert AuditRecord.objects.filter(
        action="disputes.case.recusal", object_id=str(case.pk)
    ).exists()
    result = suggest_mediators(case)
    assert "王调解" not in [r["name"] for r in result["suggested"]]
    assert any(
        e["name"] == "王调解" and "申请人之表兄" in e["reason"]
        for e in result["excluded"]
    )
    with pytest.raises(DisputeError, match="recused from this case: 申请人之表兄"):
        act(case, cast.town, "assign", mediator=cast.mediator.pk)
    with pytest.raises(DisputeError, match="already recused"):
        recusal_record(actor=cast.town, case=case, mediator=cast.mediator, reason="x")
