"""The shared workflow definitions and step mechanism (civicgrid.core.workflow,
civicgrid.core.steps) on a vocabulary of its own,
apart from the events and disputes engines that use it."""

import copy
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Value
from django.utils import timezone

from civicgrid.core import steps
from civicgrid.core import workflow as wf
from civicgrid.core.models import AuditRecord
from civicgrid.events.models import WorkflowDefinition

VOCABULARY = wf.Vocabulary(
    roles=frozenset({"clerk", "judge"}),
    effects=frozenset({"stamp"}),
    limit_kinds=frozenset({"review", "appeal"}),
    records={"note": "A note"},
)
LOOP: dict[str, Any] = {
    "name": "tiny",
    "title": "A tiny loop",
    "initial": "open",
    "default_limits": {"review": 10, "appeal": 20},
    "states": {
        "open": {"label": "Open"},
        "review": {"label": "In review"},
        "done": {"label": "Done", "final": True},
    },
    "transitions": [
        {"name": "send", "label": "Send", "from": ["open"], "to": "review",
         "roles": ["clerk"], "fields": ["reason"], "time_limit": "review"},
        {"name": "comment", "label": "Comment", "from": ["review"], "to": "review",
         "roles": ["clerk", "judge"], "time_limit": "appeal"},
        {"name": "decide", "label": "Decide", "from": ["review"],
         "to": {"field": "ok", "cases": {"yes": "done"}, "default": "open"},
         "roles": ["judge"], "fields": ["ok"], "effect": "stamp"},
    ],
}  # fmt: skip


