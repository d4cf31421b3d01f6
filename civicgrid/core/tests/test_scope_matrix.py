"""Role × scope matrix of the REST API.

Every endpoint of ``civicgrid.urls.api_v1`` is asked by every kind of caller of the
``callers`` fixture, and each answer must have the status written in ``TABLE``. For
the 200 answers the body is checked too: a list holds nothing outside the caller's
scope (a region may also be an ancestor of the scope) and is not empty where the
caller has something to see; a detail is the object that was asked for.

Scopes (region-code prefixes): town_a 370303001 (车站街道), town_b 370303002
(公园街道), county and department 370303 (张店区), grid_worker its grid's 15-digit
code in town A, city 3703 (淄博市), superuser everything; anonymous callers and
citizens have none.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.urls import URLResolver, resolve
from rest_framework.test import APIClient

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role
from civicgrid.core.models import AuditRecord
from civicgrid.disputes.consultations import consultation_item_add, consultation_open
from civicgrid.disputes.services import case_intake
from civicgrid.disputes.tests.factories import parties as dispute_parties
from civicgrid.events.models import Event, SupervisionOrder, Whistle
from civicgrid.events.services import event_report
from civicgrid.regions.models import Grid, GridIndexVersion, Region
from civicgrid.registry.models import Household, Visit
from civicgrid.registry.services import household_collect, visit_record
from civicgrid.urls import api_v1

pytestmark = pytest.mark.django_db


API = "/api/v1/"
LIMIT = 1000  # lists are paginated (LimitOffsetPagination); one big page to inspect

PROVINCE, CITY, COUNTY, OTHER_COUNTY = "37", "3703", "370303", "370302"
TOWN_A, TOWN_B = "370303001", "370303002"  # 车站街道, 公园街道 of 张店区
PREFIX_LENGTHS = (2, 4, 6, 9, 12)

CALLERS = (
    "anonymous",
    "citizen",
    "town_a",
    "town_b",
    "county",
    "department",
    "grid_worker",
    "city",
    "superuser",
)


# --- the data the cases point at -------------------------------------------------


def first_grid(prefix: str, *, last: bool = False) -> str:
    grids = Grid.objects.filter(code__startswith=prefix).order_by(
        "-code" if last else "code"
    )
    code = grids.values_list("code", flat=True).first()
    assert code, f"no demo grid under {prefix}"
    return code


@dataclass(frozen=True)
class Refs:
    """Codes the cases point at, read from the session's demo grids."""

    grid_a: str  # the first grid of town A: the grid worker's own grid
    grid_a_other: str  # the last grid of town A: not the grid worker's
    grid_b: str  # the first grid of town B
    grid_other_county: str  # the first grid of 淄川区
    lon: float  # a point inside grid_a (so inside 张店区)
    lat: float
    event_a: str = ""  # an event in grid_a, reported by the citizen caller
    case_a: str = ""  # a dispute case of town A, registered by its center
    consultation_a: int = 0  # town A's consultation, case_a on its agenda
    household_a: int = 0  # a household of grid_a, its head's phone 13812345678
    visit_a: int = 0  # the grid worker's visit to it

    def scope(self, caller: str) -> list[str] | None:
        """The prefixes each caller should hold; None for anonymous."""
        return {
            "anonymous": None,
            "citizen": [],
            "town_a": [TOWN_A],
            "town_b": [TOWN_B],
            "county": [COUNTY],
            "department": [COUNTY],
            "grid_worker": [self.grid_a],
            "city": [CITY],
            "superuser": [""],
        }[caller]


# Departments besides the fixture's 张店区城市管理局 (370303): one in town A, one in
# the neighbouring county, one of the city, one of another city (济南市历下区).
EXTRA_DEPARTMENTS = {
    "车站街道综治中心": ("governance_center", TOWN_A),
    "淄川区公安分局": ("police", OTHER_COUNTY),
    "淄博市应急管理局": ("emergency", CITY),
    "历下区市场监督管理局": ("market", "370102"),
}
# Which departments each caller must see in the list (all of them on one page).
DEPARTMENTS_SEEN = {
    "town_a": {"车站街道综治中心"},
    "town_b": set(),
    "county": {"张店区城市管理局", "车站街道综治中心"},
    "department": {"张店区城市管理局", "车站街道综治中心"},
    "grid_worker": set(),
    "city": {
        "张店区城市管理局",
        "车站街道综治中心",
        "淄川区公安分局",
        "淄博市应急管理局",
    },
    "superuser": {"张店区城市管理局", *EXTRA_DEPARTMENTS},
}


@pytest.fixture
def refs(callers: dict[str, Any]) -> Refs:
    """The callers, EXTRA_DEPARTMENTS, and the codes the cases point at."""
    for name, (kind, prefix) in EXTRA_DEPARTMENTS.items():
        accounts.department_create(
            actor=None,
            name=name,
            kind=kind,
            region=Region.objects.get(region_code=prefix),
        )
    grid_a = first_grid(TOWN_A)
    point = Grid.objects.get(code=grid_a).geometry.representative_point()
    event, _ = event_report(
        actor=callers["citizen"].user,
        source="citizen_web",
        title="占道经营",
        description="人行道被摊位占满",
        lon=point.x,
        lat=point.y,
        reporter_phone="13812345678",
    )
    home, visit = registry_household_and_visit(callers["grid_worker"].user, grid_a)
    case_a = case_intake(
        actor=callers["town_a"].user,
        source="walk_in",
        region_code=TOWN_A,
        level="town",
        dispute_type="neighbours",
        title="相邻通行纠纷",
        narrative="院墙通道",
        parties=dispute_parties(),
    )
    consultation_a = consultation_open(
        actor=callers["town_a"].user,
        region=Region.objects.get(region_code=TOWN_A),
        held_on=date(2026, 11, 30),
        attendees=["政法委", "住建局"],
    )
    consultation_item_add(
        actor=callers["town_a"].user, consultation=consultation_a, case=case_a
    )
    return Refs(
        household_a=home,
        visit_a=visit,
        grid_a=grid_a,
        grid_a_other=first_grid(TOWN_A, last=True),
        grid_b=first_grid(TOWN_B),
        grid_other_county=first_grid(OTHER_COUNTY),
        lon=round(point.x, 7),
        lat=round(point.y, 7),
        event_a=event.code,
        case_a=case_a.code,
        consultation_a=consultation_a.pk,
    )


