"""The bulk workbook of the disputes app's expert and mediator pool (专家库), in the
shape of the other one-sheet workbooks (bulk_sheets): a member is named by name and
home area; a new one is created, one with other values updated through
``disputes.mediator_update`` (audited, scoped to the importer's regions)."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.models import User
from civicgrid.core.reports import ImportReport
from civicgrid.core.scope import covers, prefixes_q
from civicgrid.disputes import services as disputes
from civicgrid.disputes.models import DisputeType, MediationOrganisation, Mediator
from civicgrid.events.catalogue_sheets import norm
from civicgrid.exchange.bulk_sheets import (
    CREATED,
    UPDATED,
    Sheet,
    Write,
    _codes,
    _region,
)

# --- the expert and mediator pool (disputes) -------------------------------------------

EXPERTS = Sheet(
    "experts",
    gettext_lazy("experts and mediators"),
    (
        ("name", gettext_lazy("name")),
        ("kind", gettext_lazy("kind")),
        ("region", gettext_lazy("home region code")),
        ("also_serves", gettext_lazy("other region codes served")),
        ("specialties", gettext_lazy("specialties (dispute types)")),
        ("organisation", gettext_lazy("organisation")),
        ("qualifications", gettext_lazy("qualifications")),
        ("max_load", gettext_lazy("maximum open cases")),
        ("username", gettext_lazy("account (username)")),
        ("available", gettext_lazy("available (是/否)")),
    ),
    (
        "赵专家",
        "expert",
        "370303",
        "370302",
        "marriage_family,neighbours",
        "",
        "律师",
        "10",
        "",
        "是",
    ),
    {"kind": lambda: list(Mediator.Kind.values), "available": lambda: ["是", "否"]},
    frozenset({"available"}),
)
YES, NO = (
    {"是", "yes", "y", "true", "1", "可用"},
    {"否", "no", "n", "false", "0", "不可用"},
)
# The profile fields of a pool member and the column each is read from.
EXPERT_COLUMNS = {
    "kind": "kind",
    "regions": "also_serves",
    "specialties": "specialties",
    "organisation": "organisation",
    "qualifications": "qualifications",
    "max_load": "max_load",
    "available": "available",
    "user": "username",
}
SEPARATORS = str.maketrans({c: "," for c in "，、;； "})


def _split(text: str) -> list[str]:
    return [p for p in text.translate(SEPARATORS).split(",") if p]


def experts_rows(scope: Sequence[str]) -> list[list[Any]]:
    qs = (
        Mediator.objects.filter(prefixes_q(scope))
        .select_related("organisation", "user")
        .order_by("region_code", "name", "pk")
    )
    return [
        [
            m.name,
            m.kind,
            m.region_code,
            ",".join(m.regions[1:]),
            ",".join(m.specialties),
            m.organisation.name if m.organisation else "",
            m.qualifications,
            m.max_load,
            m.user.username if m.user else "",
            "是" if m.available else "否",
        ]
        for m in qs
    ]


def _available(text: str) -> bool | None:
    t = text.strip().lower()
    return True if t in YES else False if t in NO else None


def _member_changes(
    m: Mediator, values: Mapping[str, Any], r: Mapping[str, str]
) -> dict[str, Any]:
    """What a row changes on an existing member. Blank maximum, availability and
    account cells say "unchanged"; the other cells are the member's values."""
    changes: dict[str, Any] = {}
    for f in EXPERT_COLUMNS:
        if f in ("max_load", "available", "user") and not r[EXPERT_COLUMNS[f]]:
            continue
        now, wanted = getattr(m, f), values[f]
        if f == "specialties":
            now, wanted = sorted(now), sorted(wanted)
        if f in ("organisation", "user"):
            now = getattr(m, f"{f}_id")
            wanted = wanted.pk if wanted is not None else None
        if now != wanted:
            changes[f] = values[f]
    return changes


