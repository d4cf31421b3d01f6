"""Dispute-case workflow definitions: the shared definition format
(civicgrid.core.workflow, also the events loop's) with the dispute vocabulary of
roles, effects and time limits (no guards), stored in versions per city. Both
engines refuse the same malformed definitions: the structure rules are the shared
parser's.
"""

import json
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils import timezone

from civicgrid.core.workflow import Definition, Vocabulary, install_version
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import CaseWorkflow

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
SHIPPED = [("", "dispute.json")]

EFFECTS = frozenset(
    {
        "divert",  # choose the channel (and organisation) — the entry gate
        "assign",  # assign a mediator or expert of the pool (not a recused one)
        "session",  # record a mediation session
        "agree",  # record the agreement and schedule its follow-up
        "fail",  # mediation failed, with the reason
        "request_confirmation",  # ask a court for judicial confirmation (司法确认)
        "record_confirmation",  # the court's ruling
        "follow_up",  # the check that the agreement is kept (field kept: yes/no)
        "refer",  # hand a failed case on (诉调/检调/公调/访调/行调) to a receiving body
        "close",  # the lawful end with its outcome
        "verify",  # the center verifies the closed case (subsidies become payable)
    }
)
LIMIT_KINDS = frozenset({"divert", "assign", "mediate", "follow_up", "refer", "verify"})
ROLES = frozenset(
    {"center_staff", "leader", "grid_worker", "mediator", "expert", "sysadmin"}
)


VOCABULARY = Vocabulary(roles=ROLES, effects=EFFECTS, limit_kinds=LIMIT_KINDS)


def parse(data: dict[str, Any]) -> Definition:
    """Validate a dispute workflow; DefinitionError lists every problem."""
    return VOCABULARY.parse(data)


@lru_cache(maxsize=64)
def _definition(workflow_id: int) -> Definition:
    """Definitions never change once stored (a change is a new version)."""
    return parse(CaseWorkflow.objects.get(pk=workflow_id).definition)


def definition_of(workflow_id: int) -> Definition:
    return _definition(workflow_id)


def deadline_for(definition: Definition, kind: str | None) -> datetime | None:
    """When a step with this time limit falls due (the definition's hours)."""
    hours = definition.default_limits.get(kind or "")
    return timezone.now() + timedelta(hours=hours) if hours else None


def workflow_install(
    *, actor: Any, city_code: str, data: dict[str, Any]
) -> CaseWorkflow:
    """Store a new version of a city's dispute workflow; running cases keep theirs."""
    return install_version(
        CaseWorkflow,
        actor=actor,
        city_code=city_code,
        name=parse(data).name,
        data=data,
        action="disputes.workflow.install",
    )


def shipped_definition(name: str = "dispute.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DEFINITIONS_DIR / name).read_text("utf-8"))
    return data


def workflow_for_city(city_code: str) -> CaseWorkflow:
    """The city's active workflow, else the default; the shipped one is installed
    the first time none is."""
    wf = (
        CaseWorkflow.objects.filter(active=True, city_code__in=[city_code, ""])
        .order_by("-city_code", "-version")
        .first()
    )
    if wf is None:
        for city, name in SHIPPED:
            wf = workflow_install(
                actor=None, city_code=city, data=shipped_definition(name)
            )
    if wf is None:  # pragma: no cover - SHIPPED is never empty
        raise DisputeError("no dispute workflow is installed")
    return wf