class Refused(ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class Stale(Exception):
    def __init__(self, row: Any) -> None:
        self.row = row


WORDING = steps.Wording(
    error=Refused,
    stale=Stale,
    no_step="no step %(step)s",
    not_possible="%(step)s not while %(state)s",
    needs="%(step)s needs %(fields)s",
)


def test_a_definition_parses_to_its_states_transitions_and_records() -> None:
    d = VOCABULARY.parse(copy.deepcopy(LOOP))
    assert d.initial == "open" and d.is_final("done") and not d.is_final("review")
    assert [t.name for t in d.available("review")] == ["comment", "decide"]
    decide = d.transitions["decide"]
    assert decide.roles == {"judge"} and decide.effect == "stamp"
    assert decide.targets() == {"done", "open"}
    assert decide.target({"ok": "yes"}) == "done" and decide.target({}) == "open"
    assert d.step_label("send") == "Send" and d.step_label("note") == "A note"
    assert (
        d.label("review") == "In review" and d.default_limits == LOOP["default_limits"]
    )


def test_the_schema_holds_the_vocabulary_and_guards_only_where_it_has_some() -> None:
    data = copy.deepcopy(LOOP)
    data["transitions"][0].update(roles=["mayor"], effect="dispatch", guard="x")
    with pytest.raises(wf.DefinitionError) as refused:
        VOCABULARY.parse(data)
    text = str(refused.value)
    assert "'mayor' is not one of" in text and "'dispatch' is not one of" in text
    assert "'guard' was unexpected" in text
    guarded = wf.Vocabulary(
        roles=VOCABULARY.roles,
        effects=VOCABULARY.effects,
        limit_kinds=VOCABULARY.limit_kinds,
        guards=frozenset({"x"}),
    )
    data = copy.deepcopy(LOOP)
    data["transitions"][0]["guard"] = "x"
    assert guarded.parse(data).transitions["send"].guard == "x"


def test_every_structure_problem_is_listed_at_once() -> None:
    data = copy.deepcopy(LOOP)
    data["states"]["limbo"] = {"label": "Limbo"}
    data["states"]["done"].pop("final")
    data["transitions"].append(dict(data["transitions"][1], to="nowhere"))
    data["transitions"][2]["fields"] = []
    with pytest.raises(wf.DefinitionError) as refused:
        VOCABULARY.parse(data)
    assert refused.value.reasons == [
        "transitions/2/to/field: transition 'decide' branches on a field it does not require",
        "transitions/3/name: transition 'comment' is defined twice",
        "transitions/3: transition 'comment' names unknown state 'nowhere'",
        "states/limbo: state 'limbo' cannot be reached from 'open'",
        "states: no final state",
    ]
    data = copy.deepcopy(LOOP)
    data["transitions"].append(
        dict(data["transitions"][1], name="reopen", **{"from": ["done"]})
    )
    with pytest.raises(wf.DefinitionError, match="leaves final state 'done'"):
        VOCABULARY.parse(data)


def test_fields_are_cleaned_and_a_missing_one_is_named() -> None:
    t = VOCABULARY.parse(copy.deepcopy(LOOP)).transitions["send"]
    clean = steps.clean_fields(
        t, {"reason": "x", "empty": "", "none": None, "l": []}, WORDING
    )
    assert clean == {"reason": "x"}
    with pytest.raises(Refused, match="Send needs reason") as refused:
        steps.clean_fields(t, {"reason": ""}, WORDING)
    assert refused.value.field == "reason"


def test_the_deadline_follows_the_step() -> None:
    d = VOCABULARY.parse(copy.deepcopy(LOOP))
    at = timezone.now()
    due = {"review": at + timedelta(hours=10), "appeal": at + timedelta(hours=20)}

    def row(state: str) -> Any:
        return SimpleNamespace(
            state=state, version=3, deadline_at=at, deadline_kind="x"
        )

    def step(r: Any, name: str, to: str, **kw: Any) -> str:
        return steps.move(r, d, d.transitions[name], to, due.__getitem__, **kw)

    r = row("open")  # a time limit and a new state: a new deadline
    assert step(r, "send", "review") == "open"
    assert (r.state, r.version, r.deadline_at, r.deadline_kind) == (
        "review", 4, due["review"], "review"
    )  # fmt: skip
    r = row("review")  # the same state: the running deadline is kept ...
    step(r, "comment", "review")
    assert (r.deadline_at, r.deadline_kind) == (at, "x")
    step(r, "comment", "review", restart=True)  # ... unless the step restarts it
    assert (r.deadline_at, r.deadline_kind) == (due["appeal"], "appeal")
    r = row("review")  # an effect's deadline replaces the transition's
    later: datetime = at + timedelta(days=9)
    step(r, "decide", "open", override=("appeal", later))
    assert (r.deadline_at, r.deadline_kind) == (later, "appeal")
    step(r, "send", "review", override=("appeal", None))
    assert (r.deadline_at, r.deadline_kind) == (due["appeal"], "appeal")
    r = row("review")  # a final state has none, whatever else
    step(r, "decide", "done", override=("appeal", later))
    assert (r.state, r.deadline_at, r.deadline_kind) == ("done", None, "")


@pytest.mark.django_db
def test_open_step_refuses_a_stale_version_a_missing_step_and_a_wrong_state() -> None:
    """Any row with a state and a version: a stored definition, given a state."""
    d = VOCABULARY.parse(copy.deepcopy(LOOP))
    stored = WorkflowDefinition.objects.create(name="tiny", version=2, definition=LOOP)

    def open_(state: str, version: int, name: str) -> Any:
        rows = WorkflowDefinition.objects.annotate(state=Value(state))
        with transaction.atomic():
            return steps.open_step(rows, stored.pk, version, lambda r: d, name, WORDING)

    row, definition, t = open_("open", 2, "send")
    assert (row.pk, definition, t) == (stored.pk, d, d.transitions["send"])
    with pytest.raises(Stale) as stale:
        open_("open", 1, "send")
    assert stale.value.row.version == 2
    with pytest.raises(Refused, match="no step 'fly'") as refused:
        open_("open", 2, "fly")
    assert refused.value.field == "transition"
    with pytest.raises(Refused, match="Decide not while Open"):
        open_("open", 2, "decide")


@pytest.mark.django_db
def test_installing_makes_a_new_audited_version_unless_nothing_changed() -> None:
    def install(data: dict[str, Any]) -> WorkflowDefinition:
        return wf.install_version(
            WorkflowDefinition,
            actor=None,
            city_code="3703",
            name=data["name"],
            data=data,
            action="tiny.install",
        )

    first = install(LOOP)
    assert install(copy.deepcopy(LOOP)) == first  # the same data: nothing new
    changed = copy.deepcopy(LOOP)
    changed["default_limits"]["review"] = 5
    second = install(changed)
    first.refresh_from_db()
    assert (first.version, first.active, second.version, second.active) == (
        1, False, 2, True
    )  # fmt: skip
    records = AuditRecord.objects.filter(action="tiny.install").order_by("id")
    assert [r.changes["version"] for r in records] == [[None, 1], [1, 2]]