def experts_check(
    rows: Sequence[tuple[int, dict[str, str]]],
    scope: Sequence[str],
    report: ImportReport,
    name: str,
) -> list[Write]:
    kinds = _codes(lambda: ((k.value, str(k.label)) for k in Mediator.Kind))
    types = _codes(lambda: ((t.value, str(t.label)) for t in DisputeType))
    writes: list[Write] = []
    seen: dict[tuple[str, str], int] = {}
    for line, r in rows:
        kind = kinds.get(norm(r["kind"]), "")
        home = _region(r["region"])
        served = [_region(c) for c in _split(r["also_serves"])]
        specialties = [types.get(norm(s), "") for s in _split(r["specialties"])]
        orgs = list(
            MediationOrganisation.objects.filter(
                prefixes_q(scope), name=r["organisation"]
            )
        )
        user = User.objects.filter(username=r["username"]).first()
        problem = None
        if not r["name"] or len(r["name"]) > 60:
            problem = _("a name of 1 to 60 characters is required")
        elif not kind:
            problem = _("kind must be one of %(k)s") % {
                "k": ", ".join(Mediator.Kind.values)
            }
        elif home is None or None in served:
            problem = _("unknown region in %(c)s") % {
                "c": " ".join([r["region"], r["also_serves"]]).strip()
            }
        elif not covers(scope, home.region_code):
            problem = _("%(c)s is outside your scope") % {"c": r["region"]}
        elif "" in specialties:
            problem = _("unknown dispute type in %(s)s") % {"s": r["specialties"]}
        elif r["organisation"] and len(orgs) != 1:
            problem = _("no single organisation named %(o)s in your scope") % {
                "o": r["organisation"]
            }
        elif r["username"] and user is None:
            problem = _("unknown account %(u)s") % {"u": r["username"]}
        elif not (r["max_load"] or "10").isdigit() or not (
            1 <= int(r["max_load"] or "10") <= 1000
        ):
            problem = _("maximum open cases must be a whole number from 1 to 1000")
        elif r["available"] and _available(r["available"]) is None:
            problem = _("available must be 是 or 否, not %(v)s") % {"v": r["available"]}
        if problem:
            report.error(name, line, problem)
            continue
        assert home is not None
        key = (r["name"], home.region_code)
        if key in seen:
            report.error(name, line, _("same person as line %(n)s") % {"n": seen[key]})
            continue
        seen[key] = line
        values: dict[str, Any] = {
            "kind": kind,
            "regions": [home.region_code, *(g.region_code for g in served if g)],
            "specialties": specialties,
            "organisation": orgs[0] if orgs else None,
            "qualifications": r["qualifications"],
            "max_load": int(r["max_load"] or "10"),
            "available": _available(r["available"]) is not False,
            "user": user,
        }
        same = list(
            Mediator.objects.filter(name=r["name"], region_code=home.region_code)
        )
        if same:
            changes = [_member_changes(m, values, r) for m in same]
            if not all(changes):
                report.skipped += 1
            elif len(same) > 1:
                report.error(
                    name,
                    line,
                    _(
                        "several pool members are named %(n)s in %(c)s; "
                        "change them in the back office"
                    )
                    % {"n": r["name"], "c": home.region_code},
                )
            else:
                problem = _member_refusal(same[0], changes[0], scope, r)
                if problem:
                    report.error(name, line, problem)
                    continue

                def update(
                    actor: Any,
                    m: Mediator = same[0],
                    c: dict[str, Any] = changes[0],
                    g: Sequence[str] = scope,
                ) -> Any:
                    return disputes.mediator_update(
                        actor=actor, mediator=m, scope=g, **c
                    )

                columns = tuple(EXPERT_COLUMNS[f] for f in changes[0])
                writes.append(Write(line, UPDATED, update, columns))
            continue
        if not all(covers(scope, code) for code in values["regions"]):
            report.error(
                name, line, _("%(c)s is outside your scope") % {"c": r["also_serves"]}
            )
            continue
        if user is not None and Mediator.objects.filter(user=user).exists():
            report.error(
                name,
                line,
                _("account %(u)s already belongs to another pool member")
                % {"u": r["username"]},
            )
            continue

        def write(actor: Any, n: str = r["name"], v: dict[str, Any] = values) -> Any:
            return disputes.mediator_create(actor=actor, name=n, **v)

        writes.append(Write(line, CREATED, write))
    return writes


def _member_refusal(
    m: Mediator, changes: Mapping[str, Any], scope: Sequence[str], r: Mapping[str, str]
) -> str | None:
    """Why a row may not change this member: areas served (now or by the row)
    outside the importer's regions, an account replaced, or an account of another
    member. (An unchanged row is never refused: the export imports back.)"""
    if not all(
        covers(scope, code) for code in [*m.regions, *changes.get("regions", ())]
    ):
        return _(
            "%(n)s also serves areas outside your scope; change it in the back office"
        ) % {"n": r["name"]}
    user = changes.get("user")
    if "user" in changes and m.user_id is not None:
        return _("%(n)s has an account already; change it in the back office") % {
            "n": r["name"]
        }
    if (
        user is not None
        and Mediator.objects.filter(user=user).exclude(pk=m.pk).exists()
    ):
        return _("account %(u)s already belongs to another pool member") % {
            "u": r["username"]
        }
    return None