def registry_household_and_visit(worker: Any, grid_code: str) -> tuple[int, int]:
    collection, _ = household_collect(
        actor=worker,
        grid=Grid.objects.get(code=grid_code),
        fields={"address": "新华小区1号楼101"},
        persons=[{"name": "王建国", "phone": "13812345678", "relation": "head"}],
    )
    visit, _ = visit_record(actor=worker, household=collection.household)
    return collection.household_id, visit.pk


# --- independent expectations (plain ORM, not the product's selectors) ------------


def within(prefixes: list[str], code: str) -> bool:
    return any(code.startswith(p) for p in prefixes)


def ancestor_of_scope(prefixes: list[str], code: str) -> bool:
    return any(p.startswith(code) and p != code for p in prefixes)


def visible_regions_q(prefixes: list[str]) -> Q:
    """Regions inside one of the prefixes, or an ancestor of one of them."""
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(region_code__startswith=p)
        q |= Q(region_code__in=[p[:n] for n in PREFIX_LENGTHS if n < len(p)])
    return q


def within_q(prefixes: list[str], field: str) -> Q:
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(**{f"{field}__startswith": p})
    return q


def twelve(prefix: str) -> str:
    return prefix.ljust(12, "0")


# --- body checks: (refs, caller, scope, body) -> None ------------------------------

Check = Callable[[Refs, str, list[str], Any], None]


def page(body: Any) -> list[dict[str, Any]]:
    assert set(body) >= {"count", "results"}, body
    assert len(body["results"]) == min(body["count"], LIMIT)
    return body["results"]


