"""Statistics selectors: by type, channel, level, outcome; time to close; success
rate; high-risk cases prevented from escalating; per area and month."""

from typing import Any

import pytest
from django.utils import timezone

from civicgrid.disputes.models import Case
from civicgrid.disputes.selectors import case_stats, cases_visible
from civicgrid.disputes.tests.conftest import act, agree, mediate, parties

pytestmark = pytest.mark.django_db


def test_figures(cast: Any, register: Any) -> None:
    # given: one kept agreement of a high-risk case, one failure referred to the
    # police, one open medical case
    kept = register(violence_threatened=True, parties=parties(vulnerable=True))
    mediate(kept, cast)
    agree(kept, cast.mediator_user)
    act(kept, cast.town, "follow_up", kept="yes")
    failed = register(
        parties=parties(31, 32), violence_threatened=True, amount=2_000_000
    )
    mediate(failed, cast)
    act(failed, cast.mediator_user, "fail", reason="拒不协商")
    act(
        failed,
        cast.town,
        "refer",
        kind="police",
        receiving_body="车站派出所",
        reason="x",
    )
    act(failed, cast.town, "close", outcome="referred", reason="公安立案")
    register(parties=parties(33, 34), dispute_type="medical")

    # when
    stats = case_stats(cases_visible(cast.county), area_digits=9)

    # then
    assert stats["cases"] == 3
    assert stats["by_type"] == {"medical": 1, "neighbours": 2}
    assert stats["by_channel"] == {"": 1, "peoples_mediation": 2}
    assert stats["by_outcome"] == {"": 1, "referred": 1, "resolved": 1}
    assert stats["by_level"] == {"town": 3}
    assert stats["success_rate"] == 0.5
    assert stats["high_risk"] == 2 and stats["high_risk_prevented"] == 1
    assert stats["mean_days_to_close"] is not None and stats["mean_days_to_close"] < 1
    month = f"{timezone.localdate():%Y-%m}"
    assert stats["by_area_month"] == [
        {"area": "370303001", "month": month, "cases": 3, "ended": 2, "resolved": 1,
         "high_risk": 2, "prevented": 1}
    ]  # fmt: skip
    assert case_stats(cases_visible(cast.town_b))["cases"] == 0
    assert Case.objects.count() == 3
