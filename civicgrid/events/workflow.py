"""Workflow definitions of the events loop: the shared format and parser
(civicgrid.core.workflow) with this domain's vocabulary and timeline records.

A definition names its states and transitions. A transition has a name, the states it
leaves from, the state it goes to (or a branch on a field's value), the roles allowed,
the fields required, the time limit it starts, and optionally one engine effect from a
fixed vocabulary (``EFFECTS``): cities configure which steps exist and who takes them,
never code.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicgrid.core.workflow import Definition, DefinitionError, Transition, Vocabulary

__all__ = ["Definition", "DefinitionError", "Transition", "parse"]

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

# What an effect does is the engine's (engine.py); which transitions use it is the
# definition's.
EFFECTS = frozenset(
    {
        "merge",  # mark the event a duplicate of another (field duplicate_of)
        "dispatch",  # assign a lead department and co-handlers (fields lead_department, …)
        "sign_for",  # the acting department signs for its assignment
        "send_back",  # the acting department returns its assignment with a reason
        "report_done",  # the acting department reports; the step completes when all have
        "escalate",  # hand the event to the next level up (town → county → city)
        "extend",  # approve the requested extension: the deadline moves by its hours
        "rate",  # the reporter's rating (field rating) chooses the branch
    }
)
LIMIT_KINDS = frozenset(
    {"sign_for", "handle", "verify", "return_visit", "accept", "check_in"}
)
ROLES = frozenset(
    {
        "grid_worker",
        "grid_leader",
        "grid_specialist",
        "center_staff",
        "department_staff",
        "leader",
        "sysadmin",
        "reporter",
    }
)

GUARDS = frozenset({"small_in_grid", "not_top_level"})
VOCABULARY = Vocabulary(ROLES, EFFECTS, LIMIT_KINDS, GUARDS, RECORDS)
SCHEMA: dict[str, Any] = VOCABULARY.schema()


def parse(data: dict[str, Any]) -> Definition:
    """Validate against the schema and the semantic rules; every problem is listed."""
    return VOCABULARY.parse(data)
