"""Workflow definitions as data: a JSON Schema for them, a parsed form the engine
checks every transition against, and the semantic checks a schema cannot express.

A definition names its states and transitions. A transition has a name, the states it
leaves from, the state it goes to (or a branch on a field's value), the roles allowed,
the fields required, the time limit it starts, and optionally one engine effect from a
fixed vocabulary (``EFFECTS``): cities configure which steps exist and who takes them,
never code.
"""

from dataclasses import dataclass, field
from typing import Any

import jsonschema
from django.utils.translation import gettext_lazy as _

# Timeline rows that are not steps of a loop (the state stays as it is): the report
# itself, and what supervision and the whistle record against the event.
RECORDS = {
    "report": _("Reported"),
    "whistle": _("Whistle blown"),
    "check_in": _("Department checked in"),
    "check_in_missing": _("Department did not check in"),
    "supervise": _("Supervision order"),
    "supervision_answer": _("Supervision order answered"),
}
# The records a citizen following a report does not see.
INTERNAL_RECORDS = frozenset(RECORDS) - {"report"}

# What an effect does is the engine's (services.py); which transitions use it is the
# definition's.
EFFECTS = {
    "merge",  # mark the event a duplicate of another (field duplicate_of)
    "dispatch",  # assign a lead department and co-handlers (fields lead_department, …)
    "sign_for",  # the acting department signs for its assignment
    "send_back",  # the acting department returns its assignment with a reason
    "report_done",  # the acting department reports; the step completes when all have
    "escalate",  # hand the event to the next level up (town → county → city)
    "extend",  # approve the requested extension: the deadline moves by its hours
    "rate",  # the reporter's rating (field rating) chooses the branch
}
LIMIT_KINDS = {"sign_for", "handle", "verify", "return_visit", "accept", "check_in"}
ROLES = {
    "grid_worker",
    "grid_leader",
    "grid_specialist",
    "center_staff",
    "department_staff",
    "leader",
    "sysadmin",
    "reporter",
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "title", "initial", "states", "transitions"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{1,48}$"},
        "title": {"type": "string", "minLength": 1},
        "initial": {"type": "string"},
        "initial_limit": {"enum": sorted(LIMIT_KINDS)},
        "default_limits": {
            "type": "object",
            "propertyNames": {"enum": sorted(LIMIT_KINDS)},
            "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
        },
        "states": {
            "type": "object",
            "minProperties": 2,
            "additionalProperties": {
                "type": "object",
                "required": ["label"],
                "additionalProperties": False,
                "properties": {
                    "label": {"type": "string"},
                    "final": {"type": "boolean"},
                },
            },
        },
        "transitions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "label", "from", "to", "roles"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
                    "label": {"type": "string"},
                    "from": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                    },
                    "to": {
                        "oneOf": [
                            {"type": "string"},
                            {
                                "type": "object",
                                "required": ["field", "cases", "default"],
                                "additionalProperties": False,
                                "properties": {
                                    "field": {"type": "string"},
                                    "cases": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "default": {"type": "string"},
                                },
                            },
                        ]
                    },
                    "roles": {
                        "type": "array",
                        "items": {"enum": sorted(ROLES)},
                        "minItems": 1,
                    },
                    "fields": {"type": "array", "items": {"type": "string"}},
                    "time_limit": {"enum": sorted(LIMIT_KINDS)},
                    "effect": {"enum": sorted(EFFECTS)},
                    "guard": {"enum": ["small_in_grid", "not_top_level"]},
                },
            },
        },
    },
}


class DefinitionError(ValueError):
    """A definition that is not a valid workflow, with every reason."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    to: str | dict[str, Any]
    roles: frozenset[str]
    fields: tuple[str, ...] = ()
    time_limit: str | None = None
    effect: str | None = None
    guard: str | None = None

    def targets(self) -> set[str]:
        if isinstance(self.to, str):
            return {self.to}
        return {*self.to["cases"].values(), self.to["default"]}

    def target(self, data: dict[str, Any]) -> str:
        if isinstance(self.to, str):
            return self.to
        return str(
            self.to["cases"].get(str(data.get(self.to["field"])), self.to["default"])
        )


@dataclass(frozen=True)
class Definition:
    name: str
    title: str
    initial: str
    states: dict[str, dict[str, Any]]
    transitions: dict[str, Transition]
    default_limits: dict[str, float] = field(default_factory=dict)
    initial_limit: str | None = None

    def is_final(self, state: str) -> bool:
        return bool(self.states.get(state, {}).get("final"))

    def label(self, state: str) -> str:
        return str(self.states.get(state, {}).get("label", state))

    def step_label(self, name: str) -> str:
        """The label of a timeline row: its transition's, or a record's."""
        t = self.transitions.get(name)
        if t is not None:
            return t.label
        return str(RECORDS.get(name, name))

    def available(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]


def parse(data: dict[str, Any]) -> Definition:
    """Validate against the schema and the semantic rules; every problem is listed."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    reasons = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(
            validator.iter_errors(data), key=lambda e: list(e.absolute_path)
        )
    ]
    if reasons:
        raise DefinitionError(reasons)
    states = data["states"]
    if data["initial"] not in states:
        reasons.append(f"initial: initial state {data['initial']!r} is not a state")
    transitions: dict[str, Transition] = {}
    for i, raw in enumerate(data["transitions"]):
        at = f"transitions/{i}"
        t = Transition(
            name=raw["name"],
            label=raw["label"],
            sources=tuple(raw["from"]),
            to=raw["to"],
            roles=frozenset(raw["roles"]),
            fields=tuple(raw.get("fields", [])),
            time_limit=raw.get("time_limit"),
            effect=raw.get("effect"),
            guard=raw.get("guard"),
        )
        if t.name in transitions:
            reasons.append(f"{at}/name: transition {t.name!r} is defined twice")
        transitions[t.name] = t
        for s in (*t.sources, *t.targets()):
            if s not in states:
                reasons.append(f"{at}: transition {t.name!r} names unknown state {s!r}")
        for s in t.sources:
            if states.get(s, {}).get("final"):
                reasons.append(
                    f"{at}/from: transition {t.name!r} leaves final state {s!r}"
                )
        if not isinstance(t.to, str) and t.to["field"] not in t.fields:
            reasons.append(
                f"{at}/to/field: transition {t.name!r} branches on a field "
                "it does not require"
            )
    reachable = {data["initial"]}
    changed = True
    while changed:
        changed = False
        for t in transitions.values():
            if reachable & set(t.sources) and not t.targets() <= reachable:
                reachable |= t.targets()
                changed = True
    for s in states:
        if s not in reachable:
            reasons.append(
                f"states/{s}: state {s!r} cannot be reached from {data['initial']!r}"
            )
    if not any(v.get("final") for v in states.values()):
        reasons.append("states: no final state")
    if reasons:
        raise DefinitionError(reasons)
    return Definition(
        name=data["name"],
        title=data["title"],
        initial=data["initial"],
        states=states,
        transitions=transitions,
        default_limits=dict(data.get("default_limits", {})),
        initial_limit=data.get("initial_limit"),
    )
