"""Random walks through both shipped loops: whatever is tried, by whomever, with
whatever data, the event and its timeline stay consistent with the definition."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as note_step
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role, User
from civicgrid.events.engine import definition_of, event_act
from civicgrid.events.errors import EventError, NotPermitted, StaleVersion
from civicgrid.events.models import Event, Rating, WorkflowDefinition
from civicgrid.events.services import DEFINITIONS_DIR, workflow_install
from civicgrid.events.tests.conftest import Cast

pytestmark = pytest.mark.django_db

# A co-handler signing first, or one department of several reporting, leaves the
# event where it is (engine._apply_effect): the only rows whose target is their source.
STAYING_EFFECTS = {"sign_for", "report_done"}
TEXT_FIELDS = ("reason", "result", "conclusion")


def snapshot(event: Event) -> tuple[Any, ...]:
    event.refresh_from_db()
    return (
        event.state,
        event.version,
        event.actions.count(),
        event.deadline_at,
        event.level,
        event.lead_department_id,
        event.rating,
        sorted(event.assignments.values_list("department_id", "status", "active")),
    )


def machine_for(cast: Cast, report: Callable[..., Event], leader: User, root: User):
    """The state machine class, closed over the test's fixtures (hypothesis builds a
    fresh instance per example; the database rows of all examples stay until the test's
    transaction is rolled back, and each instance checks only its own events)."""
    actors: dict[str, tuple[User | None, set[str]]] = {
        "town": (cast.town, {Role.CENTER_STAFF}),
        "county": (cast.county, {Role.CENTER_STAFF}),
        "city": (cast.city, {Role.CENTER_STAFF}),
        "grid_worker": (cast.grid_worker, {Role.GRID_WORKER}),
        "urban": (cast.urban, {Role.DEPARTMENT_STAFF}),
        "market": (cast.market, {Role.DEPARTMENT_STAFF}),
        "citizen": (cast.citizen, {"reporter"}),
        "leader": (leader, {Role.LEADER}),
        "anonymous": (None, set()),
        "root": (root, set()),
    }
    departments = [cast.urban_dept.pk, cast.market_dept.pk]

    class Loop(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[int] = []

        def field_values(
            self, codes: list[str], *, valid: bool
        ) -> dict[str, st.SearchStrategy[Any]]:
            """Values for every field a step may need: plausible ones, or (not
            ``valid``) anything a client might send, empty and malformed included."""
            if valid:
                return {
                    **{f: st.sampled_from(["已处理", "不属实"]) for f in TEXT_FIELDS},
                    "duplicate_of": st.sampled_from(codes),
                    "lead_department": st.sampled_from(departments),
                    "co_departments": st.lists(
                        st.sampled_from(departments), max_size=1
                    ),
                    "rating": st.sampled_from(Rating.values),
                    "hours": st.sampled_from([1, 24, 48]),
                }
            return {
                **{f: st.text(max_size=5) for f in TEXT_FIELDS},
                "duplicate_of": st.sampled_from([*codes, "3703-19990101-0001", ""]),
                "lead_department": st.sampled_from([*departments, 10**9, "abc"]),
                "co_departments": st.lists(
                    st.sampled_from([*departments, 10**9]), max_size=2
                ),
                "rating": st.sampled_from([*Rating.values, "meh"]),
                "hours": st.sampled_from([1, 0, 5000, "abc", None]),
            }

        @rule(
            loop=st.sampled_from(["full-loop", "yantai"]),
            big=st.booleans(),
            anonymous=st.booleans(),
        )
        def report(self, loop: str, big: bool, anonymous: bool) -> None:
            # 淄博市 switches between the default loop and 烟台's: running events
            # keep theirs, so both kinds live side by side.
            WorkflowDefinition.objects.filter(city_code="3703").update(
                active=loop == "yantai"
            )
            e = report(
                matter=cast.big if big else cast.small,
                actor=None if anonymous else cast.citizen,
            )
            assert e.workflow.name == loop
            self.events.append(e.pk)

        @precondition(lambda self: self.events)
        @rule(data=st.data())
        def act(self, data: st.DataObject) -> None:
            event = Event.objects.select_related("workflow").get(
                pk=data.draw(st.sampled_from(self.events), label="event")
            )
            definition = definition_of(event)
            # Mostly a step someone could sensibly take, so that walks get deep into
            # the loop; one in four is anything at all.
            wild = data.draw(st.integers(0, 3), label="wild") == 3
            possible = [t.name for t in definition.available(event.state)]
            transition = data.draw(
                st.sampled_from(
                    [*definition.transitions, "fly_away"]
                    if wild or not possible
                    else possible
                ),
                label="transition",
            )
            t = definition.transitions.get(transition)
            fitting = [n for n, (_, roles) in actors.items() if t and roles & t.roles]
            who = data.draw(
                st.sampled_from(sorted(actors) if wild or not fitting else fitting),
                label="actor",
            )
            version = (
                data.draw(st.integers(1, event.version + 1), label="version")
                if wild
                else event.version
            )
            codes = list(
                Event.objects.filter(pk__in=self.events).values_list("code", flat=True)
            )
            fields = data.draw(
                st.fixed_dictionaries(
                    {}, optional=self.field_values(codes, valid=False)
                ),
                label="data",
            )
            if t and not wild:
                valid = self.field_values(codes, valid=True)
                fields.update(
                    {n: data.draw(valid[n], label=n) for n in t.fields if n in valid}
                )
            actor, roles = actors[who]

            before = snapshot(event)
            try:
                after = event_act(
                    actor=actor,
                    event_id=event.pk,
                    transition=transition,
                    version=version,
                    data=fields,
                )
            except (EventError, NotPermitted, StaleVersion) as exc:
                assert snapshot(event) == before, "a refused step changed the event"
                note_step(f"refused: {type(exc).__name__}")
                return
            note_step(f"{definition.name}: {transition} → {after.state}")
            # What the definition rules out is never let through.
            assert t is not None and before[0] in t.sources
            assert version == before[1]
            assert who == "root" or roles & t.roles
            row = after.actions.order_by("-id").first()
            assert row is not None
            assert (row.transition, row.from_state, row.to_state) == (
                t.name,
                before[0],
                after.state,
            )
            assert (after.version, after.actions.count()) == (
                before[1] + 1,
                before[2] + 1,
            )

        @invariant()
        def events_agree_with_their_definition(self) -> None:
            for event in Event.objects.filter(pk__in=self.events).select_related(
                "workflow"
            ):
                definition = definition_of(event)
                assert event.state in definition.states
                rows = list(
                    event.actions.order_by("at", "id").values_list(
                        "transition", "from_state", "to_state"
                    )
                )
                assert rows[0] == ("report", "", definition.initial)
                for (_, _, previous), (name, source, target) in zip(
                    rows, rows[1:], strict=False
                ):
                    t = definition.transitions[name]
                    assert source == previous, "the timeline is not a chain"
                    assert source in t.sources
                    assert target in t.targets() or (
                        target == source and t.effect in STAYING_EFFECTS
                    ), (name, source, target)
                assert rows[-1][2] == event.state
                assert event.version == 1 + sum(1 for r in rows if r[0] != "report")
                if definition.is_final(event.state):
                    assert event.deadline_at is None and event.deadline_kind == ""
                    assert event.closed_at is not None
                else:
                    assert event.closed_at is None

    return Loop


def test_random_walks_keep_every_invariant(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., User]
) -> None:
    """Any sequence of steps by any of the cast (right or wrong, with or without the
    fields, stale or current) on events of both shipped loops keeps the event in a
    state of its definition, its timeline a chain of the definition's transitions,
    its version one more than its steps, and refused steps without effect."""
    workflow_install(
        actor=None,
        city_code="3703",
        data=json.loads((DEFINITIONS_DIR / "yantai.json").read_text(encoding="utf-8")),
    )
    leader = make_staff("s_leader", Role.LEADER, region="3703")
    root = accounts.user_create(
        actor=None, username="s_root", password=None, is_superuser=True
    )
    run_state_machine_as_test(
        machine_for(cast, report, leader, root),
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
