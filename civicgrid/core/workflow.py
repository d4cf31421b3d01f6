"""Workflows as data, shared by the events loop (civicgrid.events) and dispute cases
(civicgrid.disputes); the mechanism of one step is ``civicgrid.core.steps``.

A definition names states and transitions (the states a transition leaves from, the
state it goes to or a branch on a field, the roles allowed, the fields required, the
time limit it starts, an effect and guard from the domain's ``Vocabulary``): cities
configure steps, never code. ``Vocabulary.parse`` lists every problem: the JSON Schema
of that vocabulary, then the structure rules (known and reachable states, a final
state, no step out of one, branches on required fields).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import jsonschema
from django.db import models, transaction

from civicgrid.core.audit import audit_record

M = TypeVar("M", bound=models.Model)


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

    def target(self, data: Mapping[str, Any]) -> str:
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
    # Labels of timeline rows that are not steps (the vocabulary's records).
    records: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def is_final(self, state: str) -> bool:
        return bool(self.states.get(state, {}).get("final"))

    def label(self, state: str) -> str:
        return str(self.states.get(state, {}).get("label", state))

    def step_label(self, name: str) -> str:
        """The label of a timeline row: its transition's, or a record's."""
        t = self.transitions.get(name)
        if t is not None:
            return t.label
        return str(self.records.get(name, name))

    def available(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]


def _enum(values: Iterable[str]) -> dict[str, Any]:
    return {"enum": sorted(values)}


@dataclass(frozen=True)
class Vocabulary:
    """What a domain's definitions may name: roles, effects, time-limit kinds, guards
    (none: definitions of the domain may not carry one), and the timeline records."""

    roles: frozenset[str]
    effects: frozenset[str]
    limit_kinds: frozenset[str]
    guards: frozenset[str] = frozenset()
    records: Mapping[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        transition: dict[str, Any] = {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
            "label": {"type": "string"},
            "from": {"type": "array", "items": {"type": "string"}, "minItems": 1},
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
            "roles": {"type": "array", "items": _enum(self.roles), "minItems": 1},
            "fields": {"type": "array", "items": {"type": "string"}},
            "time_limit": _enum(self.limit_kinds),
            "effect": _enum(self.effects),
        }
        if self.guards:
            transition["guard"] = _enum(self.guards)
        state = {
            "type": "object",
            "required": ["label"],
            "additionalProperties": False,
            "properties": {"label": {"type": "string"}, "final": {"type": "boolean"}},
        }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["name", "title", "initial", "states", "transitions"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{1,48}$"},
                "title": {"type": "string", "minLength": 1},
                "initial": {"type": "string"},
                "initial_limit": _enum(self.limit_kinds),
                "default_limits": {
                    "type": "object",
                    "propertyNames": _enum(self.limit_kinds),
                    "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                },
                "states": {
                    "type": "object",
                    "minProperties": 2,
                    "additionalProperties": state,
                },
                "transitions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name", "label", "from", "to", "roles"],
                        "additionalProperties": False,
                        "properties": transition,
                    },
                },
            },
        }

    @cached_property
    def _validator(self) -> jsonschema.Draft202012Validator:
        """The schema's validator, built once per vocabulary (not per parse)."""
        return jsonschema.Draft202012Validator(self.schema())

    def parse(self, data: dict[str, Any]) -> Definition:
        """Validate against the schema and the structure rules; DefinitionError
        lists every problem."""
        reasons = [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(
                self._validator.iter_errors(data), key=lambda e: list(e.absolute_path)
            )
        ]
        if reasons:
            raise DefinitionError(reasons)
        states, initial = data["states"], data["initial"]
        if initial not in states:
            reasons.append(f"initial: initial state {initial!r} is not a state")
        transitions = _transitions(data["transitions"], states, reasons)
        reasons.extend(_unreachable(states, initial, transitions))
        if not any(v.get("final") for v in states.values()):
            reasons.append("states: no final state")
        if reasons:
            raise DefinitionError(reasons)
        return Definition(
            name=data["name"],
            title=data["title"],
            initial=initial,
            states=states,
            transitions=transitions,
            default_limits=dict(data.get("default_limits", {})),
            initial_limit=data.get("initial_limit"),
            records=self.records,
        )


def _transitions(
    raws: list[dict[str, Any]], states: dict[str, Any], reasons: list[str]
) -> dict[str, Transition]:
    transitions: dict[str, Transition] = {}
    for i, raw in enumerate(raws):
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
    return transitions


def _unreachable(
    states: dict[str, Any], initial: str, transitions: dict[str, Transition]
) -> list[str]:
    reachable, changed = {initial}, True
    while changed:
        changed = False
        for t in transitions.values():
            if reachable & set(t.sources) and not t.targets() <= reachable:
                reachable |= t.targets()
                changed = True
    return [
        f"states/{s}: state {s!r} cannot be reached from {initial!r}"
        for s in states
        if s not in reachable
    ]


def install_version(
    model: type[M],
    *,
    actor: Any,
    city_code: str,
    name: str,
    data: dict[str, Any],
    action: str,
) -> M:
    """Store ``data`` (already parsed) as the next version of the city's definition
    of that name in ``model`` (fields city_code, name, version, definition, active);
    the same data as the last version stores nothing. Audited as ``action``."""
    with transaction.atomic():
        current: Any = model._default_manager.filter(city_code=city_code, name=name)
        latest = current.order_by("-version").first()
        last = latest.version if latest is not None else 0
        if latest is not None and latest.definition == data:
            return latest
        current.update(active=False)
        wf = model._default_manager.create(
            city_code=city_code, name=name, version=last + 1, definition=data
        )
        audit_record(
            actor=actor,
            action=action,
            obj=wf,
            region_code=city_code,
            changes={"name": [None, name], "version": [last or None, last + 1]},
        )
    return wf
