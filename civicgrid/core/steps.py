"""The mechanism of one step of a workflow (civicgrid.core.workflow), shared by the
events engine and the dispute-case engine.

Inside the caller's transaction, on a row with ``state``, ``version``,
``deadline_at`` and ``deadline_kind``: ``open_step`` locks the row and refuses the
step if the caller saw an older version (409) or the definition lacks the transition
from the row's state; ``clean_fields`` refuses a missing required field; ``move``
stamps the deadline and moves the state; ``record_step`` writes the timeline row and
``audit_step`` the audit record. Who may act (``active_posts`` helps), the effects
and the words of refusals (``Wording``) are each domain's.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import models

from civicgrid.core.audit import audit_record
from civicgrid.core.workflow import Definition, Transition

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Wording:
    """How a domain refuses a step: its 400 error, its 409 error (given the row),
    and its messages (%-templates, plain or lazily translated)."""

    error: Callable[..., Exception]  # (message, *, field)
    stale: Callable[[Any], Exception]
    no_step: Any  # %(step)s: the transition asked for, repr'd
    not_possible: Any  # %(step)s, %(state)s: the transition's and the state's labels
    needs: Any  # %(step)s, %(fields)s: the missing fields


def open_step(
    rows: "models.QuerySet[M]",
    pk: int,
    version: int,
    definition_of: Callable[[M], Definition],
    transition: str,
    wording: Wording,
) -> tuple[M, Definition, Transition]:
    """Lock the row (only it: PostgreSQL refuses FOR UPDATE on the nullable side of
    the outer joins select_related makes), check the version the caller saw, and
    find the transition the row's definition has from its state."""
    obj = rows.select_for_update(of=("self",)).get(pk=pk)
    row: Any = obj  # a model with ``state`` and ``version``
    if row.version != version:
        raise wording.stale(obj)
    definition = definition_of(obj)
    t = definition.transitions.get(transition)
    if t is None:
        raise wording.error(
            str(wording.no_step) % {"step": repr(transition)}, field="transition"
        )
    state = row.state
    if state not in t.sources:
        raise wording.error(
            str(wording.not_possible)
            % {"step": t.label, "state": definition.label(state)},
            field="transition",
        )
    return obj, definition, t


def clean_fields(
    t: Transition, data: Mapping[str, Any], wording: Wording
) -> dict[str, Any]:
    """The data without empty values; refused when a required field is missing."""
    clean = {k: v for k, v in data.items() if v not in (None, "", [])}
    missing = [f for f in t.fields if f not in clean]
    if missing:
        raise wording.error(
            str(wording.needs) % {"step": t.label, "fields": ", ".join(missing)},
            field=missing[0],
        )
    return clean


def active_posts(actor: Any, roles: Iterable[str]) -> list[Any]:
    """The actor's active staff posts (department joined) in one of ``roles``."""
    if actor is None or not actor.is_authenticated:
        return []
    return list(
        actor.posts.filter(active=True, role__in=list(roles)).select_related(
            "department"
        )
    )


def move(
    obj: Any,
    definition: Definition,
    t: Transition,
    to_state: str,
    due: Callable[[str], datetime | None],
    *,
    restart: bool = False,
    override: tuple[str, datetime | None] | None = None,
) -> str:
    """Stamp the deadline, move ``obj`` to ``to_state`` and count its version; the
    state it left is returned. A final state has no deadline; an ``override`` (kind,
    time or None for the kind's ``due``) replaces the transition's; a time limit
    starts a new deadline when the state changes (or ``restart``); a step without
    one keeps the running deadline."""
    from_state: str = obj.state
    if definition.is_final(to_state):
        obj.deadline_at, obj.deadline_kind = None, ""
    elif override is not None:
        obj.deadline_kind = override[0]
        obj.deadline_at = override[1] or due(override[0])
    elif t.time_limit and (to_state != from_state or restart):
        obj.deadline_at = due(t.time_limit)
        obj.deadline_kind = t.time_limit
    obj.state = to_state
    obj.version += 1
    return from_state


def record_step(
    model: type[M],
    *,
    t: Transition,
    from_state: str,
    to_state: str,
    actor: Any,
    anonymous: str,
    note: str,
    data: Mapping[str, Any],
    deadline_at: datetime | None,
    scalars: tuple[type, ...] = (str, int, float, bool),
    **row: Any,
) -> M:
    """Write the step's timeline row (``row`` names its owner, e.g. ``event=…``):
    the actor if signed in, else labelled ``anonymous``; the data's values that are
    not of ``scalars`` stored as text."""
    signed_in = actor is not None and actor.is_authenticated
    return model._default_manager.create(
        transition=t.name,
        from_state=from_state,
        to_state=to_state,
        actor=actor if signed_in else None,
        actor_label=actor.get_username() if signed_in else anonymous,
        note=note,
        data={k: (v if isinstance(v, scalars) else str(v)) for k, v in data.items()},
        deadline_at=deadline_at,
        **row,
    )


def audit_step(
    actor: Any, action: str, obj: Any, from_state: str, to_state: str, version: int
) -> None:
    """Audit a step: the state it moved and the version it went from."""
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        changes={
            "state": [from_state, to_state],
            "version": [version, obj.version],
        },
    )
