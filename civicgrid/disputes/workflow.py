"""Dispute-case workflow definitions: the events engine's definition format
(civicgrid.events.workflow) with the dispute vocabulary of roles, effects and time
limits, stored in versions per city.

The structure rules (known states, reachable states, a final state, no step out of
a final state, branches on required fields) are the events module's own ``parse``:
it is run on the definition with our vocabulary set aside, after our schema has
checked that vocabulary. So both engines refuse the same malformed definitions.
"""

import copy
import dataclasses
import json
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from civicgrid.core.audit import audit_record
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import CaseWorkflow
from civicgrid.events import workflow as base
from civicgrid.events.workflow import Definition, DefinitionError, Transition

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
SHIPPED = [("", "dispute.json")]

EFFECTS = {
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
LIMIT_KINDS = {"divert", "assign", "mediate", "follow_up", "refer", "verify"}
ROLES = {"center_staff", "leader", "grid_worker", "mediator", "expert", "sysadmin"}


def _schema() -> dict[str, Any]:
    schema = copy.deepcopy(base.SCHEMA)
    props = schema["properties"]
    props["initial_limit"] = {"enum": sorted(LIMIT_KINDS)}
    props["default_limits"]["propertyNames"] = {"enum": sorted(LIMIT_KINDS)}
    item = props["transitions"]["items"]["properties"]
    item["roles"]["items"] = {"enum": sorted(ROLES)}
    item["effect"] = {"enum": sorted(EFFECTS)}
    item["time_limit"] = {"enum": sorted(LIMIT_KINDS)}
    item.pop("guard", None)
    return schema


SCHEMA = _schema()


def parse(data: dict[str, Any]) -> Definition:
    """Validate a dispute workflow; DefinitionError lists every problem."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    reasons = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(
            validator.iter_errors(data), key=lambda e: list(e.absolute_path)
        )
    ]
    if reasons:
        raise DefinitionError(reasons)
    neutral = {
        k: v for k, v in data.items() if k not in ("initial_limit", "default_limits")
    }
    neutral["transitions"] = [
        {
            **{k: v for k, v in t.items() if k not in ("effect", "time_limit")},
            "roles": ["center_staff"],
        }
        for t in data["transitions"]
    ]
    structure = base.parse(neutral)
    raw = {t["name"]: t for t in data["transitions"]}
    transitions: dict[str, Transition] = {
        name: dataclasses.replace(
            t,
            roles=frozenset(raw[name]["roles"]),
            effect=raw[name].get("effect"),
            time_limit=raw[name].get("time_limit"),
        )
        for name, t in structure.transitions.items()
    }
    return dataclasses.replace(
        structure,
        transitions=transitions,
        default_limits=dict(data.get("default_limits", {})),
        initial_limit=data.get("initial_limit"),
    )


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
    parsed = parse(data)
    with transaction.atomic():
        current = CaseWorkflow.objects.filter(city_code=city_code, name=parsed.name)
        last = current.aggregate(v=Max("version"))["v"] or 0
        if last and current.get(version=last).definition == data:
            return current.get(version=last)
        current.update(active=False)
        wf = CaseWorkflow.objects.create(
            city_code=city_code, name=parsed.name, version=last + 1, definition=data
        )
        audit_record(
            actor=actor,
            action="disputes.workflow.install",
            obj=wf,
            region_code=city_code,
            changes={"name": [None, parsed.name], "version": [last or None, last + 1]},
        )
    return wf


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
