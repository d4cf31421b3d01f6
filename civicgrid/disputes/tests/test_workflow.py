"""Dispute workflow definitions: the dispute vocabulary on the events parser."""

import copy
from typing import Any

import pytest

from civicgrid.disputes.models import CaseWorkflow
from civicgrid.disputes.tests.factories import parties
from civicgrid.disputes.workflow import parse, shipped_definition, workflow_install
from civicgrid.events.workflow import DefinitionError

pytestmark = pytest.mark.django_db


def test_shipped_definition_parses_with_dispute_roles_and_effects() -> None:
    d = parse(shipped_definition())
    assert d.initial == "registered" and d.is_final("verified")
    assert d.transitions["record_session"].roles == {
        "mediator",
        "expert",
        "center_staff",
    }
    assert d.transitions["agree"].effect == "agree"
    assert d.default_limits["divert"] == 72


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["transitions"][0].update(effect="dispatch"), "effect"),
        (lambda d: d["transitions"][0].update(roles=["reporter"]), "roles"),
        (lambda d: d["transitions"][0].update(to="nowhere"), "unknown state 'nowhere'"),
        (lambda d: d["states"].update(limbo={"label": "x"}), "cannot be reached"),
        (lambda d: d["states"]["verified"].pop("final"), "no final state"),
    ],
)
def test_bad_definitions_are_refused(change: Any, reason: str) -> None:
    data = copy.deepcopy(shipped_definition())
    change(data)
    with pytest.raises(DefinitionError, match=reason):
        parse(data)


def test_a_new_version_leaves_running_cases_on_theirs(cast: Any, register: Any) -> None:
    case = register()
    data = copy.deepcopy(shipped_definition())
    data["default_limits"]["divert"] = 24
    wf = workflow_install(actor=None, city_code="3703", data=data)
    assert wf.version == 1 and CaseWorkflow.objects.filter(active=True).count() == 2
    newer = register(parties=parties(7, 8))
    assert newer.workflow == wf and case.workflow != wf
    assert newer.deadline_at is not None and case.deadline_at is not None
    assert newer.deadline_at < case.deadline_at