def check_me(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Who am I: my scopes, my posts, and my phone number masked."""
    assert body["username"] == {
        "citizen": "citizen",
        "department": "dept",
        "grid_worker": "gridworker",
        "superuser": "root",
    }.get(caller, caller)
    assert body["scopes"] == scope
    assert body["phone"] == "138****5678"
    expected_posts = 0 if caller in ("citizen", "superuser") else 1
    assert len(body["posts"]) == expected_posts
    for post in body["posts"]:
        assert post["scope"] in scope


def check_departments(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Only departments inside the scope: a town officer sees its town's, not the
    county's; the county sees its own and its towns'; nobody sees another city's."""
    items = page(body)
    assert (
        body["count"]
        == Department.objects.filter(within_q(scope, "region_code")).count()
    )
    for item in items:
        assert within(scope, item["region_code"]), item
    assert {item["name"] for item in items} == DEPARTMENTS_SEEN[caller]


def _check_regions(scope: list[str], items: list[dict[str, Any]]) -> None:
    for item in items:
        prefix = item["prefix"]
        assert item["code"] == twelve(prefix), item
        assert within(scope, prefix) or ancestor_of_scope(scope, prefix), item


def check_regions(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """The scope's regions and its ancestors, nothing of a sibling."""
    items = page(body)
    assert body["count"] == Region.objects.filter(visible_regions_q(scope)).count()
    _check_regions(scope, items)
    codes = {item["prefix"] for item in items}
    if caller in ("town_a", "town_b", "county", "department", "grid_worker"):
        # small scopes fit on one page: the whole chain up to the province is there
        assert {PROVINCE, CITY, COUNTY} <= codes
        assert (TOWN_A in codes) is (caller != "town_b")
        assert (TOWN_B in codes) is (caller not in ("town_a", "grid_worker"))
        assert OTHER_COUNTY not in codes
    if caller == "grid_worker":
        assert refs.grid_a[:12] in codes  # its village


def check_regions_q(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Name search stays within the visible regions; a town officer finds its own
    街道 but not its neighbour."""
    items = page(body)
    assert body["count"] == (
        Region.objects.filter(visible_regions_q(scope), name__contains="街道").count()
    )
    assert items, "every staff caller sees at least one 街道"
    _check_regions(scope, items)
    for item in items:
        assert "街道" in item["name"], item
    codes = {item["prefix"] for item in items}
    if caller in ("town_a", "grid_worker", "county", "department"):
        assert TOWN_A in codes
    if caller in ("town_a", "grid_worker"):
        assert TOWN_B not in codes
    if caller == "town_b":
        assert TOWN_A not in codes and TOWN_B in codes


def check_region(code: str) -> Check:
    def check(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
        """The region asked for, with its prefix and parent."""
        assert body["code"] == code
        assert twelve(body["prefix"]) == code
        assert body["parent"] == Region.objects.get(code=code).parent_id
        assert within(scope, body["prefix"]) or ancestor_of_scope(scope, body["prefix"])

    return check


def check_children(parent: str) -> Check:
    def check(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
        """Children of the parent that are visible: a town officer sees only its
        own town under the county, the county sees all its towns."""
        items = page(body)
        _check_regions(scope, items)
        assert all(item["parent"] == twelve(parent) for item in items)
        codes = {item["code"] for item in items}
        everything = set(
            Region.objects.filter(parent_id=twelve(parent)).values_list(
                "code", flat=True
            )
        )
        assert everything, parent
        expected = {
            "town_a": {twelve(TOWN_A)},
            "town_b": {twelve(TOWN_B)},
            "grid_worker": {twelve(TOWN_A)},
        }.get(caller, everything)
        assert codes == expected

    return check


def check_ancestors(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Town A's chain from the province down to its county."""
    assert [(r["code"], r["level"]) for r in body] == [
        (twelve(PROVINCE), "province"),
        (twelve(CITY), "city"),
        (twelve(COUNTY), "county"),
    ]


def check_coverage(prefix: str) -> Check:
    def check(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
        """A coverage report of exactly that region's grids."""
        assert within(scope, prefix)
        assert body["code"] == twelve(prefix) and body["prefix"] == prefix
        assert (
            body["grid_count"] == Grid.objects.filter(code__startswith=prefix).count()
        )
        assert body["grid_count"] > 0
        assert "ok" in body

    return check


def _grids_page(scope: list[str], body: Any, narrow: str = "") -> set[str]:
    items = page(body)
    expected = Grid.objects.filter(within_q(scope, "code"), code__startswith=narrow)
    assert body["count"] == expected.count()
    for item in items:
        assert within(scope, item["code"]), item
        assert item["code"].startswith(narrow), item
        assert item["code"].startswith(item["village"]), item
    return {item["code"] for item in items}


def check_grids(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Only grids under a scope prefix; a town officer sees all its town's grids."""
    codes = _grids_page(scope, body)
    assert codes, "every staff caller sees at least one grid"
    if caller == "grid_worker":
        assert codes == {refs.grid_a}
    if caller == "town_a":
        town = set(
            Grid.objects.filter(code__startswith=TOWN_A).values_list("code", flat=True)
        )
        assert codes == town
        assert {refs.grid_a, refs.grid_a_other} <= codes
    if caller == "town_b":
        assert refs.grid_b in codes
        assert not any(c.startswith(TOWN_A) for c in codes)


def check_grids_in_town_b(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """``?region=`` narrows within the scope, never widens it: town A's officer and
    the grid worker get an empty list, town B's officer and above get town B's."""
    codes = _grids_page(scope, body, narrow=TOWN_B)
    if caller in ("town_a", "grid_worker"):
        assert body["count"] == 0
    else:
        assert refs.grid_b in codes


def check_grids_in_city(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """A ``?region=`` wider than the scope does not widen it."""
    codes = _grids_page(scope, body, narrow=CITY)
    assert codes
    if caller == "grid_worker":
        assert codes == {refs.grid_a}
    if caller in ("town_a", "town_b"):
        assert all(c.startswith(scope[0]) for c in codes)


def check_grid(attr: str) -> Check:
    def check(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
        """The grid asked for, with its boundary."""
        code = getattr(refs, attr)
        assert body["code"] == code
        assert within(scope, body["code"])
        assert body["village"] == code[:12]
        assert body["geometry"]["type"] in ("Polygon", "MultiPolygon")

    return check


def check_import_refused_as_bad(
    refs: Refs, caller: str, scope: list[str], body: Any
) -> None:
    """An allowed caller's bad upload is reported, and nothing is imported."""
    assert body["errors"], body


def check_locate(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """The grid holding the point and its chain from the province to the village."""
    assert body["grid"]["code"] == refs.grid_a
    assert [r["code"] for r in body["regions"]] == [
        twelve(PROVINCE),
        twelve(CITY),
        twelve(COUNTY),
        twelve(TOWN_A),
        refs.grid_a[:12],
    ]


def check_events(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Events of the caller's area, the ones they reported, or (department staff) the
    ones assigned to their department: here only the citizen's report in town A."""
    codes = {e["code"] for e in page(body)}
    sees_a = caller in {
        "citizen",
        "town_a",
        "county",
        "grid_worker",
        "city",
        "superuser",
    }
    assert (refs.event_a in codes) == sees_a, codes
    for item in page(body):
        if caller != "citizen":
            assert within(scope, item["region_code"]) or caller == "department", item
        assert "13812345678" not in str(item)


def check_event(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """The event with its timeline; the reporter's phone masked."""
    assert body["code"] == refs.event_a
    assert body["reporter_phone"] == "138****5678"
    assert [a["transition"] for a in body["timeline"]] == ["report"]


def check_stale_action(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Never reached: a stale version is a 409 (checked by its status)."""


def check_routing(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    assert isinstance(body, list)


def check_bad_public_report(
    refs: Refs, caller: str, scope: list[str], body: Any
) -> None:
    """An empty report is refused field by field, and nothing is written."""
    assert "title" in body and Event.objects.count() == 1


def check_refused_as_empty(
    refs: Refs, caller: str, scope: list[str], body: Any
) -> None:
    """An empty whistle or supervision order is refused field by field; nothing written."""
    assert (
        body and not Whistle.objects.exists() and not SupervisionOrder.objects.exists()
    )


def check_reveal_refused(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """A reveal without a reason is refused, and nothing is revealed nor audited."""
    assert "reason" in body
    assert not AuditRecord.objects.filter(action="personal_data.reveal").exists()


def check_inbox(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Only the caller's own messages."""
    assert all("text" in n for n in page(body))


def check_stats(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Figures over the caller's events only."""
    sees_a = caller in {"town_a", "county", "grid_worker", "city", "superuser"}
    assert body["events"] == (1 if sees_a else 0), body


def check_schema(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """The OpenAPI document names the API's paths."""
    text = body.decode()
    assert "openapi:" in text
    assert "/api/v1/grids/" in text


def check_docs(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Swagger UI, served from our own static files."""
    assert b"swagger" in body.lower()


def check_pi_in_scope(key: str) -> Check:
    """A peace-index list (``key`` of the body, or the body) within the scope."""

    def check(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
        rows = body[key] if key else body
        assert isinstance(rows, list)
        for row in rows:
            assert within(scope, row["region_code"]), row

    return check


def check_pi_import_refused(
    refs: Refs, caller: str, scope: list[str], body: Any
) -> None:
    from civicgrid.peace_index.models import MonthlyCount

    assert body and not MonthlyCount.objects.exists()


def check_pi_map(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    assert body["type"] == "FeatureCollection" and body["features"]
    assert all(f["properties"]["code"].startswith(COUNTY) for f in body["features"])


def check_disputes(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Dispute cases of the scope only (a grid worker: its village's and town's);
    department staff see none; parties' phones never show."""
    codes = {c["code"] for c in page(body)}
    sees_a = caller in {"town_a", "county", "grid_worker", "city", "superuser"}
    assert (refs.case_a in codes) == sees_a, codes
    for item in page(body):
        code = item["region_code"]
        assert within(scope, code) or ancestor_of_scope(scope, code), item


def check_dispute(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """The case with its masked parties and its timeline."""
    assert body["code"] == refs.case_a
    assert body["parties"][0]["phone"] == "138****5678"
    assert [a["transition"] for a in body["timeline"]] == ["register"]


def check_dispute_proposal(key: str) -> Check:
    def check(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
        """A proposal for the case (no organisation or mediator exists here)."""
        assert key in body

    return check


def check_dispute_refused(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """An empty or bad request (recusal, leader, subsidy, attachment, rating) is refused;
    nothing is written."""
    from civicgrid.disputes.models import Case as DisputeCase
    from civicgrid.disputes.models import (
        CaseAttachment,
        MediatorRating,
        Recusal,
        Subsidy,
    )

    assert body and not Recusal.objects.exists() and not Subsidy.objects.exists()
    assert not MediatorRating.objects.exists()
    assert not CaseAttachment.objects.exists()
    assert not DisputeCase.objects.exclude(leader=None).exists()


def check_dispute_rows(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Registry rows of the scope or of an area above it."""
    for row in page(body):
        code = row["region_code"]
        assert within(scope, code) or ancestor_of_scope(scope, code), row


def check_dispute_stats(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Figures over the caller's cases only."""
    sees_a = caller in {"town_a", "county", "grid_worker", "city", "superuser"}
    assert body["cases"] == (1 if sees_a else 0), body


def check_consultation(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Town A's consultation with case A on its agenda."""
    assert body["id"] == refs.consultation_a
    assert [i["case"] for i in body["items"]] == [refs.case_a]


def check_consultation_kept(
    refs: Refs, caller: str, scope: list[str], body: Any
) -> None:
    """An empty agenda case, decision or list of units is refused; nothing changed."""
    from civicgrid.disputes.models import Consultation

    c = Consultation.objects.get(pk=refs.consultation_a)
    assert body and c.attendees == ["政法委", "住建局"]
    assert [(i.case.code, i.decision) for i in c.items.all()] == [(refs.case_a, "")]


def check_dispute_budget(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """淄博's budget (the default) and what is granted; only the city sets it."""
    assert body["city"] == CITY and body["budget"] == "1500000.00"
    assert body["may_set"] == (caller in {"city", "superuser"})


def check_budget_kept(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    from civicgrid.disputes.models import SubsidyBudget

    assert body and not SubsidyBudget.objects.exists()


def check_dispute_ledger(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """An Excel workbook (a zip file)."""
    assert body[:2] == b"PK"


REGISTRY_SEES_A = {"town_a", "county", "grid_worker", "city", "superuser"}


def check_registry_rows(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Households or visits of the scope only; the grid's team and its centers see
    household A's."""
    rows = page(body)
    for row in rows:
        assert within(scope, row["region_code"]), row
    ids = {row.get("household", row["id"]) for row in rows}
    assert (refs.household_a in ids) == (caller in REGISTRY_SEES_A), ids


def check_household(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    """Household A with its head masked and its visit."""
    assert body["id"] == refs.household_a
    assert body["persons"][0]["name"] == "王**"
    assert body["persons"][0]["phone"] == "138****5678"
    assert [v["id"] for v in body["visits"]] == [refs.visit_a]


def check_visit(refs: Refs, caller: str, scope: list[str], body: Any) -> None:
    assert body["id"] == refs.visit_a and body["household"] == refs.household_a


def check_registry_refused(
    refs: Refs, caller: str, scope: list[str], body: Any
) -> None:
    """An empty collection or visit is refused field by field; nothing written."""
    assert body and Household.objects.count() == 1 and Visit.objects.count() == 1


# --- the cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    url_name: str  # the api_v1 pattern it exercises
    path: str  # below /api/v1/; {placeholders} are filled from Refs
    check: Check
    method: str = "get"
    raw: bool = False  # the body is not JSON (schema, docs)


def bad_upload() -> dict[str, Any]:
    """Not GeoJSON at all: an allowed caller gets 400, and nothing is written."""
    return {
        "file": SimpleUploadedFile(
            "bad.geojson", b"not json", content_type="application/geo+json"
        ),
        "crs": "wgs84",
    }


L = f"limit={LIMIT}"
CASES: dict[str, Case] = {
    "me": Case("me", "me/", check_me),
    "departments": Case("department-list", f"departments/?{L}", check_departments),
    "regions": Case("region-list", f"regions/?{L}", check_regions),
    "regions_q": Case("region-list", f"regions/?q=街道&{L}", check_regions_q),
    "region_town_a": Case(
        "region-detail", "regions/370303001000/", check_region("370303001000")
    ),
    "region_town_a_prefix": Case(
        "region-detail", "regions/370303001/", check_region("370303001000")
    ),
    "region_town_b": Case(
        "region-detail", "regions/370303002000/", check_region("370303002000")
    ),
    "region_county": Case(
        "region-detail", "regions/370303000000/", check_region("370303000000")
    ),
    "region_other_county": Case(
        "region-detail", "regions/370302000000/", check_region("370302000000")
    ),
    "region_unknown": Case(
        "region-detail", "regions/379999000000/", check_region("379999000000")
    ),
    "children_county": Case(
        "region-children",
        f"regions/370303000000/children/?{L}",
        check_children(COUNTY),
    ),
    "children_other_county": Case(
        "region-children",
        f"regions/370302000000/children/?{L}",
        check_children(OTHER_COUNTY),
    ),
    "ancestors_town_a": Case(
        "region-ancestors", "regions/370303001000/ancestors/", check_ancestors
    ),
    "coverage_town_a": Case(
        "region-coverage", "regions/370303001000/coverage/", check_coverage(TOWN_A)
    ),
    "coverage_county": Case(
        "region-coverage", "regions/370303000000/coverage/", check_coverage(COUNTY)
    ),
    "coverage_city": Case(
        "region-coverage", "regions/370300000000/coverage/", check_coverage(CITY)
    ),
    "grids": Case("grid-list", f"grids/?{L}", check_grids),
    "grids_in_town_b": Case(
        "grid-list", f"grids/?region={TOWN_B}&{L}", check_grids_in_town_b
    ),
    "grids_in_city": Case(
        "grid-list", f"grids/?region={CITY}&{L}", check_grids_in_city
    ),
    "grid_a": Case("grid-detail", "grids/{grid_a}/", check_grid("grid_a")),
    "grid_a_other": Case(
        "grid-detail", "grids/{grid_a_other}/", check_grid("grid_a_other")
    ),
    "grid_b": Case("grid-detail", "grids/{grid_b}/", check_grid("grid_b")),
    "grid_other_county": Case(
        "grid-detail", "grids/{grid_other_county}/", check_grid("grid_other_county")
    ),
    "grid_import": Case(
        "grid-import", "grids/import/", check_import_refused_as_bad, method="post"
    ),
    "locate": Case("locate", "locate?lon={lon}&lat={lat}", check_locate),
    "events": Case("event-list", f"events/?{L}", check_events),
    "event_a": Case("event-detail", "events/{event_a}/", check_event),
    "event_a_stale_action": Case(
        "event-action", "events/{event_a}/actions/", check_stale_action, method="act"
    ),
    "event_routing": Case(
        "event-routing", "events/routing/?text=占道经营", check_routing
    ),
    "public_report": Case(
        "public-report", "public/reports/", check_bad_public_report, method="empty"
    ),
    "public_track": Case(
        "public-track", "public/reports/{event_a}/?token=wrong", check_stale_action
    ),
    "event_stats": Case("event-stats", "events/stats/", check_stats),
    "reveal_no_reason": Case(
        "personal-reveal", "personal-data/reveal/", check_reveal_refused, "reveal"
    ),
    "event_duplicates": Case(
        "event-duplicates", "events/{event_a}/duplicates/", check_routing
    ),
    "event_whistle": Case(
        "event-whistle",
        "events/{event_a}/whistles/",
        check_refused_as_empty,
        method="empty",
    ),
    "event_supervision": Case(
        "event-supervision",
        "events/{event_a}/supervision/",
        check_refused_as_empty,
        method="empty",
    ),
    "whistle_check_in": Case(
        "whistle-check-in",
        "whistle-calls/999999/check-in/",
        check_stale_action,
        method="empty",
    ),
    "supervision_answer": Case(
        "supervision-answer",
        "supervision/999999/answer/",
        check_stale_action,
        method="empty",
    ),
    "inbox": Case("inbox", f"inbox/?{L}", check_inbox),
    "inbox_read": Case(
        "inbox-read", "inbox/999999/read/", check_stale_action, method="empty"
    ),
    "schema": Case("schema", "schema/", check_schema, raw=True),
    "docs": Case("docs", "docs/", check_docs, raw=True),
    # peace index (civicgrid.peace_index.api_urls); no month is published here
    "pi_published": Case(
        "peace-index-published",
        "peace-index/published/370300000000/",
        check_pi_in_scope("children"),
    ),
    "pi_results": Case(
        "peace-index-results", "peace-index/results/", check_pi_in_scope("results")
    ),
    "pi_runs": Case("peace-index-runs", "peace-index/runs/", check_pi_in_scope("")),
    "pi_import": Case(
        "peace-index-import",
        "peace-index/counts/import/",
        check_pi_import_refused,
        method="post",
    ),
    "pi_rectifications": Case(
        "peace-index-rectifications",
        "peace-index/rectifications/",
        check_pi_in_scope(""),
    ),
    "pi_rectification": Case(
        "peace-index-rectification",
        "peace-index/rectifications/999999/",
        check_pi_in_scope(""),
    ),
    "pi_rectification_close": Case(
        "peace-index-rectification-close",
        "peace-index/rectifications/999999/close/",
        check_pi_in_scope(""),
        method="empty",
    ),
    "pi_notices": Case(
        "peace-index-notices", "peace-index/notices/", check_pi_in_scope("")
    ),
    "pi_report_list": Case(
        "peace-index-report-list", "peace-index/reports/", check_pi_in_scope("")
    ),
    "pi_report": Case(
        "peace-index-report",
        "peace-index/reports/370303001000/2026-03/",
        check_pi_in_scope(""),
    ),
    "pi_map": Case("peace-index-map", "peace-index/map/370303000000/", check_pi_map),
    # disputes (civicgrid.disputes.api_urls)
    "disputes": Case("dispute-case-list", f"disputes/cases/?{L}", check_disputes),
    "dispute_a": Case("dispute-case-detail", "disputes/cases/{case_a}/", check_dispute),
    "dispute_a_stale_step": Case(
        "dispute-case-step",
        "disputes/cases/{case_a}/steps/",
        check_stale_action,
        method="act",
    ),
    "dispute_diversion": Case(
        "dispute-case-diversion",
        "disputes/cases/{case_a}/diversion/",
        check_dispute_proposal("channel"),
    ),
    "dispute_experts": Case(
        "dispute-case-experts",
        "disputes/cases/{case_a}/experts/",
        check_dispute_proposal("suggested"),
    ),
    "dispute_recusal": Case(
        "dispute-case-recusal",
        "disputes/cases/{case_a}/recusals/",
        check_dispute_refused,
        method="empty",
    ),
    "dispute_leader": Case(
        "dispute-case-leader",
        "disputes/cases/{case_a}/leader/",
        check_dispute_refused,
        method="empty",
    ),
    "dispute_subsidy": Case(
        "dispute-case-subsidy",
        "disputes/cases/{case_a}/subsidy/",
        check_dispute_refused,
        method="empty",
    ),
    "dispute_attachment": Case(
        "dispute-case-attachments",
        "disputes/cases/{case_a}/attachments/",
        check_dispute_refused,
        method="post",
    ),
    "dispute_attachment_get": Case(
        "dispute-case-attachment",
        "disputes/cases/{case_a}/attachments/999999/",
        check_dispute_refused,
    ),
    "dispute_rating": Case(
        "dispute-case-rating",
        "disputes/cases/{case_a}/ratings/",
        check_dispute_refused,
        method="empty",
    ),
    "dispute_organisations": Case(
        "dispute-organisation-list",
        f"disputes/organisations/?{L}",
        check_dispute_rows,
    ),
    "dispute_mediators": Case(
        "dispute-mediator-list", f"disputes/mediators/?{L}", check_dispute_rows
    ),
    "dispute_consultations": Case(
        "dispute-consultation-list",
        f"disputes/consultations/?{L}",
        check_dispute_rows,
    ),
    "dispute_consultation_empty": Case(
        "dispute-consultation-list",
        "disputes/consultations/",
        check_dispute_refused,
        method="empty",
    ),
    "dispute_consultation_a": Case(
        "dispute-consultation-detail",
        "disputes/consultations/{consultation_a}/",
        check_consultation,
    ),
    "dispute_consultation_item": Case(
        "dispute-consultation-items",
        "disputes/consultations/{consultation_a}/items/",
        check_consultation_kept,
        method="empty",
    ),
    "dispute_consultation_decision": Case(
        "dispute-consultation-decision",
        "disputes/consultations/{consultation_a}/items/{case_a}/decision/",
        check_consultation_kept,
        method="empty",
    ),
    "dispute_consultation_follow_up": Case(
        "dispute-consultation-follow-up",
        "disputes/consultations/{consultation_a}/items/{case_a}/follow-up/",
        check_consultation_kept,
        method="empty",
    ),
    "dispute_consultation_units": Case(
        "dispute-consultation-attendees",
        "disputes/consultations/{consultation_a}/attendees/",
        check_consultation_kept,
        method="put_empty",
    ),
    "dispute_budget": Case(
        "dispute-subsidy-budget",
        f"disputes/subsidies/budget/?city={CITY}",
        check_dispute_budget,
    ),
    "dispute_budget_empty": Case(
        "dispute-subsidy-budget",
        "disputes/subsidies/budget/",
        check_budget_kept,
        method="put_empty",
    ),
    "dispute_stats": Case("dispute-stats", "disputes/stats/", check_dispute_stats),
    "dispute_ledger": Case(
        "dispute-subsidy-ledger",
        "disputes/subsidies/ledger/",
        check_dispute_ledger,
        raw=True,
    ),
    # registry (civicgrid.registry.api_urls)
    "registry_households": Case(
        "registry-household-list", f"registry/households/?{L}", check_registry_rows
    ),
    "registry_household_a": Case(
        "registry-household-detail",
        "registry/households/{household_a}/",
        check_household,
    ),
    "registry_import": Case(
        "registry-household-import",
        "registry/households/import/",
        check_import_refused_as_bad,
        method="post",
    ),
    "registry_collection_empty": Case(
        "registry-collection-create",
        "registry/collections/",
        check_registry_refused,
        method="empty",
    ),
    "registry_visits": Case(
        "registry-visit-list", f"registry/visits/?{L}", check_registry_rows
    ),
    "registry_visit_a": Case(
        "registry-visit-detail", "registry/visits/{visit_a}/", check_visit
    ),
    "registry_visit_empty": Case(
        "registry-visit-list",
        "registry/visits/",
        check_registry_refused,
        method="empty",
    ),
}

# The expected status of every case for every caller. Anonymous callers get 403,
# not 401: the first authenticator (SessionAuthentication) sends no WWW-Authenticate
# challenge, so DRF turns "not authenticated" into 403. locate, schema and docs are
# public (AllowAny; drf-spectacular's SERVE_PERMISSIONS default).
# fmt: off
TABLE: dict[str, tuple[int, ...]] = {
    #                         anon  citz  twnA  twnB  cnty  dept  grdw  city  root
    "me":                     (403,  200,  200,  200,  200,  200,  200,  200,  200),
    "departments":            (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "regions":                (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "regions_q":              (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "region_town_a":          (403,  403,  200,  404,  200,  200,  200,  200,  200),
    "region_town_a_prefix":   (403,  403,  200,  404,  200,  200,  200,  200,  200),
    "region_town_b":          (403,  403,  404,  200,  200,  200,  404,  200,  200),
    "region_county":          (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "region_other_county":    (403,  403,  404,  404,  404,  404,  404,  200,  200),
    "region_unknown":         (403,  403,  404,  404,  404,  404,  404,  404,  404),
    "children_county":        (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "children_other_county":  (403,  403,  404,  404,  404,  404,  404,  200,  200),
    "ancestors_town_a":       (403,  403,  200,  404,  200,  200,  200,  200,  200),
    "coverage_town_a":        (403,  403,  200,  404,  200,  200,  403,  200,  200),
    "coverage_county":        (403,  403,  403,  403,  200,  200,  403,  200,  200),
    "coverage_city":          (403,  403,  403,  403,  403,  403,  403,  200,  200),
    "grids":                  (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "grids_in_town_b":        (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "grids_in_city":          (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "grid_a":                 (403,  403,  200,  404,  200,  200,  200,  200,  200),
    "grid_a_other":           (403,  403,  200,  404,  200,  200,  404,  200,  200),
    "grid_b":                 (403,  403,  404,  200,  200,  200,  404,  200,  200),
    "grid_other_county":      (403,  403,  404,  404,  404,  404,  404,  200,  200),
    "grid_import":            (403,  403,  403,  403,  403,  403,  403,  403,  400),
    "locate":                 (200,  200,  200,  200,  200,  200,  200,  200,  200),
    "events":                 (403,  200,  200,  200,  200,  200,  200,  200,  200),
    "event_a":                (403,  200,  200,  404,  200,  404,  200,  200,  200),
    "event_a_stale_action":   (403,  409,  409,  404,  409,  404,  409,  409,  409),
    "event_routing":          (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "public_report":          (400,  400,  400,  400,  400,  400,  400,  400,  400),
    "public_track":           (404,  404,  404,  404,  404,  404,  404,  404,  404),
    "event_stats":            (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "reveal_no_reason":       (403,  403,  400,  404,  400,  403,  400,  400,  400),
    "event_duplicates":       (403,  403,  200,  404,  200,  404,  200,  200,  200),
    "event_whistle":          (403,  403,  400,  404,  400,  404,  400,  400,  400),
    "event_supervision":      (403,  403,  400,  404,  400,  404,  400,  400,  400),
    "whistle_check_in":       (403,  403,  404,  404,  404,  404,  404,  404,  404),
    "supervision_answer":     (403,  403,  404,  404,  404,  404,  404,  404,  404),
    "inbox":                  (403,  200,  200,  200,  200,  200,  200,  200,  200),
    "inbox_read":             (403,  404,  404,  404,  404,  404,  404,  404,  404),
    "schema":                 (200,  200,  200,  200,  200,  200,  200,  200,  200),
    "docs":                   (200,  200,  200,  200,  200,  200,  200,  200,  200),
    "pi_published":           (404,  404,  404,  404,  404,  404,  404,  404,  404),
    "pi_results":             (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "pi_runs":                (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "pi_import":              (403,  403,  400,  400,  400,  400,  403,  400,  400),
    "pi_rectifications":      (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "pi_rectification":       (403,  403,  404,  404,  404,  404,  404,  404,  404),
    "pi_rectification_close": (403,  403,  404,  404,  404,  403,  403,  404,  404),
    "pi_notices":             (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "pi_report_list":         (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "pi_report":              (403,  403,  404,  404,  404,  404,  404,  404,  404),
    "pi_map":                 (403,  403,  404,  404,  200,  200,  404,  200,  200),
    "disputes":               (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "dispute_a":              (403,  403,  200,  404,  200,  404,  200,  200,  200),
    "dispute_a_stale_step":   (403,  403,  409,  404,  409,  404,  409,  409,  409),
    "dispute_diversion":      (403,  403,  200,  404,  200,  403,  403,  200,  200),
    "dispute_experts":        (403,  403,  200,  404,  200,  403,  403,  200,  200),
    "dispute_recusal":        (403,  403,  400,  404,  400,  403,  403,  400,  400),
    "dispute_leader":         (403,  403,  400,  404,  400,  403,  403,  400,  400),
    "dispute_subsidy":        (403,  403,  400,  404,  400,  403,  403,  400,  400),
    "dispute_attachment":     (403,  403,  400,  404,  400,  404,  403,  400,  400),
    "dispute_attachment_get": (403, 403,  404,  404,  404,  404,  403,  404,  404),
    "dispute_rating":         (403,  403,  400,  404,  400,  403,  403,  400,  400),
    "dispute_organisations":  (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "dispute_mediators":      (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "dispute_consultations":  (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "dispute_consultation_empty": (403, 403, 400, 400, 400, 403, 403, 400, 400),
    "dispute_consultation_a": (403,  403,  200,  404,  200,  200,  404,  200,  200),
    "dispute_consultation_item": (403, 403, 400,  404,  400,  403,  403,  400,  400),
    "dispute_consultation_decision": (403, 403, 400, 404, 400, 403, 403, 400, 400),
    "dispute_consultation_follow_up": (403, 403, 400, 404, 400, 403, 404, 400, 400),
    "dispute_consultation_units": (403, 403, 400, 404,  400,  403,  403,  400,  400),
    "dispute_budget":         (403,  403,  200,  200,  200,  403,  403,  200,  200),
    "dispute_budget_empty":   (403,  403,  403,  403,  403,  403,  403,  400,  400),
    "dispute_stats":          (403,  403,  200,  200,  200,  200,  200,  200,  200),
    "dispute_ledger":         (403,  403,  200,  200,  200,  403,  403,  200,  200),
    "registry_households":    (403,  403,  200,  200,  200,  403,  200,  200,  200),
    "registry_household_a":   (403,  403,  200,  404,  200,  403,  200,  200,  200),
    "registry_import":        (403,  403,  400,  400,  400,  403,  400,  400,  400),
    "registry_collection_empty": (403, 403, 400, 400, 400, 403, 400, 400, 400),
    "registry_visits":        (403,  403,  200,  200,  200,  403,  200,  200,  200),
    "registry_visit_a":       (403,  403,  200,  404,  200,  403,  200,  200,  200),
    "registry_visit_empty":   (403,  403,  400,  400,  400,  403,  400,  400,  400),
}
# fmt: on

EXPECTED: dict[tuple[str, str], int] = {
    (case, caller): status
    for case, row in TABLE.items()
    for caller, status in zip(CALLERS, row, strict=True)
}


def _url(case: Case, refs: Refs) -> str:
    return API + case.path.format(**vars(refs))


def _call(caller: Any, case: Case, url: str, refs: Refs) -> Any:
    if case.method == "post":
        return caller.client.post(url, bad_upload(), format="multipart")
    if case.method == "act":  # a step on a version nobody has seen: never applied
        return caller.client.post(
            url, {"transition": "accept", "version": 999}, format="json"
        )
    if case.method == "empty":
        return caller.client.post(url, {}, format="json")
    if case.method == "put_empty":
        return caller.client.put(url, {}, format="json")
    if case.method == "reveal":  # event A's phone, without a reason: never revealed
        body = {"object": "events.event", "id": refs.event_a, "field": "reporter_phone"}
        return caller.client.post(url, body, format="json")
    return caller.client.get(url)


def _grid_state() -> tuple[int, list[tuple[str, str]]]:
    return Grid.objects.count(), list(
        GridIndexVersion.objects.order_by("city_code").values_list(
            "city_code", "version"
        )
    )


@pytest.mark.parametrize(
    ("case_name", "caller_name"),
    list(EXPECTED),
    ids=[f"{case}-{caller}" for case, caller in EXPECTED],
)
def test_scope_matrix(
    callers: dict[str, Any], refs: Refs, case_name: str, caller_name: str
) -> None:
    """Each caller gets the status of TABLE from each endpoint, and a 200 body holds
    only what lies in the caller's scope (or names the scope's ancestors)."""
    # given: a caller, an endpoint case, and a phone number that must never show
    caller = callers[caller_name]
    case = CASES[case_name]
    if caller.user is not None:
        caller.user.phone = "13812345678"
        caller.user.save()
    url = _url(case, refs)
    before = _grid_state()
    cache.clear()  # locate's throttle counts in the cache: start every case afresh

    # when
    response = _call(caller, case, url, refs)

    # then: the status of the table
    expected = EXPECTED[(case_name, caller_name)]
    assert response.status_code == expected, (url, response.content[:500])
    assert b"13812345678" not in response.content
    assert _grid_state() == before, "no request of the matrix may change grids"
    if expected == 200:
        scope = refs.scope(caller_name)
        body = response.content if case.raw else response.json()
        case.check(refs, caller_name, scope if scope is not None else [], body)
    elif expected == 409:
        body = response.json()
        if "case" in body:  # a dispute case
            assert body["case"]["state"] == "registered"
        else:
            assert body["event"]["state"] == "reported"
    elif expected == 400:
        case.check(refs, caller_name, refs.scope(caller_name) or [], response.json())
    else:
        assert "detail" in response.json()


# --- the matrix itself ----------------------------------------------------------------


def _endpoints(patterns: list[Any]) -> list[Any]:
    """The URL patterns of api_v1, those of included modules too."""
    out = []
    for p in patterns:
        out.extend(_endpoints(p.url_patterns) if isinstance(p, URLResolver) else [p])
    return out


def _pattern_names(patterns: Any) -> list[str | None]:
    """Names of the URL patterns, those of included modules too."""
    names: list[str | None] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            names.extend(_pattern_names(p.url_patterns))
        else:
            names.append(p.name)
    return names


def test_matrix_covers_every_api_endpoint() -> None:
    """Every URL pattern of api_v1 has at least one case, and no case names a pattern
    that does not exist: a new endpoint without matrix rows fails here."""
    patterns = {p.name for p in _endpoints(api_v1)}
    assert None not in patterns, "every api_v1 pattern needs a name"
    covered = {case.url_name for case in CASES.values()}
    assert covered == patterns, {
        "without cases": patterns - covered,
        "unknown": covered - patterns,
    }


def test_matrix_table_is_complete(callers: dict[str, Any]) -> None:
    """The table has one row per case and one column per caller of the fixture."""
    assert set(TABLE) == set(CASES)
    assert tuple(callers) == CALLERS
    assert len(EXPECTED) == len(CASES) * len(CALLERS)


def test_every_case_resolves_to_its_endpoint(refs: Refs) -> None:
    """Each case's URL is routed to the pattern it claims to exercise."""
    for name, case in CASES.items():
        path = _url(case, refs).split("?")[0]
        assert resolve(path).url_name == case.url_name, name


def test_callers_hold_the_expected_scopes(callers: dict[str, Any], refs: Refs) -> None:
    """The fixture's callers have the scopes the matrix assumes."""
    for name, caller in callers.items():
        if caller.user is None:
            continue
        assert caller.user.scope_prefixes == refs.scope(name), name


def test_sysadmin_may_import_grids(make_staff: Any) -> None:
    """A system administrator passes the role check of the grid import: a bad upload
    is answered 400 with its errors, and no grid is written."""
    # given
    client = APIClient()
    client.force_authenticate(make_staff("sysadmin", Role.SYSADMIN, region=CITY))
    before = _grid_state()

    # when
    response = client.post(API + "grids/import/", bad_upload(), format="multipart")

    # then
    assert response.status_code == 400, response.content[:500]
    assert response.json()["errors"]
    assert _grid_state() == before
