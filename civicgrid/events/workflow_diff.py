"""What changed between two versions of a workflow definition: states added, removed
or relabelled, transitions added, removed or changed (and which of their attributes).

Pure functions over the definitions' JSON (as stored in WorkflowDefinition.definition):
no database, so the admin's diff page and the tests share one implementation.
"""

import json
from dataclasses import dataclass, field
from typing import Any

# The attributes of a transition compared, in the order they are shown. "from" and
# "fields" are sets (their order carries no meaning); "roles" too.
TRANSITION_ATTRIBUTES = (
    "label",
    "from",
    "to",
    "roles",
    "fields",
    "time_limit",
    "effect",
    "guard",
)
SET_ATTRIBUTES = frozenset({"from", "roles", "fields"})
STATE_ATTRIBUTES = ("label", "final")


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class Change:
    attribute: str
    old: Any
    new: Any

    @property
    def old_text(self) -> str:
        return _text(self.old)

    @property
    def new_text(self) -> str:
        return _text(self.new)


@dataclass
class WorkflowDiff:
    states_added: list[str] = field(default_factory=list)
    states_removed: list[str] = field(default_factory=list)
    states_changed: dict[str, list[Change]] = field(default_factory=dict)
    transitions_added: list[str] = field(default_factory=list)
    transitions_removed: list[str] = field(default_factory=list)
    transitions_changed: dict[str, list[Change]] = field(default_factory=dict)
    other_changed: list[Change] = field(default_factory=list)  # name, title, initial…

    @property
    def empty(self) -> bool:
        return not (
            self.states_added
            or self.states_removed
            or self.states_changed
            or self.transitions_added
            or self.transitions_removed
            or self.transitions_changed
            or self.other_changed
        )


def _normal(attribute: str, value: Any) -> Any:
    if attribute in SET_ATTRIBUTES:
        return sorted(value or [])
    if attribute == "final":
        return bool(value)
    return value


def _changes(
    old: dict[str, Any], new: dict[str, Any], attrs: tuple[str, ...]
) -> list[Change]:
    out = []
    for attr in attrs:
        a, b = _normal(attr, old.get(attr)), _normal(attr, new.get(attr))
        if a != b:
            out.append(Change(attr, a, b))
    return out


def _transitions(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in definition.get("transitions", [])}


def diff_definitions(old: dict[str, Any], new: dict[str, Any]) -> WorkflowDiff:
    """The changes that turn definition ``old`` into ``new``."""
    result = WorkflowDiff()
    old_states, new_states = old.get("states", {}), new.get("states", {})
    result.states_added = [s for s in new_states if s not in old_states]
    result.states_removed = [s for s in old_states if s not in new_states]
    for s in old_states:
        if s in new_states:
            changes = _changes(old_states[s], new_states[s], STATE_ATTRIBUTES)
            if changes:
                result.states_changed[s] = changes
    old_t, new_t = _transitions(old), _transitions(new)
    result.transitions_added = [t for t in new_t if t not in old_t]
    result.transitions_removed = [t for t in old_t if t not in new_t]
    for name, t in old_t.items():
        if name in new_t:
            changes = _changes(t, new_t[name], TRANSITION_ATTRIBUTES)
            if changes:
                result.transitions_changed[name] = changes
    result.other_changed = _changes(
        old, new, ("name", "title", "initial", "initial_limit", "default_limits")
    )
    return result
