"""Subsidies (枣庄): by grade, one case one decision, only closed and verified
cases, within the annual budget; the Excel ledger."""

from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import Subsidy
from civicgrid.disputes.subsidies import budget_set, ledger_xlsx, subsidy_grant
from civicgrid.disputes.tests.conftest import act, agree, mediate, parties

pytestmark = pytest.mark.django_db


def verified(cast: Any, register: Any, n: int) -> Any:
    case = register(parties=parties(100 + 2 * n, 101 + 2 * n))
    mediate(case, cast)
    agree(case, cast.mediator_user)
    act(case, cast.town, "follow_up", kept="yes")
    return act(case, cast.leader, "verify")


def test_only_closed_and_verified_cases(cast: Any, register: Any) -> None:
    case = register()
    mediate(case, cast)
    with pytest.raises(DisputeError, match="closed and verified"):
        subsidy_grant(actor=cast.town, case=case, amount=600, grade="simple")
    assert not Subsidy.objects.exists()


def test_grades_and_major_decisions(cast: Any, register: Any) -> None:
    """An amount within its grade is granted to the mediator; beyond it refused
    with the grade's range; a major case with its decision may exceed 1,500."""
    a, b = verified(cast, register, 1), verified(cast, register, 2)
    with pytest.raises(DisputeError, match="allows 600.00 to 900.00"):
        subsidy_grant(actor=cast.town, case=a, amount=1000, grade="ordinary")
    with pytest.raises(DisputeError, match="difficulty grade"):
        subsidy_grant(actor=cast.town, case=a, amount=1000)
    s = subsidy_grant(actor=cast.town, case=a, amount=1500, grade="difficult")
    assert s.mediator == cast.mediator and s.amount == Decimal(1500)
    with pytest.raises(DisputeError, match="already subsidised"):
        subsidy_grant(actor=cast.town, case=a, amount=600, grade="simple")
    big = subsidy_grant(
        actor=cast.leader, case=b, amount=5000, major_decision="枣政法〔2026〕12号"
    )
    assert big.grade is None and big.major_decision


def test_budget_limit(cast: Any, register: Any) -> None:
    """With 2,000 yuan left in the year, a 1,500 grant passes and the next 900 is
    refused with what is left."""
    year = timezone.localdate().year
    budget_set(actor=cast.leader, city_code="3703", year=year, amount=Decimal(2000))
    a, b = verified(cast, register, 1), verified(cast, register, 2)
    subsidy_grant(actor=cast.town, case=a, amount=1500, grade="difficult")
    with pytest.raises(DisputeError, match="500.00 yuan left"):
        subsidy_grant(actor=cast.town, case=b, amount=900, grade="ordinary")
    assert Subsidy.objects.count() == 1


def test_default_budget_is_one_and_a_half_million(cast: Any, register: Any) -> None:
    a = verified(cast, register, 1)
    with pytest.raises(DisputeError, match="1500000.00 yuan left"):
        subsidy_grant(actor=cast.town, case=a, amount=1_500_001, major_decision="x")


def test_ledger_workbook(cast: Any, register: Any) -> None:
    a, b = verified(cast, register, 1), verified(cast, register, 2)
    subsidy_grant(actor=cast.town, case=a, amount=600, grade="simple")
    subsidy_grant(actor=cast.town, case=b, amount=1200, grade="complex")
    year = timezone.localdate().year
    content = ledger_xlsx(Subsidy.objects.all(), city_code="3703", year=year)
    ws = load_workbook(BytesIO(content)).active
    rows = [r for r in ws.iter_rows(values_only=True) if any(r)]
    assert rows[0][0] == "案件编号"
    assert {r[0] for r in rows[1:3]} == {a.code, b.code}
    totals = {r[0]: r[6] for r in rows[3:]}
    assert totals == {"合计": 1800, "年度预算": 1_500_000, "结余": 1_498_200}
