"""The diff between two workflow versions: every kind of change is found, and
nothing is reported where only the order of a set changed."""

import copy
import json
from typing import Any

from civicgrid.events.services import DEFINITIONS_DIR
from civicgrid.events.workflow_diff import Change, diff_definitions


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (DEFINITIONS_DIR / "full_loop.json").read_text(encoding="utf-8")
    )
    return data


def transition(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in d["transitions"] if t["name"] == name)


def test_same_definition_has_no_changes() -> None:
    d = shipped()
    assert diff_definitions(d, copy.deepcopy(d)).empty


def test_reordered_roles_and_sources_are_not_changes() -> None:
    old, new = shipped(), shipped()
    for t in new["transitions"]:
        t["roles"] = list(reversed(t["roles"]))
        t["from"] = list(reversed(t["from"]))
    new["transitions"].reverse()
    assert diff_definitions(old, new).empty


def test_states_added_removed_and_relabelled() -> None:
    old, new = shipped(), shipped()
    new["states"]["archived"] = {"label": "已归档", "final": True}
    del new["states"]["merged"]
    new["states"]["accepted"]["label"] = "已受理（新）"
    d = diff_definitions(old, new)
    assert d.states_added == ["archived"]
    assert d.states_removed == ["merged"]
    assert d.states_changed == {
        "accepted": [
            Change("label", old["states"]["accepted"]["label"], "已受理（新）")
        ]
    }
    assert not d.transitions_changed and not d.transitions_added


def test_transitions_added_removed_and_each_attribute_changed() -> None:
    old, new = shipped(), shipped()
    new["transitions"] = [t for t in new["transitions"] if t["name"] != "merge"]
    new["transitions"].append(
        {
            "name": "archive",
            "label": "归档",
            "from": ["rejected"],
            "to": "rejected",
            "roles": ["sysadmin"],
        }
    )
    reject = transition(new, "reject")
    reject["roles"] = ["center_staff", "leader"]
    reject["from"] = ["reported", "accepted"]
    reject["to"] = "merged"
    reject["time_limit"] = "handle"
    reject["fields"] = ["reason", "note"]
    d = diff_definitions(old, new)
    assert d.transitions_added == ["archive"]
    assert d.transitions_removed == ["merge"]
    assert set(d.transitions_changed) == {"reject"}
    changes = {c.attribute: (c.old, c.new) for c in d.transitions_changed["reject"]}
    assert changes == {
        "from": (["reported"], ["accepted", "reported"]),
        "to": ("rejected", "merged"),
        "roles": (["center_staff"], ["center_staff", "leader"]),
        "fields": (["reason"], ["note", "reason"]),
        "time_limit": (None, "handle"),
    }
    shown = {c.attribute: c.new_text for c in d.transitions_changed["reject"]}
    assert shown["roles"] == "center_staff, leader" and shown["time_limit"] == "handle"


def test_branching_target_and_definition_attributes() -> None:
    old, new = shipped(), shipped()
    reject = transition(new, "reject")
    reject["to"] = {
        "field": "reason",
        "cases": {"dup": "merged"},
        "default": "rejected",
    }
    new["title"] = "新流程"
    d = diff_definitions(old, new)
    (change,) = d.transitions_changed["reject"]
    assert change.attribute == "to" and change.new["cases"] == {"dup": "merged"}
    assert '"dup": "merged"' in change.new_text
    assert [c.attribute for c in d.other_changed] == ["title"]
